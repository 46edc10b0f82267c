"""Where a customer can be opened: their 360 page here, and their record in each outside tool.

The outside tools are sync's to know: it hands over the one function that builds a record's URL
(``record_urls_from``, from its ``AppConfig.ready()``), so this app imports nothing above it.
"""

import functools
from collections.abc import Callable

from django.conf import settings
from django.urls import reverse

from customers.models import ExternalLink, System

STRIPE_DASHBOARD = "https://dashboard.stripe.com/customers/{id}"
_PLACEHOLDER = "PUBLIC_ID"
# (tool name, external id) -> URL, "" when the tool has no page for it.
_record_url: Callable[[str, str], str] = lambda tool, external_id: ""  # noqa: E731 - until sync says


def customer_360_url(public_id: str) -> str:
    """The absolute address of the customer's 360 page, for outside tools, tickets and messages."""
    return settings.SITE_URL + _path_360().replace(_PLACEHOLDER, public_id)


@functools.cache
def _path_360() -> str:
    # Reversed once per process: reverse() costs more than the rest of building a request to a tool.
    return reverse("customer_detail", kwargs={"public_id": _PLACEHOLDER})


def record_urls_from(builder: Callable[[str, str], str]) -> None:
    """Use ``builder(tool, external_id)`` for the records outside tools keep."""
    global _record_url
    _record_url = builder


def link_url(link: ExternalLink) -> str:
    """Where a person opens the record ``link`` points to; "" when there is nothing to open."""
    if link.system == System.STRIPE:
        return STRIPE_DASHBOARD.format(id=link.external_id)
    return _record_url(link.provider, link.external_id) if link.provider else ""
