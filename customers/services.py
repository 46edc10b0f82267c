import copy

from auditlog.cid import get_cid
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.encoding import smart_str

from audit.services import audit_record
from customers import hooks
from customers.models import Customer, CustomerMerge, CustomerStatus, DistinctPair, ExternalLink
from customers.status import customer_state_refresh
from customers.visibility import view_grant_give, view_grant_take


class CustomerError(Exception):
    """A customer action that cannot be done, with a sentence a person can read."""


def customer_link(*, customer: Customer, system: str, external_id: str, provider: str = "") -> ExternalLink:
    """Record ``customer``'s id in ``system``. Idempotent; refuses to steal another customer's id."""
    external_id = str(external_id).strip()
    if not external_id:
        raise CustomerError(f"An empty {system} id cannot be linked.")
    try:
        return _link_once(customer=customer, system=system, external_id=external_id, provider=provider)
    except IntegrityError:  # a concurrent writer linked this id, or this customer, a moment ago: read again
        try:
            return _link_once(customer=customer, system=system, external_id=external_id, provider=provider)
        except IntegrityError as exc:
            raise CustomerError(f"That {system} id already belongs to another customer.") from exc


def _link_once(*, customer: Customer, system: str, external_id: str, provider: str) -> ExternalLink:
    # One query finds both rows that could stand in the way: this id, and this customer's link.
    mine = None
    for row in ExternalLink.objects.filter(Q(external_id=external_id) | Q(customer=customer), system=system):
        if row.external_id == external_id:
            if row.customer_id != customer.pk:
                raise CustomerError(f"That {system} id already belongs to another customer.")
            return row
        mine = row
    with transaction.atomic():
        if mine is None:
            return ExternalLink.objects.create(customer=customer, system=system, external_id=external_id,
                                               provider=provider)
        mine.external_id, mine.provider = external_id, provider
        mine.save()
        return mine


def customer_links_record(*, system: str, links: list[tuple[Customer, str]], provider: str = "") -> list[str]:
    """``customer_link`` for several customers of one system (an outbound batch's answers): one read
    for all of them, then the new links and the moved ones (a customer's link to an id the tool now
    gives instead) in one savepoint, each link and its audit entry as ``customer_link`` writes them.
    Returns, per link, "" or why it was refused. A customer's id twice (two of its jobs in one batch)
    is one link, with one outcome. Anything unusual (an id already used, one id for two customers, a
    customer's link changed twice, a race on the unique keys) goes through ``customer_link`` one at a
    time, after the others, as it would have alone."""
    links = [(customer, str(external_id).strip()) for customer, external_id in links]
    errors = [""] * len(links)
    wanted = [external_id for _, external_id in links if external_id]
    by_wanted = set(wanted)
    rows = ExternalLink.objects.filter(Q(external_id__in=wanted) | Q(customer__in=[c for c, _ in links]), system=system)
    by_id, mine = {}, {}
    for row in rows:
        by_id[row.external_id] = row
        mine[row.customer_id] = row
    new, moved, one_by_one, taken, repeats, written = [], [], [], {}, {}, set()
    for n, (customer, external_id) in enumerate(links):
        row = by_id.get(external_id)
        if row is not None and row.customer_id == customer.pk:
            continue  # already this customer's id there
        if external_id in taken and links[taken[external_id]][0].pk == customer.pk:
            repeats[n] = taken[external_id]  # two of its jobs in one batch: the first one's outcome is its
            continue
        frees = customer.pk in mine and mine[customer.pk].external_id in by_wanted
        if row is not None or not external_id or customer.pk in written or external_id in taken or frees:
            one_by_one.append(n)  # refused, twice here, or freeing an id asked for: the single path, in turn
            continue
        taken[external_id] = n
        written.add(customer.pk)
        if customer.pk in mine:
            moved.append((n, mine[customer.pk]))
        else:
            new.append(n)
    try:
        with transaction.atomic():
            _links_write(
                [ExternalLink(customer=links[n][0], system=system, external_id=links[n][1], provider=provider)
                 for n in new],
                [(before, _moved(before, links[n][1], provider)) for n, before in moved])
    except IntegrityError:  # a concurrent writer got there first: each on its own, as customer_link does
        one_by_one = sorted(one_by_one + new + [n for n, _ in moved])
    for n in one_by_one:
        customer, external_id = links[n]
        try:
            customer_link(customer=customer, system=system, external_id=external_id, provider=provider)
        except CustomerError as exc:
            errors[n] = str(exc)
    for n, first in repeats.items():
        errors[n] = errors[first]
    return errors


