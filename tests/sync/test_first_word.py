"""A customer billing has never described is new to every tool: the first change they cause plans
from nothing, not from the new record's defaults (a new record starts as "trial")."""

import pytest

from customers.models import Customer, CustomerStatus
from sync.models import SyncJob
from tests import stripe_events as se

pytestmark = pytest.mark.django_db
T0 = 1_700_000_000


@pytest.fixture(autouse=True)
def _signed(settings):
    settings.STRIPE_WEBHOOK_SECRETS = [se.SECRET]


def _email_jobs() -> list[tuple[str, str]]:
    return sorted((job.action, job.payload.get("tag")) for job in SyncJob.objects.filter(system="email"))


def test_a_trial_that_starts_tags_the_customer_as_trialling_in_the_email_tool(deliver):
    deliver(se.event("customer.created", se.customer("cus_NEW", email="new@example.com"), created=T0))
    deliver(se.event("customer.subscription.created", se.subscription("sub_NEW", "cus_NEW", status="trialing"),
                     created=T0 + 1))
    assert Customer.objects.get().status == CustomerStatus.TRIAL
    assert ("add_tag", "trial") in _email_jobs()
    assert not [job for job in _email_jobs() if job[0] == "remove_tag"]  # nothing to take off a new subscriber


def test_a_known_customer_is_planned_from_what_the_tools_already_hold(deliver):
    deliver(se.event("customer.created", se.customer("cus_OLD", email="old@example.com"), created=T0))
    deliver(se.event("customer.subscription.created", se.subscription("sub_OLD", "cus_OLD", status="trialing"),
                     created=T0 + 1))
    SyncJob.objects.all().delete()
    deliver(se.event("customer.subscription.updated", se.subscription("sub_OLD", "cus_OLD", status="active"),
                     created=T0 + 2))
    assert ("remove_tag", "trial") in _email_jobs() and ("add_tag", "trial") not in _email_jobs()

