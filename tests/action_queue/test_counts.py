"""The queue's counts stay exact: every open item counted, resolved ones left out until their row changes."""

import pytest

from action_queue.items import ROWS_PER_GROUP
from action_queue.selectors import action_items_for
from action_queue.services import action_item_assign, action_item_resolve
from audit.models import Source
from billing.models import Invoice
from customers.models import System
from tests import helpers

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


def test_the_dead_jobs_of_every_system_are_counted_in_one_grouped_read(owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n, system in enumerate((System.CRM, System.SUPPORT, System.COMMUNITY, System.EMAIL), start=ROWS_PER_GROUP):
        for _ in range(n):
            helpers.dead_job(system=system)
    _failed_payments(2)
    with CaptureQueriesContext(connection) as queries:
        groups = {g.key: g.count for g in action_items_for(user=owner).groups}
    assert groups == {"dead_job:crm": ROWS_PER_GROUP, "dead_job:support": ROWS_PER_GROUP + 1,
                      "dead_job:community": ROWS_PER_GROUP + 2, "dead_job:email": ROWS_PER_GROUP + 3, "failed_payment": 2,
                      "dispute": 2, "support_ticket": 2}
    (count,) = [q["sql"] for q in queries.captured_queries if "q_group" in q["sql"]]
    assert count.count('FROM "sync_syncjob"') == 1
