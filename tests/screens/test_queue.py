import pytest
from django.urls import reverse

from audit.models import AuditEvent
from customers.models import ActionItemState, CustomerStatus, System
from customers.selectors import action_items_for
from customers.services import customer_assign
from sync.models import JobStatus, SyncJob
from tests.screens import helpers

pytestmark = pytest.mark.django_db


def _kinds(user, **kw):
    return {g.key: g for g in action_items_for(user=user, **kw).groups}


def test_a_dead_job_shows_with_its_system_reason_and_customer(client, owner):
    job = helpers.dead_job(error="401 Unauthorized: token rejected")
    client.force_login(owner)
    html = client.get(reverse("home")).content.decode()
    assert "Dead CRM jobs" in html
    assert "401 Unauthorized: token rejected" in html
    assert job.customer.public_id in html
    assert reverse("queue_retry", args=[job.pk]) in html


def test_support_sees_dead_support_jobs_but_not_crm_ones(support):
    helpers.dead_job(system=System.CRM)
    helpers.dead_job(system=System.SUPPORT)
    assert set(_kinds(support)) == {"dead_job:support"}


def test_what_a_role_may_not_act_on_is_not_shown(finance, support):
    c = helpers.customer(status=CustomerStatus.NEEDS_REVIEW, review_reason="Same email")
    helpers.billing_rows(c)
    helpers.failed_event(c)
    assert "needs_review" not in _kinds(finance)
    assert {"failed_payment", "dispute", "failed_event"} <= set(_kinds(finance))
    assert not {"failed_payment", "dispute", "failed_event", "needs_review"} & set(_kinds(support))


def test_a_crafted_retry_of_a_job_the_role_may_not_retry_is_refused(client, support):
    job = helpers.dead_job(system=System.CRM)
    client.force_login(support)
    assert client.post(reverse("queue_retry", args=[job.pk])).status_code == 403
    job.refresh_from_db()
    assert job.status == JobStatus.DEAD


def test_retry_from_the_queue_requeues_the_job_and_swaps_the_row(client, owner):
    job = helpers.dead_job()
    client.force_login(owner)
    response = client.post(reverse("queue_retry", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Queued again" in response.content.decode()
    assert "<html" not in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING
    assert AuditEvent.objects.filter(action="sync.job_retry", actor=owner).exists()


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


def test_paused_system_is_an_item_the_owner_can_resume(client, owner):
    from sync.models import SystemState

    state = SystemState.objects.create(system="crm", paused=True, paused_reason="Token rotation")
    client.force_login(owner)
    assert "system" in _kinds(owner)
    response = client.post(reverse("queue_resume", args=[state.pk]))
    assert response.status_code == 200 and "resumed" in response.content.decode()
    state.refresh_from_db()
    assert not state.paused


def test_override_against_billing_is_an_item(owner):
    from datetime import timedelta

    from django.utils import timezone

    helpers.customer(status=CustomerStatus.PAST_DUE, override_status=CustomerStatus.ACTIVE, override_reason="Goodwill",
                     override_expires_at=timezone.now() + timedelta(days=3))
    group = _kinds(owner)["override_conflict"]
    assert "Override says active, billing says past due" in group.items[0].what


def test_retry_all_from_the_queue_requeues_every_dead_job_of_the_system_and_shows_progress(client, owner):
    jobs = [helpers.dead_job() for _ in range(3)]
    other = helpers.dead_job(system=System.EMAIL)
    client.force_login(owner)
    response = client.post(reverse("queue_retry_all", args=["crm"]))
    assert response.status_code == 302
    assert {j.status for j in SyncJob.objects.filter(pk__in=[j.pk for j in jobs])} == {JobStatus.PENDING}
    assert SyncJob.objects.get(pk=other.pk).status == JobStatus.DEAD
    assert "0 of 3" in client.get(response.url).content.decode()


def test_a_failed_payment_is_waiting_since_stripe_declined_it_and_a_resolved_one_returns_when_it_changes(owner):
    from datetime import timedelta

    from django.utils import timezone

    from billing.models import Invoice
    from customers.services import action_item_resolve

    declined = timezone.now().replace(microsecond=0) - timedelta(days=4)
    c = helpers.customer(status=CustomerStatus.PAST_DUE)
    invoice = Invoice.objects.create(stripe_id="in_late", customer=c, status="open", amount_due=4900, currency="usd",
                                     payment_failed=True, attempt_count=1, last_event_created=declined)
    [item] = _kinds(owner)["failed_payment"].items
    assert item.since == declined  # not the moment the row was written
    action_item_resolve(kind="failed_payment", object_id=str(invoice.pk), note="Called them", actor=owner, source="ui")
    assert "failed_payment" not in _kinds(owner)
    Invoice.objects.filter(pk=invoice.pk).update(attempt_count=2, updated_at=timezone.now() + timedelta(seconds=1))
    assert "failed_payment" in _kinds(owner)  # the next decline brings it back, though Stripe's time is older
