"""Comparing our mirrors with what Stripe's API says now, and repairing them from Stripe.

Also the backfill for a new install: every object Stripe lists that we lack is
drift of kind "missing", and ``apply`` creates it.
"""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from billing import parsing as p
from billing.models import Charge, Drift, Refund, StripeCustomer, StripeMirror, Subscription
from billing.services import mirrors as m
from billing.stripe_client import stripe_list
from customers.identity import customer_for_stripe_id, customer_identity_refresh
from customers.models import ExternalLink, System
from customers.status import customer_state_refresh

# kind -> (mirror, fields from a Stripe object, fields compared and how a difference is called)
KINDS: dict[str, tuple[type[StripeMirror], Callable[[dict], dict], dict[str, str]]] = {
    "customer": (StripeCustomer, m.customer_fields, {}),
    "subscription": (Subscription, m.subscription_fields, {"status": Drift.Kind.STATUS, "amount": Drift.Kind.AMOUNT}),
    "charge": (Charge, m.charge_fields, {"status": Drift.Kind.STATUS, "amount": Drift.Kind.AMOUNT,
                                         "amount_refunded": Drift.Kind.AMOUNT}),
    "refund": (Refund, m.refund_fields, {"status": Drift.Kind.STATUS, "amount": Drift.Kind.AMOUNT}),
}


@dataclass
class ReconcileReport:
    checked: int = 0
    drift: list[str] = field(default_factory=list)
    repaired: int = 0


@dataclass(frozen=True)
class _Repair:
    """Stands in for the event in mirror writes: "this is Stripe's state as of now"."""

    created: datetime
    stripe_id: str
    livemode: bool
    type: str = "reconcile.repair"


def _differences(kind: str, obj: dict) -> tuple[StripeMirror | None, list[tuple[str, str, str, str]]]:
    model, fields_of, compared = KINDS[kind]
    local = model.objects.filter(stripe_id=obj["id"]).first()
    if local is None and kind == "customer" and ExternalLink.objects.filter(system=System.STRIPE, external_id=obj["id"]).exists():
        return None, []  # known through its other objects; Stripe sent no customer event to mirror
    if local is None:
        return None, [("", Drift.Kind.MISSING, "", "present")]
    theirs = fields_of(obj)
    if kind in ("customer", "subscription") and obj.get("deleted"):
        theirs["deleted"] = True
    found = []
    for name, drift_kind in compared.items():
        if theirs.get(name) != getattr(local, name):
            found.append((name, drift_kind, str(getattr(local, name))[:200], str(theirs.get(name))[:200]))
    return local, found


def _record(kind: str, obj: dict, local, found, now: datetime) -> None:
    customer = local.customer if local is not None else None
    for name, drift_kind, ours, stripes in found:
        Drift.objects.update_or_create(
            object_type=kind, stripe_id=obj["id"], field=name, resolved_at=None,
            defaults={"kind": drift_kind, "ours": ours, "stripes": stripes, "customer": customer, "found_at": now},
        )
    # what differed before and agrees now is resolved
    agreeing = Drift.objects.open().filter(object_type=kind, stripe_id=obj["id"]).exclude(field__in=[f[0] for f in found])
    agreeing.update(resolved_at=now, resolution="Stripe and Switchboard agree again")


def _repair(kind: str, obj: dict, mark: _Repair, *, actor, source: str) -> None:
    model, fields_of, _ = KINDS[kind]
    with transaction.atomic():
        stripe_customer_id = p.customer_id(obj)
        if not stripe_customer_id and kind == "refund":
            stripe_customer_id, _ = m.customer_of_charge(p.object_id(obj.get("charge")))
        customer = customer_for_stripe_id(stripe_customer_id=stripe_customer_id) if stripe_customer_id else None
        row, _ = m.mirror_apply(
            model, obj=obj, event=mark, customer=customer, fields=fields_of(obj),
            deleting=bool(obj.get("deleted")) or (kind == "subscription" and obj.get("status") == "canceled"),
            stripe_customer_id=stripe_customer_id,
        )
        if customer is not None:
            stated = m.stated_identity(customer) if kind == "customer" else None  # only its own mirror says
            identity = customer_identity_refresh(customer=customer, stated=stated)
            customer_state_refresh(customer=customer, also_save=tuple(identity))
        Drift.objects.open().filter(object_type=kind, stripe_id=obj["id"]).update(
            resolved_at=mark.created, resolution="Repaired from Stripe"
        )
        audit_record(
            action="stripe.reconciled", source=source, actor=actor, customer=customer, target=row,
            summary=f"Repaired {kind} {obj['id']} from Stripe",
        )


def stripe_reconcile(
    *, apply: bool, source: str, actor=None, days: int = 30, progress: Callable[[Iterable], Iterable] = iter,
) -> ReconcileReport:
    """Compare customers, subscriptions and the last ``days`` of charges and refunds with Stripe."""
    report = ReconcileReport()
    now = timezone.now()
    mark = _Repair(created=now, stripe_id=f"reconcile:{uuid.uuid4().hex[:12]}", livemode=False)
    since = int((now - timedelta(days=days)).timestamp())
    listings = [
        ("customer", {}),
        ("subscription", {"status": "all"}),
        ("charge", {"created": {"gte": since}}),
        ("refund", {"created": {"gte": since}}),
    ]
    for kind, params in listings:
        for obj in progress(stripe_list(kind, params)):
            report.checked += 1
            local, found = _differences(kind, obj)
            with transaction.atomic():
                _record(kind, obj, local, found, now)
            if not found:
                continue
            report.drift.extend(f"{kind} {obj['id']}: {drift_kind} {name}".strip() for name, drift_kind, _, _ in found)
            if apply:
                _repair(kind, obj, _Repair(now, mark.stripe_id, bool(obj.get("livemode"))), actor=actor, source=source)
                report.repaired += 1
    return report
