"""factory_boy factories in the shapes Stripe and our own models use."""

import itertools

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import User
from billing.models import Charge, StripeEvent
from customers.models import Customer, CustomerStatus, ExternalLink, System
from sync.models import JobStatus, SyncJob

_seq = itertools.count(1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"staff{n}@switchboard.test")
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    name = factory.Sequence(lambda n: f"Customer {n}")
    status = CustomerStatus.ACTIVE
    plan = "Pro"
    currency = "usd"


class ExternalLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExternalLink

    customer = factory.SubFactory(CustomerFactory)
    system = System.STRIPE
    external_id = factory.Sequence(lambda n: f"cus_test{n:08d}")


class StripeEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StripeEvent

    stripe_id = factory.Sequence(lambda n: f"evt_test{n:010d}")
    type = "invoice.paid"
    api_version = "2020-08-27"
    created = factory.LazyFunction(timezone.now)
    payload = factory.LazyAttribute(lambda o: {"id": o.stripe_id, "object": "event", "type": o.type})


class ChargeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Charge

    stripe_id = factory.Sequence(lambda n: f"ch_test{n:010d}")
    customer = factory.SubFactory(CustomerFactory)
    amount = 4900
    currency = "usd"
    status = "succeeded"
    paid = True


class SyncJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncJob

    customer = factory.SubFactory(CustomerFactory)
    system = System.CRM
    action = "upsert_contact"
    idempotency_key = factory.Sequence(lambda n: f"test:job:{n}")
    status = JobStatus.PENDING
