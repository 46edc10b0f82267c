import pytest
from django.urls import reverse

from action_queue.models import ActionItemState
from action_queue.selectors import action_items_for
from audit.models import AuditEvent
from customers.models import CustomerStatus
from customers.services import customer_assign
from tests import helpers

pytestmark = pytest.mark.django_db


def _kinds(user, **kw):
    return {g.key: g for g in action_items_for(user=user, **kw).groups}


def test_what_a_role_may_not_act_on_is_not_shown(finance, support):
    c = helpers.customer(status=CustomerStatus.NEEDS_REVIEW, review_reason="Same email")
    helpers.billing_rows(c)
    helpers.failed_event(c)
    assert "needs_review" not in _kinds(finance)
    assert {"failed_payment", "dispute", "failed_event"} <= set(_kinds(finance))
    assert not {"failed_payment", "dispute", "failed_event", "needs_review"} & set(_kinds(support))


def test_resolving_needs_a_note_and_hides_the_item_until_its_row_changes(client, owner):
    job = helpers.dead_job()
    client.force_login(owner)
    url = reverse("queue_resolve", args=["dead_job", job.pk])
    assert client.post(url, {"note": ""}).status_code == 422
    assert client.post(url, {"note": "Rotated the CRM token"}).status_code == 200
    assert "dead_job:crm" not in _kinds(owner)
    state = ActionItemState.objects.get(kind="dead_job", object_id=str(job.pk))
    assert state.resolved_by == owner and state.resolved_note == "Rotated the CRM token"
    assert AuditEvent.objects.filter(action="queue.resolve").exists()
    job.last_error = "401 again"
    job.save()  # the problem happened again after the resolution
    assert "dead_job:crm" in _kinds(owner)


def test_assign_to_me_puts_the_item_in_my_queue_only(client, owner, finance):
    mine = helpers.dead_job()
    helpers.dead_job()
    client.force_login(finance)
    response = client.post(reverse("queue_assign", args=["dead_job", mine.pk]))
    assert response.status_code == 200 and "<strong>you</strong>" in response.content.decode()
    finance_queue = _kinds(finance, mine=True)
    assert [i.object_id for i in finance_queue["dead_job:crm"].items] == [str(mine.pk)]
    assert _kinds(owner, mine=True) == {}


def test_restricted_customers_items_are_hidden_from_staff_they_are_not_assigned_to(finance, owner):
    hidden = helpers.customer(restricted=True)
    helpers.dead_job(hidden)
    assert "dead_job:crm" not in _kinds(finance)
    assert "dead_job:crm" in _kinds(owner)
    customer_assign(customer=hidden, assignee=finance, actor=owner, source="ui")  # assignment grants the view
    assert "dead_job:crm" in _kinds(finance)


def test_empty_queue_says_nothing_needs_you_and_when_the_last_event_came(client, owner):
    helpers.failed_event(status="processed", last_error="")
    client.force_login(owner)
    html = client.get(reverse("home")).content.decode()
    assert "Nothing needs you." in html
    assert "Last event received" in html and "just now" in html


def test_the_refresh_request_gets_only_the_list_region(client, owner):
    helpers.dead_job()
    client.force_login(owner)
    html = client.get(reverse("home"), HTTP_HX_REQUEST="true").content.decode()
    assert "Dead CRM jobs" in html
    assert "navbar" not in html and "queue-region" not in html
