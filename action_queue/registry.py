"""The kinds of item the queue shows, each registered by the app that owns its rows.

The queue knows no app: as apps register their models with Django's admin, each
registers its kinds here from its ``AppConfig.ready()`` (``<app>/queue_items.py``),
with who may act on them, the rows they come from and the actions they offer.
The app that owns customers registers how an item meets its customer
(``register_customers``) and billing when the last outside event arrived
(``register_last_event``).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Model, Q, QuerySet
from django.http import HttpResponse


@dataclass(frozen=True)
class Outcome:
    """What a row action did: ``done`` replaces the row with that line; ``error`` shows the row again with it."""

    done: str = ""
    error: str = ""


@dataclass(frozen=True)
class RowAction:
    """A next step on one item, done by a service of the app that owns the kind.

    Served at ``queue/<kind>/<object id>/<name>/`` under ``url_name``: the queue
    checks who may act on the item, calls ``run(item=..., actor=..., source=...)``
    and answers with the row.
    """

    name: str
    url_name: str
    run: Callable[..., Outcome]
    label: str = ""  # the button; the name capitalized when empty
    confirm: str = ""  # asked before it runs; "{system}" is the item's system

    @property
    def button(self) -> str:
        return self.label or self.name.capitalize()


@dataclass(frozen=True)
class GroupAction:
    """A step on a whole group (every dead job of a system), served by the owning app's own view at
    ``queue/<kind>/<route>`` under ``url_name``; that view authorizes and answers by itself."""

    route: str
    url_name: str
    view: Callable[..., HttpResponse]


@dataclass(frozen=True)
class Kind:
    """One kind of item.

    ``read(ctx)`` returns its groups of open items (``action_queue.items`` has the
    shared plumbing); ``allowed(user)`` says whether a person may act on the kind
    at all; ``model`` is the row an item comes from, ``customer_path`` the path from
    that row to its customer ("" when the rows are customers, None when they have
    none); ``narrow(user, rows)`` keeps the rows this person may act on beyond
    customer visibility (a role may retry some systems' jobs only). ``watches``
    names what the kind shows, for the empty queue to say what would appear there.
    """

    name: str
    read: Callable
    allowed: Callable[[object], bool]
    model: type[Model]
    customer_path: str | None = "customer"
    narrow: Callable[[object, QuerySet], QuerySet] | None = None
    actions: tuple[RowAction, ...] = ()
    group_actions: tuple[GroupAction, ...] = ()
    watches: str = ""

    def action(self, name: str) -> RowAction | None:
        return next((a for a in self.actions if a.name == name), None)


@dataclass(frozen=True)
class Customers:
    """How an item meets its customer: registered by the app that owns customers."""

    read: Callable[[set[int]], dict]  # the shown customers by id, each with its ``assigned_to``
    page: Callable[[object, Callable[..., str]], str]  # (customer, url) -> the customer's page
    visible: Callable[..., QuerySet]  # (rows, user=, path=) -> the rows this person may see
    owned_by: Callable[[str, object], Q]  # (path prefix, user) -> rows whose customer this person owns


_KINDS: dict[str, Kind] = {}
_customers: Customers | None = None
_last_event: Callable[[], datetime | None] = lambda: None


def _origin(kind: Kind) -> str:
    return f"{kind.read.__module__}.{kind.read.__qualname__}"


def register(kind: Kind) -> Kind:
    """Add ``kind`` (registering the same reader again replaces it; another reader's name is refused)."""
    if kind.name in _KINDS and _origin(_KINDS[kind.name]) != _origin(kind):
        raise ValueError(f"The queue kind {kind.name!r} is registered twice: by {_origin(_KINDS[kind.name])} "
                         f"and by {_origin(kind)}.")
    _KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    _KINDS.pop(name, None)


def kinds() -> list[Kind]:
    """Every kind, in the order the apps registered them."""
    return list(_KINDS.values())


def get(name: str) -> Kind | None:
    return _KINDS.get(name)


def register_customers(customers: Customers) -> None:
    global _customers
    _customers = customers


def customers() -> Customers:
    if _customers is None:
        raise LookupError("No app registered how queue items meet their customer (register_customers).")
    return _customers


def register_last_event(reader: Callable[[], datetime | None]) -> None:
    global _last_event
    _last_event = reader


def last_event_at() -> datetime | None:
    """When the newest outside event arrived: the home page says how fresh the queue is."""
    return _last_event()
