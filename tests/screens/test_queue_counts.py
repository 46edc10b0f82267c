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


def _dead_jobs(system: str, n: int, *, customer=None) -> list:
    from datetime import timedelta

    from django.utils import timezone

    jobs = [helpers.dead_job(customer, system=system) for _ in range(n)]
    for age, job in enumerate(jobs):  # distinct finish times: the newest is the last made
        type(job).objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(minutes=len(jobs) - age))
    return jobs


def test_each_system_counts_its_own_dead_jobs_and_shows_its_newest_first(owner):
    crm = _dead_jobs(System.CRM, ROWS_PER_GROUP + 2)
    email = _dead_jobs(System.EMAIL, 1)
    groups = {g.key: g for g in action_items_for(user=owner).groups}
    assert (groups["dead_job:crm"].count, groups["dead_job:email"].count) == (ROWS_PER_GROUP + 2, 1)
    assert [i.object_id for i in groups["dead_job:crm"].items] == [str(j.pk) for j in reversed(crm[2:])]
    assert [i.object_id for i in groups["dead_job:email"].items] == [str(email[0].pk)]
    assert {"dead_job:support", "dead_job:community"}.isdisjoint(groups)


def test_retry_all_is_offered_only_for_a_system_with_more_than_one_dead_job(owner):
    _dead_jobs(System.CRM, 2)
    _dead_jobs(System.EMAIL, 1)
    groups = {g.key: g for g in action_items_for(user=owner).groups}
    assert groups["dead_job:crm"].bulk_actions == ("retry_all",)
    assert groups["dead_job:email"].bulk_actions == ()
    assert all(g.bulk_actions == () for g in action_items_for(user=owner, mine=True).groups)


def test_a_dead_job_of_a_restricted_customer_is_neither_shown_nor_counted_for_staff_without_a_grant(owner, finance):
    hidden = helpers.customer(restricted=True)
    _dead_jobs(System.CRM, 2, customer=hidden)
    shown = _dead_jobs(System.CRM, 1)
    group = _group(finance, "dead_job:crm")
    assert (group.count, [i.object_id for i in group.items]) == (1, [str(shown[0].pk)])
    assert _group(owner, "dead_job:crm").count == 3


def test_every_systems_dead_jobs_are_read_in_one_query(owner, django_assert_num_queries):
    for system in (System.CRM, System.SUPPORT, System.COMMUNITY, System.EMAIL):
        _dead_jobs(system, 2)
    from customers.selectors import QueueContext, dead_job_items

    ctx = QueueContext(user=owner)
    dead_job_items(ctx)  # permissions read and remembered on the user
    with django_assert_num_queries(1):
        groups = dead_job_items(QueueContext(user=owner))
    assert [len(g.items) for g in groups] == [2, 2, 2, 2]


def test_the_dead_jobs_of_every_system_are_counted_in_one_grouped_read(owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n, system in enumerate((System.CRM, System.SUPPORT, System.COMMUNITY, System.EMAIL), start=ROWS_PER_GROUP):
        _dead_jobs(system, n)
    _failed_payments(2)
    with CaptureQueriesContext(connection) as queries:
        groups = {g.key: g.count for g in action_items_for(user=owner).groups}
    assert groups == {"dead_job:crm": ROWS_PER_GROUP, "dead_job:support": ROWS_PER_GROUP + 1,
                      "dead_job:community": ROWS_PER_GROUP + 2, "dead_job:email": ROWS_PER_GROUP + 3, "failed_payment": 2,
                      "dispute": 2, "support_ticket": 2}
    (count,) = [q["sql"] for q in queries.captured_queries if "q_group" in q["sql"]]
    assert count.count('FROM "sync_syncjob"') == 1
