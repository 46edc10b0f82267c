"""An event's save of its customer is audited as django-auditlog audits any save: every changed field
(but the save's own stamp, ``updated_at``), from the value the row held to the one written. The entry
is diffed against the row as the event's transaction locked it, unless the customer was saved since:
then against the row as that save left it."""

import copy

import pytest
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType

from billing.models import EventStatus
from billing.services.processing import event_process
from customers.models import Customer, CustomerStatus
from customers.status import customer_state_refresh
from tests.billing.stored import subscription_created
from tests.sync.helpers import customer_with_stripe

pytestmark = pytest.mark.django_db


def _entries(customer: Customer) -> list[LogEntry]:
    kind = ContentType.objects.get_for_model(Customer)
    return list(LogEntry.objects.filter(content_type=kind, object_id=customer.pk).order_by("pk"))


def _diff(old: Customer, new: Customer) -> dict:
    """What the library records for a save between two states of the row (lists, as the entry
    stores them): its signal diffs before the save stamps ``updated_at``."""
    diff = model_instance_diff(old, new, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES)
    return {name: list(change) for name, change in (diff or {}).items() if name != "updated_at"}


def test_an_events_entry_records_each_change_from_the_row_as_it_was():
    customer = customer_with_stripe(status=CustomerStatus.TRIAL, plan="")
    before, known = Customer.objects.get(pk=customer.pk), len(_entries(customer))
    event = subscription_created(customer)

    assert event_process(event_id=event.pk) == EventStatus.PROCESSED

    after = Customer.objects.get(pk=customer.pk)
    entries = _entries(customer)[known:]
    assert len(entries) == 1
    assert entries[0].action == LogEntry.Action.UPDATE
    assert {"plan", "mrr", "last_event_at"} <= set(entries[0].changes)
    assert entries[0].changes == _diff(before, after)


def test_an_event_that_flags_its_customer_first_diffs_from_the_row_that_flag_wrote():
    customer_with_stripe(email="same@example.com")  # another Stripe customer, same email
    customer = customer_with_stripe(email="same@example.com", status=CustomerStatus.TRIAL, plan="")
    before, known = Customer.objects.get(pk=customer.pk), len(_entries(customer))

    assert event_process(event_id=subscription_created(customer).pk) == EventStatus.PROCESSED

    after = Customer.objects.get(pk=customer.pk)
    assert after.status == CustomerStatus.NEEDS_REVIEW
    flag, final = _entries(customer)[known:]
    assert set(flag.changes) == {"review_reason"}
    assert set(final.changes) | set(flag.changes) == set(_diff(before, after))
    assert final.changes == {name: change for name, change in _diff(before, after).items() if name in final.changes}


def test_a_copy_older_than_the_customers_last_save_is_not_diffed_against():
    customer = customer_with_stripe(status=CustomerStatus.TRIAL, plan="")
    stored = copy.copy(customer)
    customer.plan = "Basic"
    customer.save(update_fields=["plan", "updated_at"])  # saved since the copy: the copy says "" still
    known = len(_entries(customer))

    customer_state_refresh(customer=customer, stored=stored)  # no subscription: the plan goes

    assert customer.plan == ""
    assert [entry.changes["plan"] for entry in _entries(customer)[known:]] == [["Basic", ""]]