def _moved(before: ExternalLink, external_id: str, provider: str) -> ExternalLink:
    link = copy.copy(before)
    link.external_id, link.provider = external_id, provider
    return link


def _links_write(new: list[ExternalLink], moved: list[tuple[ExternalLink, ExternalLink]]) -> None:
    """New links in one INSERT, moved ones (as they were, as they become) in one UPDATE, and their
    django-auditlog entries in another INSERT, each entry as the library writes it for a single save
    (what it records, the correlation id): an outbound batch's answers link many customers at once.
    Links are made by the workers, so there is no actor."""
    moves = [link for _, link in moved]
    if not connection.features.can_return_rows_from_bulk_insert:  # the entries need the new ids
        for link in new + moves:
            link.save()
        return
    as_json = settings.AUDITLOG_STORE_JSON_CHANGES
    # A move is diffed before the save's own stamp, as the library's signal diffs a save; a new link
    # once written, with its id.
    entries = [(link, LogEntry.Action.UPDATE, model_instance_diff(before, link, use_json_for_changes=as_json))
               for before, link in moved]
    if new:
        ExternalLink.objects.bulk_create(new)
        entries += [(link, LogEntry.Action.CREATE, model_instance_diff(None, link, use_json_for_changes=as_json))
                    for link in new]
    if moves:
        now = timezone.now()  # what auto_now gives a save
        for link in moves:
            link.updated_at = now
        ExternalLink.objects.bulk_update(moves, ["external_id", "provider", "updated_at"])
    kind, cid = ContentType.objects.get_for_model(ExternalLink), get_cid()
    LogEntry.objects.bulk_create([
        LogEntry(content_type=kind, object_pk=str(link.pk), object_id=link.pk, object_repr=smart_str(link),
                 action=action, cid=cid, changes=diff)
        for link, action, diff in entries
    ])


# --- overrides, assignment, merging ------------------------------------------------------
# Appended for the screens; each action audits itself inside its own transaction.


def customer_override_set(*, customer: Customer, status: str, reason: str, expires_at, actor, source: str) -> Customer:
    """Set a manual status next to the derived one. It needs a reason and an end."""
    reason = (reason or "").strip()
    if status not in CustomerStatus.values or status == CustomerStatus.NEEDS_REVIEW:
        raise CustomerError("Choose trial, active, past due or canceled as the override.")
    if not reason:
        raise CustomerError("An override needs a reason, so others know why billing is not followed.")
    if expires_at is None or expires_at <= timezone.now():
        raise CustomerError("An override needs an expiry in the future.")
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        before = {"status": locked.override_status, "reason": locked.override_reason,
                  "expires_at": locked.override_expires_at.isoformat() if locked.override_expires_at else None}
        locked.override_status, locked.override_reason = status, reason[:300]
        locked.override_expires_at, locked.override_set_by = expires_at, actor
        locked.save(update_fields=["override_status", "override_reason", "override_expires_at", "override_set_by",
                                   "updated_at"])
        audit_record(action="customer.override_set", source=source, actor=actor, customer=locked, target=locked,
               summary=f"Override {status} until {expires_at:%Y-%m-%d %H:%M}: {reason}"[:300],
               changes={"before": before, "after": {"status": status, "reason": reason[:300],
                                                    "expires_at": expires_at.isoformat()}})
    return locked


