"""Reads that feed the sync screens: the job log, a job's attempts, the systems' switches."""

import re
from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, QuerySet

from customers.models import System
from customers.selectors import customer_visibility_q
from sync.models import JobStatus, SyncJob, SystemState

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


OPEN_STATUSES = (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.RETRYING)


@dataclass(frozen=True)
class SystemJobs:
    """One system as the job log shows it: whether its work waits, and its unfinished jobs."""

    system: str
    paused: bool  # by its own switch or by "all"
    held: bool  # the circuit breaker is open
    open_jobs: int
    dead_jobs: int


def job_log_systems() -> dict[str, SystemJobs]:
    """Every synced system with its open and dead jobs, counted exactly.

    Only unfinished jobs are counted, through the status index: succeeded jobs
    (nearly every row) are never read. Counting per system over the whole table,
    as ``system_states()`` does for the systems page, reads all of them (0.1-0.3 s
    at 300,000 jobs) on every render of the log.
    """
    from sync.rules import SYNCED_SYSTEMS
    from sync.services.control import paused_systems

    rows = SyncJob.objects.filter(status__in=[*OPEN_STATUSES, JobStatus.DEAD]).order_by()
    counts: dict[str, Counter] = {}
    for row in rows.values("system", "status").annotate(n=Count("id")):
        counts.setdefault(row["system"], Counter())[row["status"]] = row["n"]
    paused = paused_systems()
    held = set(SystemState.objects.filter(breaker_open_until__isnull=False).values_list("system", flat=True))
    return {
        system: SystemJobs(
            system=system,
            paused=system in paused,
            held=system in held,
            open_jobs=sum(counts.get(system, Counter())[s] for s in OPEN_STATUSES),
            dead_jobs=counts.get(system, Counter())[JobStatus.DEAD],
        )
        for system in SYNCED_SYSTEMS
    }


# --- redaction ------------------------------------------------------------------------

_SECRET_KEYS = re.compile(r"(authorization|token|secret|password|api[_-]?key|cookie|signature|credential)", re.I)
_PERSONAL_KEYS = re.compile(
    r"^(email|e-mail|name|first_?name|last_?name|full_?name|phone|mobile|address|line1|line2|city|"
    r"postal_?code|zip|state|shipping|billing_details|card|last4|exp_month|exp_year|fingerprint|ip|"
    r"customer_email|customer_name|customer_phone|customer_address|receipt_email)$",
    re.I,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
REDACTED = "[redacted]"


def redact(value, *, personal: bool = True):
    """A copy of ``value`` with secrets (always) and personal data (when ``personal``) replaced.

    Keys decide: anything named like a credential, and with ``personal`` anything
    naming a person, an address, a phone or a card; e-mail addresses are also
    caught inside free text.
    """
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            k = str(key)
            if _SECRET_KEYS.search(k) or (personal and _PERSONAL_KEYS.match(k)):
                out[key] = REDACTED if item not in (None, "", [], {}) else item
            else:
                out[key] = redact(item, personal=personal)
        return out
    if isinstance(value, list):
        return [redact(item, personal=personal) for item in value]
    if isinstance(value, str) and personal:
        return _EMAIL.sub(REDACTED, value)
    return value

