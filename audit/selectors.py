"""Reads for the audit screen: who may see which entries, and the filters."""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.models import AuditEvent

# Actions finance may read besides its own: everything about money and Stripe events.
BILLING_ACTION_PREFIXES = ("refund.", "event.", "billing.", "subscription_change.")

# Who may see which customer is customers' rule; audit sits below customers and imports none of
# it, so customers hands the rule in at start-up (register_customer_filter).
_customer_filter: Callable[..., QuerySet] | None = None


def register_customer_filter(narrow: Callable[..., QuerySet]) -> None:
    """``narrow(rows, user=...)`` keeps the rows ``user`` may see through their customer (and rows of none)."""
    global _customer_filter
    _customer_filter = narrow


def _visible_through_customer(qs: QuerySet, *, user) -> QuerySet:
    if _customer_filter is None:  # no rule handed in: show no entry about any customer rather than all
        return qs.filter(customer__isnull=True)
    return _customer_filter(qs, user=user)


def audit_visible_to(*, user) -> QuerySet[AuditEvent]:
    """Owner: everything. Finance: billing actions and its own. Support: its own entries only.
    Entries about a restricted customer follow the customer's visibility."""
    qs = AuditEvent.objects.all()
    if user.has_perm("audit.view_all_audit"):
        return qs
    mine = Q(actor_id=user.pk)
    if user.has_perm("billing.issue_refund"):
        billing = Q()
        for prefix in BILLING_ACTION_PREFIXES:
            billing |= Q(action__startswith=prefix)
        mine |= billing
    return _visible_through_customer(qs.filter(mine), user=user)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def audit_search(
    *, user, actor=None, action: str = "", customer: str = "", since: date | None = None, until: date | None = None
) -> QuerySet[AuditEvent]:
    qs = audit_visible_to(user=user)
    if actor is not None:
        qs = qs.filter(actor_id=actor.pk)
    if action:
        qs = qs.filter(action__startswith=action) if action.endswith(".") else qs.filter(action=action)
    if customer:
        qs = qs.filter(customer__public_id=customer)
    if since:
        qs = qs.filter(created_at__gte=_day_start(since))
    if until:
        qs = qs.filter(created_at__lt=_day_start(until + timedelta(days=1)))
    return qs.select_related("customer").order_by("-id")


def audit_actions(*, user) -> list[str]:
    return list(audit_visible_to(user=user).order_by("action").values_list("action", flat=True).distinct()[:200])
