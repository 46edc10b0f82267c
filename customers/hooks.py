"""Facts about a customer that the apps above customers own, handed in from their ``AppConfig.ready()``.

customers sits below billing, sync and support and imports none of them. The
customer list, the 360 and merging still need a few of their facts: when a
customer began by billing's clock, whether its outbound work is failing or
waiting, and which rows belong to it. Those apps register them here, as they
register their kinds with the queue.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Expression, Model


@dataclass
class _Hooks:
    since: Callable[[], Expression] | None = None
    job_flags: Callable[[], dict[str, Expression]] | None = None
    sync_state: Callable[[Model], list] | None = None
    merge_rows: list[type[Model]] = field(default_factory=list)


_hooks = _Hooks()


def register_since(expression: Callable[[], Expression]) -> None:
    """billing: an expression on Customer for when the customer began by billing's clock."""
    _hooks.since = expression


def register_sync_state(*, flags: Callable[[], dict[str, Expression]], per_system: Callable[[Model], list]) -> None:
    """sync: ``has_dead_jobs`` and ``has_open_jobs`` as expressions on Customer (the list's sync filter),
    and one customer's state in each outside system (the 360)."""
    _hooks.job_flags, _hooks.sync_state = flags, per_system


def register_merge_rows(*models: type[Model]) -> None:
    """Models whose rows belong to a customer through ``customer`` and move with a merge."""
    _hooks.merge_rows.extend(m for m in models if m not in _hooks.merge_rows)


def _required(hook, name: str):
    if hook is None:
        raise LookupError(f"No app registered the customer hook {name!r}.")
    return hook


def since() -> Expression:
    return _required(_hooks.since, "since")()


def job_flags() -> dict[str, Expression]:
    return _required(_hooks.job_flags, "sync state")()


def sync_state(customer) -> list:
    return _required(_hooks.sync_state, "sync state")(customer)


def merge_rows() -> list[type[Model]]:
    return list(_hooks.merge_rows)
