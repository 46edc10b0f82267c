"""What sync hands to the apps below it once its models are loaded: the job planner for billing's
changes, the 360's links into each tool, its queue kinds, a customer's sync state and the rows
that move with a merge."""

from auditlog.registry import auditlog

from billing.consumers import billing_consumer_register
from customers import hooks
from customers.links import record_urls_from
from customers.notes import note_consumer_register, note_crm_states_from
from sync import queue_items, selectors
from sync.models import MappingRule, SyncJob, SystemState
from sync.notes import note_crm_states, note_job_write
from sync.providers import record_url
from sync.services.outbox import jobs_for_billing_change


def register() -> None:
    auditlog.register(SyncJob, exclude_fields=["lease_expires_at", "lease_owner", "updated_at"])
    auditlog.register(SystemState)
    auditlog.register(MappingRule)
    billing_consumer_register(name="sync.jobs", consumer=jobs_for_billing_change)
    record_urls_from(record_url)  # the 360 links each record to its page in the tool
    queue_items.register()
    hooks.register_sync_state(flags=selectors.customer_job_flags, per_system=selectors.customer_sync_state)
    hooks.register_merge_rows(SyncJob)
    note_consumer_register(name="sync.crm_note", consumer=note_job_write)  # each note goes to the CRM
    note_crm_states_from(note_crm_states)  # and the 360 shows where it stands there