def customer_override_clear(*, customer: Customer, actor, source: str) -> Customer:
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if not locked.override_status:
            raise CustomerError("This customer has no override to remove.")
        before = locked.override_status
        locked.override_status, locked.override_reason = "", ""
        locked.override_expires_at, locked.override_set_by = None, None
        locked.save(update_fields=["override_status", "override_reason", "override_expires_at", "override_set_by",
                                   "updated_at"])
        audit_record(action="customer.override_clear", source=source, actor=actor, customer=locked, target=locked,
               summary=f"Removed the {before} override", changes={"before": before})
    return locked


def customer_assign(*, customer: Customer, assignee, actor, source: str) -> Customer:
    """Give a customer an owner among the staff (None: nobody).

    The owner gets a django-guardian grant to see the customer even when it is
    restricted; the previous owner's grant is revoked. Both are on the record.
    """
    with transaction.atomic():
        # of=self: PostgreSQL cannot lock the nullable side of the join to the previous owner
        locked = Customer.objects.select_for_update(of=("self",)).select_related("assigned_to").get(pk=customer.pk)
        previous = locked.assigned_to
        before = previous.email if previous else None
        locked.assigned_to = assignee
        locked.save(update_fields=["assigned_to", "updated_at"])
        after = assignee.email if assignee is not None else None
        if previous is not None and previous != assignee:
            view_grant_take(customer=locked, user=previous)
        if assignee is not None:
            view_grant_give(customer=locked, user=assignee)
        audit_record(action="customer.assign", source=source, actor=actor, customer=locked, target=locked,
               summary=f"Assigned to {after or 'nobody'}",
               changes={"assigned_to": [before, after],
                        "view_grant": {"revoked": before if before != after else None, "granted": after}})
    return locked


def customer_share(*, customer: Customer, user, shared: bool, actor, source: str) -> Customer:
    """Let one more person see a restricted customer without making them its owner (or stop it)."""
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        (view_grant_give if shared else view_grant_take)(customer=locked, user=user)
        audit_record(action="customer.share" if shared else "customer.unshare", source=source, actor=actor,
                     customer=locked, target=locked,
                     summary=f"Shared with {user.email}" if shared else f"No longer shared with {user.email}",
                     changes={"view_grant": {"granted": user.email} if shared else {"revoked": user.email}})
    return locked


def customer_restrict(*, customer: Customer, restricted: bool, actor, source: str) -> Customer:
    """Mark a customer restricted (visible only to the owner and staff holding a grant) or open it again."""
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if locked.restricted == restricted:
            return locked
        locked.restricted = restricted
        locked.save(update_fields=["restricted", "updated_at"])
        audit_record(action="customer.restrict" if restricted else "customer.unrestrict", source=source, actor=actor,
               customer=locked, target=locked,
               summary="Restricted to the owner and its assignee" if restricted else "Visible to all staff again",
               changes={"restricted": [not restricted, restricted]})
    return locked


def _lock_pair(a: Customer, b: Customer) -> tuple[Customer, Customer]:
    rows = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[a.pk, b.pk]).order_by("pk")}
    return rows[a.pk], rows[b.pk]


def _review_settle(customer: Customer) -> None:
    """Clear the review flag once no unresolved twin is left, and derive the status again."""
    if customer.email and customer.review_reason:
        pairs = DistinctPair.objects.filter(Q(low=customer) | Q(high=customer)).values_list("low_id", "high_id")
        twins = (Customer.objects.live().filter(email__iexact=customer.email).exclude(pk=customer.pk)
                 .exclude(pk__in={pk for pair in pairs for pk in pair}))
        if not twins.exists():
            customer.review_reason = ""
            customer.save(update_fields=["review_reason", "updated_at"])
    elif customer.review_reason:
        customer.review_reason = ""
        customer.save(update_fields=["review_reason", "updated_at"])
    customer_state_refresh(customer=customer)


