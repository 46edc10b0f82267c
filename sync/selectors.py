"""Reads that feed the sync screens: the job log, a job's attempts, the systems' switches."""

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Exists, Max, OuterRef, QuerySet

from audit.context import current_correlation_id
from audit.models import AuditEvent
from customers.models import Customer, System
from customers.selectors import SyncState
from customers.visibility import visible_through_customer
from sync.models import OPEN_JOB_STATUSES, JobStatus, SyncJob
from sync.services.control import ALL, system_states

# The job log's customer filter for jobs of no customer yet.
NO_CUSTOMER = "none"
OUTBOUND_SYSTEMS = [value for value, _ in System.choices if value != System.STRIPE]
# Who may retry what: finance works on the billing consequences, support on the support desk.
_BILLING_SYNC_SYSTEMS = {System.CRM, System.COMMUNITY, System.EMAIL}
_SUPPORT_SYNC_SYSTEMS = {System.SUPPORT}


def retryable_systems(user) -> set[str]:
    if user.has_perm("sync.retry_job"):
        return set(OUTBOUND_SYSTEMS)
    systems: set[str] = set()
    if user.has_perm("sync.retry_billing_sync"):
        systems |= _BILLING_SYNC_SYSTEMS
    if user.has_perm("sync.retry_support_sync"):
        systems |= _SUPPORT_SYNC_SYSTEMS
    return systems


def can_retry(user, job: SyncJob) -> bool:
    return job.system in retryable_systems(user)


def jobs_visible_to(*, user) -> QuerySet[SyncJob]:
    """Jobs of the customers this person sees, and those of no customer yet (a desk ticket for a requester)."""
    return visible_through_customer(SyncJob.objects.all(), user=user)


def dead_jobs_to_retry(*, user, system: str) -> QuerySet[SyncJob]:
    """Every dead job of ``system`` this person sees, oldest first: "retry all" on the job log and on the queue."""
    qs = jobs_visible_to(user=user).filter(system=system, status=JobStatus.DEAD)
    return qs.select_related("customer").order_by("created_at", "pk")


def job_list(*, user, status: str = "", system: str = "", action: str = "", customer: str = "") -> QuerySet[SyncJob]:
    qs = jobs_visible_to(user=user)
    if status:
        qs = qs.filter(status=status)
    if system:
        qs = qs.filter(system=system)
    if action:
        qs = qs.filter(action=action)
    if customer.lower() == NO_CUSTOMER:
        qs = qs.filter(customer__isnull=True)
    elif customer:
        qs = qs.filter(customer__public_id=customer)
    return qs.select_related("customer").order_by("-id")


def system_states_for(*, user) -> dict:
    """Every system's switches, with the open and dead jobs counted among those ``user`` may see."""
    return system_states(jobs=jobs_visible_to(user=user))


def job_log_systems(*, user) -> dict:
    """Every synced system (not the "all" switch) as the job log shows it to ``user``."""
    return {system: view for system, view in system_states_for(user=user).items() if system != ALL}



# --- a customer's sync state (the customer list's filter and the 360; registered with customers) ---


def customer_job_flags() -> dict[str, Exists]:
    """Whether each customer has a dead job, and a job waiting or running: the list's sync column and filter."""
    jobs = SyncJob.objects.filter(customer=OuterRef("pk"))
    return {
        "has_dead_jobs": Exists(jobs.filter(status=JobStatus.DEAD)),
        "has_open_jobs": Exists(jobs.open()),
    }


@dataclass
class SystemSync:
    system: str
    label: str
    state: str  # synced / pending / failed / never
    last_job: SyncJob | None
    counts: dict = field(default_factory=dict)


def customer_sync_state(customer: Customer) -> list[SystemSync]:
    """Per outside system: synced, pending or failed, with the latest job (two queries)."""
    counts: dict[str, Counter] = {}
    for row in customer.sync_jobs.order_by().values("system", "status").annotate(n=Count("id")):
        counts.setdefault(row["system"], Counter())[row["status"]] = row["n"]
    latest_ids = customer.sync_jobs.order_by().values("system").annotate(last=Max("id")).values_list("last", flat=True)
    latest = {job.system: job for job in SyncJob.objects.filter(pk__in=list(latest_ids))}
    states = []
    for value, label in System.choices:
        if value == System.STRIPE:
            continue
        c = counts.get(value, Counter())
        if c[JobStatus.DEAD]:
            state = SyncState.FAILED
        elif any(c[status] for status in OPEN_JOB_STATUSES):
            state = SyncState.PENDING
        elif c[JobStatus.SUCCEEDED]:
            state = SyncState.SYNCED
        elif c[JobStatus.SET_ASIDE]:  # failed, and a person decided it will not be fixed
            state = JobStatus.SET_ASIDE
        else:
            state = "never"
        states.append(SystemSync(value, label, state, latest.get(value), dict(c)))
    return states


BATCH_ACTIONS = {"sync.jobs_retry_bulk": "jobs", "sync.simulated_replay": "sent"}


def batch_entry_of_request(*, actor):
    """The audit entry of the bulk retry (or replay) this request just did, by its correlation id."""
    entries = AuditEvent.objects.filter(action__in=BATCH_ACTIONS, actor=actor)
    correlation_id = current_correlation_id()
    if correlation_id:
        entries = entries.filter(correlation_id=correlation_id)
    return entries.order_by("-pk").only("pk").first()


def batch_from_audit(key: str) -> dict | None:
    """A bulk retry's jobs and title as its audit entry records them (None when ``key`` names none)."""
    if not key.isdigit():
        return None
    entry = AuditEvent.objects.filter(pk=key, action__in=BATCH_ACTIONS).only("action", "summary", "changes").first()
    if entry is None:
        return None
    return {"title": entry.summary, "ids": list(entry.changes.get(BATCH_ACTIONS[entry.action], [])), "skipped": []}
