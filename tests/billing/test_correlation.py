import pytest

from billing.models import StripeEvent
from sync.models import SyncJob
from tests import stripe_events as se

pytestmark = pytest.mark.django_db


def test_one_correlation_id_follows_an_event_from_the_door_to_its_outbound_jobs(deliver):
    deliver(se.event("customer.subscription.created", se.subscription("sub_CID", "cus_CID", status="active")))
    event = StripeEvent.objects.get()
    jobs = SyncJob.objects.filter(source_event=event)
    assert event.correlation_id and jobs.exists()
    assert set(jobs.values_list("correlation_id", flat=True)) == {event.correlation_id}


def test_each_event_gets_its_own_correlation_id(deliver):
    deliver(se.event("customer.created", se.customer("cus_C1")))
    deliver(se.event("customer.created", se.customer("cus_C2")))
    assert StripeEvent.objects.values("correlation_id").distinct().count() == 2
