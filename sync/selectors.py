"""Reads that feed the sync screens: the job log, a job's attempts, the systems' switches."""

from django.db.models import QuerySet

from customers.models import System
from customers.selectors import customer_visibility_q
from sync.models import JobStatus, SyncJob

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
    return SyncJob.objects.filter(customer_visibility_q(user, "customer__"))


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
    if customer:
        qs = qs.filter(customer__public_id=customer)
    return qs.select_related("customer").order_by("-id")


def system_states_for(*, user) -> dict:
    """Every system's switches, with the open and dead jobs counted among those ``user`` may see."""
    from sync.services.control import system_states

    return system_states(jobs=jobs_visible_to(user=user))


def job_log_systems(*, user) -> dict:
    """Every synced system (not the "all" switch) as the job log shows it to ``user``."""
    from sync.services.control import ALL

    return {system: view for system, view in system_states_for(user=user).items() if system != ALL}

