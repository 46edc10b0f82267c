"""Where the ten facts come from: billing's changes (registered as a consumer, like sync and support),
tickets opened and customers merged (on their records' creation). Each runs inside the transaction of
its cause, and names each fact by what it is about, so a replay or a second event about the same
payment, refund or dispute names the same fact again and nothing is delivered twice.

Payments are read from Stripe's charge events only (one per try, in every API version): the invoice
and payment intent events about the same money would otherwise make it a second fact.
"""

from django.conf import settings

from billing.consumers import BillingChange
from billing.parsing import object_id
from webhooks.facts import Fact, endpoints_enabled, facts_publish

PAYING = {"active", "past_due", "canceled"}
_REASONS = {("trial", "active"): "trial_converted", ("past_due", "active"): "payment_recovered",
            ("active", "past_due"): "payment_failed", ("trial", "past_due"): "payment_failed"}
REFUND_EVENTS = {"refund.created", "refund.updated", "charge.refund.updated"}


def facts_for_billing_change(*, change: BillingChange) -> None:
    if endpoints_enabled():  # read once per batch of events: no endpoint, no work
        facts_publish(facts=billing_facts(change))


def billing_facts(change: BillingChange) -> list[Fact]:
    customer, event = change.customer, change.source_event
    cause = {"source": "stripe", "id": event.stripe_id}

    def fact(kind: str, about: str, **fields) -> Fact:
        return Fact(type=kind, customer=customer, about={"source": "stripe", "id": about}, cause=cause,
                    fields=fields, source_event=event, created=event.created)

    facts = []
    before, after = ({} if change.first else change.before), change.after
    if change.first:
        facts.append(Fact(type="customer.created", customer=customer, about={"source": "switchboard", "id": "new"},
                          cause=cause, source_event=event, created=event.created,
                          fields={"email_domain": customer.email.rpartition("@")[2], "plan": after.get("plan") or "",
                                  "status": after.get("status") or ""}))
    was, now = before.get("status"), after.get("status")
    if now and was != now:
        facts.append(fact("customer.status_changed", event.stripe_id, **{
            "from": was, "to": now, "was_paying": was in PAYING,
            "reason": _REASONS.get((was, now)) or customer.status_reason or event.type}))
    if not change.first and (before.get("plan") or "") != (after.get("plan") or ""):
        facts.append(fact("customer.plan_changed", event.stripe_id, **{
            "from": before.get("plan") or "", "to": after.get("plan") or "", "mrr_cents": after.get("mrr") or 0,
            "currency": after.get("currency") or ""}))
    return facts + _money_facts(event.type, event.payload["data"]["object"], fact)


def _money_facts(event_type: str, obj: dict, fact) -> list[Fact]:
    if event_type in ("charge.succeeded", "charge.failed"):
        money = {"payment": object_id(obj.get("payment_intent")) or obj.get("id", ""),
                 "amount_cents": obj.get("amount") or 0, "currency": obj.get("currency") or ""}
        if event_type == "charge.failed":
            return [fact("payment.failed", obj.get("id", ""), **money, failure_code=obj.get("failure_code") or "")]
        return [fact("payment.succeeded", obj.get("id", ""), **money)]
    if event_type in REFUND_EVENTS or event_type == "charge.refunded":
        refunds = [obj] if event_type in REFUND_EVENTS else ((obj.get("refunds") or {}).get("data") or [])
        return [fact("refund.succeeded", refund["id"], refund=refund["id"],
                     payment=object_id(refund.get("payment_intent")) or object_id(refund.get("charge")),
                     amount_cents=refund.get("amount") or 0, currency=refund.get("currency") or "")
                for refund in refunds if isinstance(refund, dict) and refund.get("status") == "succeeded"
                and refund.get("id")]
    if event_type in ("charge.dispute.created", "charge.dispute.closed"):
        dispute = {"dispute": obj.get("id", ""), "payment": object_id(obj.get("payment_intent"))
                   or object_id(obj.get("charge"))}
        if event_type == "charge.dispute.closed":
            return [fact("dispute.closed", obj.get("id", ""), **dispute, outcome=obj.get("status") or "")]
        return [fact("dispute.opened", obj.get("id", ""), **dispute, amount_cents=obj.get("amount") or 0,
                     currency=obj.get("currency") or "", reason=obj.get("reason") or "")]
    return []


def fact_for_ticket(*, sender, instance, created: bool, **kwargs) -> None:
    """A ticket Switchboard opened for a customer (one for a requester who is not one yet has no fact)."""
    if not created or instance.customer_id is None or not endpoints_enabled():
        return
    ours = {"source": "switchboard", "id": f"ticket:{instance.pk}"}
    event = instance.source_event
    facts_publish(facts=[Fact(
        type="ticket.opened", customer=instance.customer, about=ours,
        cause={"source": "stripe", "id": event.stripe_id} if event else ours, source_event=event,
        created=instance.created_at,
        fields={"ticket": str(instance.pk), "desk": settings.SYNC_PROVIDERS.get("support", ""),
                "subject": instance.subject, "priority": instance.priority, "category": instance.category})])


def fact_for_merge(*, sender, instance, created: bool, **kwargs) -> None:
    """Two records turned out to be one: told under the survivor's id, naming the retired one."""
    if not created or not endpoints_enabled():
        return
    ours = {"source": "switchboard", "id": f"merge:{instance.pk}"}
    facts_publish(facts=[Fact(
        type="customer.merged", customer=instance.survivor, about=ours, cause=ours, created=instance.created_at,
        fields={"merged_from": instance.merged.public_id, "reason": "merged_by_staff"})])