def customers_merge(*, survivor: Customer, merged: Customer, actor, source: str):
    """Move everything of ``merged`` to ``survivor`` and leave a tombstone that redirects.

    An outside id moves unless the survivor already has one in that system (one
    id per system and customer); such ids stay on the tombstone, and identity
    resolution follows the tombstone to the survivor.
    """
    if survivor.pk == merged.pk:
        raise CustomerError("A customer cannot be merged into itself.")
    with transaction.atomic():
        survivor, merged = _lock_pair(survivor, merged)
        if survivor.merged_into_id or merged.merged_into_id:
            raise CustomerError("One of these customers was already merged; open the surviving record instead.")
        moved: dict[str, list[int]] = {}
        taken = set(survivor.links.values_list("system", flat=True))
        links = list(merged.links.exclude(system__in=taken).values_list("pk", flat=True))
        ExternalLink.objects.filter(pk__in=links).update(customer=survivor, updated_at=timezone.now())
        moved[ExternalLink._meta.label] = links
        for model in hooks.merge_rows():  # audit entries stay put: they are chained
            ids = list(model.objects.filter(customer=merged).values_list("pk", flat=True))
            model.objects.filter(pk__in=ids).update(customer=survivor)
            moved[model._meta.label] = ids
        previous = {"status": merged.status, "status_reason": merged.status_reason,
                    "review_reason": merged.review_reason, "plan": merged.plan, "mrr": merged.mrr}
        merged.merged_into = survivor
        merged.review_reason = ""
        merged.save(update_fields=["merged_into", "review_reason", "updated_at"])
        record = CustomerMerge.objects.create(survivor=survivor, merged=merged, moved=moved, previous=previous,
                                              merged_by=actor if getattr(actor, "is_authenticated", False) else None)
        _review_settle(survivor)
        audit_record(action="customer.merge", source=source, actor=actor, customer=survivor, target=record,
               summary=f"Merged {merged.public_id} into {survivor.public_id}",
               changes={"merged": merged.public_id, "moved": {k: len(v) for k, v in moved.items()}})
    return record


def customer_merge_undo(*, merge, actor, source: str):
    """Put back what a merge moved, within a day of the merge."""
    with transaction.atomic():
        merge = CustomerMerge.objects.select_for_update().get(pk=merge.pk)
        if not merge.undoable:
            raise CustomerError("This merge can no longer be undone (it was undone already or is older than a day).")
        survivor, merged = _lock_pair(merge.survivor, merge.merged)
        for label, ids in merge.moved.items():
            model = apps.get_model(label)
            model.objects.filter(pk__in=ids, customer=survivor).update(customer=merged)
        for name, value in merge.previous.items():
            setattr(merged, name, value)
        merged.merged_into = None
        merged.save()
        merge.undone_at, merge.undone_by = timezone.now(), actor
        merge.save(update_fields=["undone_at", "undone_by"])
        customer_state_refresh(customer=survivor)
        audit_record(action="customer.merge_undo", source=source, actor=actor, customer=survivor, target=merge,
               summary=f"Undid the merge of {merged.public_id} into {survivor.public_id}",
               changes={"merged": merged.public_id})
    return merge


def customers_mark_distinct(*, customer: Customer, other: Customer, note: str, actor, source: str):
    """Record that two customers are different people, so identity checks stop flagging them."""
    if customer.pk == other.pk:
        raise CustomerError("A customer cannot be distinct from itself.")
    with transaction.atomic():
        customer, other = _lock_pair(customer, other)
        low, high = sorted([customer, other], key=lambda c: c.pk)
        pair, _ = DistinctPair.objects.get_or_create(
            low=low, high=high,
            defaults={"note": (note or "").strip()[:300],
                      "marked_by": actor if getattr(actor, "is_authenticated", False) else None},
        )
        for person in (customer, other):
            _review_settle(person)
        audit_record(action="customer.mark_distinct", source=source, actor=actor, customer=customer, target=pair,
               summary=f"{customer.public_id} and {other.public_id} are different people",
               changes={"other": other.public_id, "note": pair.note})
    return pair
