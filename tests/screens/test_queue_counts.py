"""The queue's counts stay exact: every open item counted, resolved ones left out until their row changes."""

import pytest

from audit.models import Source
from billing.models import Invoice
from customers.models import System
from customers.selectors import ROWS_PER_GROUP, action_items_for
from customers.services import action_item_assign, action_item_resolve
from tests.screens import helpers

pytestmark = pytest.mark.django_db


def _group(user, key: str):
    return next((g for g in action_items_for(user=user).groups if g.key == key), None)


def _failed_payments(n: int) -> list[Invoice]:
    c = helpers.customer()
    for _ in range(n):
        helpers.billing_rows(c)
    return list(Invoice.objects.filter(customer=c))


def test_a_group_counts_every_open_item_beyond_the_rows_it_shows(owner):
    _failed_payments(ROWS_PER_GROUP + 3)
    group = _group(owner, "failed_payment")
    assert (group.count, len(group.items), group.more) == (ROWS_PER_GROUP + 3, ROWS_PER_GROUP, 3)


def test_resolved_items_leave_the_count_and_return_when_their_row_changes(owner):
    invoices = _failed_payments(ROWS_PER_GROUP + 2)
    for invoice in invoices[:3]:
        action_item_resolve(kind="failed_payment", object_id=str(invoice.pk), note="Called them", actor=owner,
                            source=Source.UI)
    group = _group(owner, "failed_payment")
    assert group.count == ROWS_PER_GROUP - 1
    assert {item.object_id for item in group.items}.isdisjoint({str(i.pk) for i in invoices[:3]})
    invoices[0].attempt_count += 1
    invoices[0].save()  # failed again after the follow-up
    group = _group(owner, "failed_payment")
    assert group.count == ROWS_PER_GROUP and str(invoices[0].pk) in {item.object_id for item in group.items}


def test_assigning_an_item_keeps_it_counted_and_shows_its_owner(owner):
    job = helpers.dead_job(system=System.EMAIL)
    helpers.dead_job(system=System.EMAIL)
    action_item_assign(kind="dead_job", object_id=str(job.pk), assignee=owner, actor=owner, source=Source.UI)
    group = _group(owner, "dead_job:email")
    assert group.count == 2
    assert next(i for i in group.items if i.object_id == str(job.pk)).assignee == owner
