"""Outbound sync services. Billing calls ``jobs_for_billing_change`` as a registered consumer; the screens call the rest."""

from sync.errors import SyncError
from sync.services.control import SystemView, paused_systems, system_pause, system_resume, system_states
from sync.services.executor import job_run
from sync.services.outbox import jobs_enqueue, jobs_enqueue_on_commit, jobs_for_billing_change
from sync.services.retry import PlanLine, job_plan, job_retry, jobs_retry_bulk
from sync.services.rules import mapping_rule_current, mapping_rule_edit, mapping_rule_history, mapping_rules_current
from sync.services.setaside import job_set_aside, job_set_aside_undo
from sync.services.simulated import Replay, jobs_replay_simulated, simulated_counts
from sync.services.sweeper import jobs_reclaim_expired, jobs_sweep

__all__ = [
    "PlanLine", "Replay", "SyncError", "SystemView", "job_plan", "job_retry", "job_run",
    "job_set_aside", "job_set_aside_undo", "jobs_enqueue", "jobs_enqueue_on_commit", "jobs_for_billing_change",
    "jobs_reclaim_expired", "jobs_replay_simulated",
    "jobs_retry_bulk", "jobs_sweep",
    "mapping_rule_current", "mapping_rule_edit", "mapping_rule_history", "mapping_rules_current",
    "paused_systems", "simulated_counts", "system_pause", "system_resume", "system_states",
]
