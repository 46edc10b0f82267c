"""Who hears about a billing change: apps above billing register here; billing imports none of them.

``event_process`` applies one Stripe event (mirrors, identity, status) and then hands
the resulting ``BillingChange`` to every registered consumer, in the order they
registered (apps register in their ``AppConfig.ready()``, which Django runs in
``INSTALLED_APPS`` order), inside the event's transaction: a consumer's writes commit
with the event or not at all, and a consumer that raises fails the event, which is
then retried like any other failure.
"""

from collections.abc import Callable
from dataclasses import dataclass

from billing.models import StripeEvent
from customers.models import Customer


@dataclass(frozen=True, kw_only=True)
class BillingChange:
    """What one applied Stripe event changed for one customer (locked by the event's transaction)."""

    customer: Customer
    source_event: StripeEvent
    event_type: str
    before: dict  # {"status":..., "plan":..., "mrr":..., "currency":...}
    after: dict
    # Billing's first word on this customer: the outside tools have heard nothing of them yet, so
    # ``before`` (the new record's defaults) is not what they hold.
    first: bool = False
    # The event is applied for the first time and no try of it failed: nothing keyed by it was
    # written yet (a replay, or a retry after an unexplained failure, is not new).
    new_event: bool = False


BillingConsumer = Callable[..., object]  # called as consumer(change=...); what it returns is its own business

_consumers: dict[str, BillingConsumer] = {}


def billing_consumer_register(*, name: str, consumer: BillingConsumer) -> None:
    """Add ``consumer`` under ``name``; registering the same name again replaces it in place."""
    _consumers[name] = consumer


def billing_consumer_unregister(*, name: str) -> None:
    _consumers.pop(name, None)


def billing_consumers() -> list[str]:
    """The registered names, in the order they are called."""
    return list(_consumers)


def billing_change_dispatch(*, change: BillingChange) -> None:
    """Hand ``change`` to every consumer, in order, inside the caller's transaction."""
    for consumer in list(_consumers.values()):
        consumer(change=change)
