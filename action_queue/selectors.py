"""Reads for the "needs action now" screens: every open item a person may act on, or one of them."""

from dataclasses import dataclass, field

from action_queue import registry
from action_queue.items import ActionGroup, ActionItem, QueueContext, attach_people, count_together


@dataclass
class Queue:
    groups: list[ActionGroup]
    mine: bool
    watches: list[str] = field(default_factory=list)  # what would appear here for this person

    @property
    def total(self) -> int:
        return sum(g.count for g in self.groups)


def action_items_for(*, user, mine: bool = False) -> Queue:
    """Every open item this person may act on, grouped, newest problems first."""
    ctx = QueueContext(user=user, mine=mine)
    allowed = [kind for kind in registry.kinds() if kind.allowed(user)]
    groups = [group for kind in allowed for group in kind.read(ctx)]
    groups.sort(key=lambda g: g.newest, reverse=True)
    count_together(groups)
    attach_people([i for g in groups for i in g.items], ctx)
    watches = list(dict.fromkeys(kind.watches for kind in allowed if kind.watches))
    return Queue(groups=groups, mine=mine, watches=watches)


def action_item_for(*, user, kind: str, object_id: str) -> ActionItem | None:
    """One open item, if it exists and this person may act on it."""
    found = registry.get(kind)
    object_id = str(object_id)
    if found is None or not object_id.isdigit() or not found.allowed(user):
        return None
    ctx = QueueContext(user=user, only=object_id, limit=1)
    items = [i for g in found.read(ctx) for i in g.items]  # its group's count is never asked
    attach_people(items, ctx)
    return items[0] if items else None


def action_kind_allowed(*, user, kind: str) -> bool:
    found = registry.get(kind)
    return bool(found and found.allowed(user))


def action_object_allowed(*, user, kind: str, object_id: str) -> bool:
    """May this person act on this row at all (whatever its queue state)? A row that is gone is nobody's."""
    found = registry.get(kind)
    if found is None or not found.allowed(user) or not str(object_id).isdigit():
        return False
    rows = found.model.objects.filter(pk=object_id)
    if not rows.exists():
        return True
    if found.customer_path is not None:
        rows = registry.customers().visible(rows, user=user, path=found.customer_path)
    if found.narrow is not None:
        rows = found.narrow(user, rows)
    return rows.exists()
