"""The bench's COPY filler writes every model's required columns, so a new NOT NULL field breaks a test, not a bench run."""

import pytest

from bench import generate

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_slice_fills_every_table_and_leaves_the_sequences_usable(postgres):
    from billing.models import StripeEvent
    from customers.models import Customer
    from sync.models import SyncJob

    generate.prepare()
    counts = generate.fill(generate.Slice(start=0, customers=12, events_per_customer=2, jobs_per_customer=2, dead=1))

    assert counts["customers"] == Customer.objects.count() == 12
    assert counts["events"] == StripeEvent.objects.count() == 24
    assert counts["jobs"] == SyncJob.objects.count() > 0
    event = StripeEvent.objects.order_by("pk").first()
    assert event.stripe_customer_id == event.payload["data"]["object"]["customer"]
    # The sequences moved past the copied ids: the product's own inserts still work afterwards.
    assert Customer.objects.create(email="after@example.com").pk > max(Customer.objects.exclude(
        email="after@example.com").values_list("pk", flat=True))


def test_a_second_slice_after_the_first_adds_rows_without_colliding(postgres):
    from customers.models import Customer

    generate.prepare()
    generate.fill(generate.Slice(start=0, customers=5, events_per_customer=1, jobs_per_customer=1, dead=0))
    generate.fill(generate.Slice(start=5, customers=5, events_per_customer=1, jobs_per_customer=1, dead=0))
    assert Customer.objects.count() == 10
