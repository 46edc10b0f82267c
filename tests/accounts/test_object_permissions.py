"""Restricted customers: visible to the owner and to staff holding a django-guardian grant (given by assignment)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from action_queue.selectors import action_items_for
from audit.models import AuditEvent
from customers.selectors import customer_search
from customers.services import customer_assign
from customers.visibility import customer_visible
from sync.models import JobStatus
from tests.factories import CustomerFactory, SyncJobFactory

pytestmark = pytest.mark.django_db


def _ids(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


def test_assignment_grants_and_reassignment_revokes_the_view(finance, support, owner):
    restricted = CustomerFactory(restricted=True)
    assert not customer_visible(user=finance, customer=restricted)
    customer_assign(customer=restricted, assignee=finance, actor=owner, source="ui")
    assert finance.has_perm("customers.view_customer", restricted)
    assert customer_visible(user=finance, customer=restricted)

    customer_assign(customer=restricted, assignee=support, actor=owner, source="ui")
    assert not customer_visible(user=finance, customer=restricted)
    assert customer_visible(user=support, customer=restricted)
    entry = AuditEvent.objects.filter(action="customer.assign").first()
    assert entry.changes["view_grant"] == {"revoked": finance.email, "granted": support.email}


def test_lists_and_searches_show_restricted_customers_only_to_grantees(finance, support, owner):
    open_one = CustomerFactory(name="Open Person")
    granted = CustomerFactory(restricted=True, name="Granted Person")
    hidden = CustomerFactory(restricted=True, name="Hidden Person")
    customer_assign(customer=granted, assignee=finance, actor=owner, source="ui")

    assert _ids(customer_search(user=finance)) == {open_one.pk, granted.pk}
    assert _ids(customer_search(user=support)) == {open_one.pk}
    assert _ids(customer_search(user=owner)) == {open_one.pk, granted.pk, hidden.pk}
    assert _ids(customer_search(user=finance, query="Person")) == {open_one.pk, granted.pk}
    assert customer_search(user=support, query=hidden.email).count() == 0


def test_a_direct_assignment_without_a_grant_does_not_open_a_restricted_customer(support):
    """The grant is the rule: a row edited behind the service's back does not widen access."""
    sneaky = CustomerFactory(restricted=True, assigned_to=support)
    assert not customer_visible(user=support, customer=sneaky)


def test_queue_items_and_counts_hide_restricted_customers(finance, owner):
    hidden = CustomerFactory(restricted=True)
    SyncJobFactory(customer=hidden, status=JobStatus.DEAD, system="crm")
    assert "dead_job" not in {g.kind for g in action_items_for(user=finance).groups}
    assert action_items_for(user=owner).total == 1
    customer_assign(customer=hidden, assignee=finance, actor=owner, source="ui")
    assert action_items_for(user=finance).total == 1


def test_the_detail_page_is_refused_without_a_grant(client, support, owner):
    hidden = CustomerFactory(restricted=True)
    client.force_login(support)
    assert client.get(reverse("customer_detail", args=[hidden.public_id])).status_code == 403
    customer_assign(customer=hidden, assignee=support, actor=owner, source="ui")
    assert client.get(reverse("customer_detail", args=[hidden.public_id])).status_code == 200


def _list_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("customer_list"))
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_the_list_costs_the_same_queries_with_many_restricted_customers(client, finance, owner):
    """No per-row permission checks: the grant is a subquery of the list's own query."""
    for _ in range(3):
        customer_assign(customer=CustomerFactory(restricted=True), assignee=finance, actor=owner, source="ui")
        CustomerFactory(restricted=True)
        CustomerFactory()
    client.force_login(finance)
    _list_queries(client)  # warm what the page caches (plans, counters), so both runs are alike
    few, _ = _list_queries(client)
    for _ in range(20):
        customer_assign(customer=CustomerFactory(restricted=True), assignee=finance, actor=owner, source="ui")
        CustomerFactory(restricted=True)
        CustomerFactory()
    many, page = _list_queries(client)
    assert many == few
    assert page.count('href="/customers/sw_') >= 46  # 23 granted + 23 open, none of the 23 hidden


def _export(client, **data) -> str:
    response = client.post(reverse("customer_export"), data)
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def test_the_customer_export_is_audited_and_follows_the_visibility_rule(client, owner, finance):
    from django.contrib.auth.models import Permission

    open_one = CustomerFactory()
    hidden = CustomerFactory(restricted=True)
    client.force_login(owner)
    body = _export(client)
    assert open_one.public_id in body and hidden.public_id in body
    assert AuditEvent.objects.get(action="customers.exported").changes["rows"] == 2
    # Should export ever be granted to someone else, restricted customers stay hidden from them.
    finance.user_permissions.add(Permission.objects.get(codename="export_customers"))
    client.force_login(finance)
    body = _export(client)
    assert open_one.public_id in body and hidden.public_id not in body


@pytest.mark.parametrize("who", ["finance", "support"])
def test_only_the_owner_exports_customers(client, users, who):
    client.force_login(users[who])
    assert client.post(reverse("customer_export")).status_code == 403


def test_the_owner_restricts_and_opens_a_customer_on_the_record(client, owner, support):
    customer = CustomerFactory()
    client.force_login(owner)
    client.post(reverse("customer_restrict", args=[customer.public_id]), {"restricted": "1"})
    customer.refresh_from_db()
    assert customer.restricted and not customer_visible(user=support, customer=customer)
    assert AuditEvent.objects.get(action="customer.restrict").changes == {"restricted": [False, True]}
    client.post(reverse("customer_restrict", args=[customer.public_id]), {"restricted": "0"})
    customer.refresh_from_db()
    assert not customer.restricted and customer_visible(user=support, customer=customer)


@pytest.mark.parametrize("who", ["finance", "support"])
def test_only_the_owner_restricts(client, users, who):
    customer = CustomerFactory()
    client.force_login(users[who])
    assert client.post(reverse("customer_restrict", args=[customer.public_id]), {"restricted": "1"}).status_code == 403
    customer.refresh_from_db()
    assert not customer.restricted
