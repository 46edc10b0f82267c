"""Customers' part of the queue: identities to review, overrides against billing, and how items meet customers."""

from django.db.models import F, Q, QuerySet

from action_queue import registry
from action_queue.items import ActionGroup, ActionItem, QueueContext, one_group, open_items, page_of
from customers.models import Customer, CustomerStatus
from customers.selectors import override_conflicts_q
from customers.visibility import customer_visibility_q, visible_through_customer


def needs_review_items(ctx: QueueContext) -> list[ActionGroup]:
    """Customers whose identity could not be matched safely: a person decides (merge or distinct)."""
    qs = open_items(
        Customer.objects.live().filter(status=CustomerStatus.NEEDS_REVIEW),
        kind="needs_review",
        since=F("updated_at"),
        ctx=ctx,
        customer_path="",
    )
    count, rows = page_of(qs, ctx, shown=("public_id", "review_reason", "status_reason"))
    items = [
        ActionItem(
            kind="needs_review",
            object_id=str(c.pk),
            what="Identity needs a decision",
            reason=c.review_reason or c.status_reason or "Could not be matched safely",
            since=c.q_since,
            customer_id=c.pk,
            url=ctx.url("customer_review", c.public_id),
            url_label="Review",
            actions=("assign",),
        )
        for c in rows
    ]
    return one_group("needs_review", "Customers to review", count, items,
                     more_url=ctx.url("customer_list") + "?status=needs_review", more_label="see all")


def override_conflict_items(ctx: QueueContext) -> list[ActionGroup]:
    """A manual override grants access that billing no longer backs."""
    qs = open_items(
        Customer.objects.live().filter(override_conflicts_q()),
        kind="override_conflict",
        since=F("updated_at"),
        ctx=ctx,
        customer_path="",
    )
    count, rows = page_of(qs, ctx, shown=("public_id", "status", "override_status", "override_reason"))
    items = [
        ActionItem(
            kind="override_conflict",
            object_id=str(c.pk),
            what=f"Override says {c.get_override_status_display().lower()}, billing says {c.get_status_display().lower()}",
            reason=f"Override: {c.override_reason}" if c.override_reason else "",
            since=c.q_since,
            customer_id=c.pk,
            url=ctx.url("customer_detail", c.public_id),
            url_label="Open customer",
            actions=("assign", "resolve"),
        )
        for c in rows
    ]
    return one_group("override_conflict", "Overrides against billing", count, items)


# What a row shows of its customer (customers/_status.html) and who the customer is assigned to
_SHOWN = ("public_id", "name", "email", "status", "override_status", "override_reason", "override_expires_at",
          "restricted", "assigned_to__email")


def _read(ids: set[int]) -> dict[int, Customer]:
    return Customer.objects.select_related("assigned_to").only(*_SHOWN).in_bulk(ids)


def _visible(rows: QuerySet, *, user, path: str) -> QuerySet:
    """Rows this person may see through their customer: "" when the rows are customers themselves."""
    if not path:
        return rows.filter(customer_visibility_q(user))
    return visible_through_customer(rows, user=user, prefix=f"{path}__")


def register() -> None:
    registry.register_customers(registry.Customers(
        read=_read,
        page=lambda customer, url: url("customer_detail", customer.public_id),
        visible=_visible,
        owned_by=lambda prefix, user: Q(**{f"{prefix}assigned_to": user.pk}),
    ))
    registry.register(registry.Kind(
        "needs_review", needs_review_items, lambda user: user.has_perm("customers.merge_customer"),
        model=Customer, customer_path="",
        watches="customers whose identity needs a decision",
    ))
    registry.register(registry.Kind(
        "override_conflict", override_conflict_items, lambda user: user.has_perm("customers.override_status"),
        model=Customer, customer_path="",
        watches="manual overrides that contradict billing",
    ))
