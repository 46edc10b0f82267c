"""The "needs action now" page reads a fixed, small number of queries however full the queue is."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from action_queue.items import ROWS_PER_GROUP
from action_queue.selectors import action_items_for
from action_queue.services import action_item_assign
from audit.models import Source
from billing.models import Drift
from customers.models import CustomerStatus, System
from monitoring.models import Incident
from sync.models import SystemState, ToolDrift
from tests import helpers
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db

# Session, user, role and two permission reads; every system's newest dead jobs in one read; one
# read per other kind; one count for every kind with items (each system's dead jobs too); the shown
# items' assignments and customers; the last Stripe event. (Before: 35, with a role read and a
# count query per kind; then 24, with a dead-job count and a read per system; then 20, and 22 once
# the support desk's kinds the owner sees too were added: unlinked form messages, paying customers
# without access; 23 with the outside tools' drift; 24 with subscription changes waiting for an
# owner's approval; 25 with ticket changes the desk refused; 27 with webhook deliveries that gave up,
# which name their endpoints.)
HOME_QUERIES = 27


def _fill_every_kind(n: int, *, assignee) -> None:
    endpoint = Endpoint.objects.create(url="https://hooks.example.com/in", event_types=["payment.failed"],
                                       secret="whsec_" + "0" * 32)
    for i in range(n):
        c = helpers.customer(status=CustomerStatus.NEEDS_REVIEW if i % 2 else CustomerStatus.PAST_DUE,
                             review_reason="Same email" if i % 2 else "", assigned_to=assignee if i % 3 == 0 else None)
        helpers.customer(status=CustomerStatus.CANCELED, override_status=CustomerStatus.ACTIVE, override_reason="Goodwill")
        helpers.billing_rows(c)  # a failed payment, a dispute, a ticket waiting for the desk
        helpers.failed_event(c)
        for system in (System.CRM, System.SUPPORT, System.COMMUNITY, System.EMAIL):
            job = helpers.dead_job(c, system=system)
        helpers.dead_job(c, system=endpoint.system)  # a webhook delivery that gave up
        Incident.objects.create(rule=f"rule_{i}", summary=f"Incident {i}", link="/sync/jobs/", opened_at=timezone.now())
        Drift.objects.create(object_type="subscription", stripe_id=f"sub_{i}", kind=Drift.Kind.STATUS, field="status",
                             ours="active", stripes="past_due", found_at=timezone.now())
        ToolDrift.objects.create(customer=c, system=System.EMAIL, kind="wrong_value", field="tag:customer",
                                 expected="absent", actual="present")
        if i % 2 == 0:
            action_item_assign(kind="dead_job", object_id=str(job.pk), assignee=assignee, actor=assignee, source=Source.UI)
    SystemState.objects.create(system=System.CRM, paused=True, paused_reason="Token rotation")


@pytest.mark.parametrize("url", ["/", "/?mine=1"])
def test_the_home_page_stays_within_its_query_budget_with_many_items_of_every_kind(
    client, owner, url, django_assert_max_num_queries
):
    _fill_every_kind(ROWS_PER_GROUP * 2, assignee=owner)
    groups = action_items_for(user=owner).groups
    assert len(groups) >= 11 and all(len(g.items) == ROWS_PER_GROUP for g in groups if g.kind != "system")
    client.force_login(owner)
    client.get(url)  # per-process caches (content types) warm
    with django_assert_max_num_queries(HOME_QUERIES):
        assert client.get(url).status_code == 200


def _role_reads(queries) -> int:
    return sum(1 for q in queries if '"auth_group"."name"' in q["sql"] and "auth_permission" not in q["sql"])


@pytest.mark.parametrize("url", ["/", "/accounts/password/"])
def test_a_request_reads_the_persons_role_once(client, finance, url):
    helpers.failed_event(helpers.customer())
    client.force_login(finance)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert _role_reads(queries.captured_queries) == 1


def test_a_changed_role_is_read_again_on_the_same_user_object(owner):
    from django.contrib.auth.models import Group

    from accounts.roles import Role, role_of

    assert role_of(owner) == Role.OWNER
    owner.groups.set([Group.objects.get(name=Role.SUPPORT)])
    assert role_of(owner) == Role.SUPPORT


def test_each_row_links_to_what_reverse_gives_also_for_ids_that_need_quoting(client, owner):
    plain = helpers.customer(status=CustomerStatus.NEEDS_REVIEW, review_reason="Same email")
    odd = helpers.customer(status=CustomerStatus.NEEDS_REVIEW, review_reason="Same email", public_id="sw_ä b")
    job = helpers.dead_job(odd, system=System.EMAIL)
    client.force_login(owner)
    page = client.get("/").content.decode()
    for c in (plain, odd):
        assert f'href="{reverse("customer_detail", args=[c.public_id])}"' in page
        assert f'action="{reverse("queue_assign", args=["needs_review", c.pk])}"' in page
    assert f'action="{reverse("queue_retry", args=[job.pk])}"' in page
    assert f'action="{reverse("queue_resolve", args=["dead_job", job.pk])}"' in page
    assert f'href="{reverse("job_detail", args=[job.pk])}"' in page


def test_the_page_shows_every_rows_fields_and_owners_other_than_the_viewer_without_reading_per_row(
    client, owner, finance, support, django_assert_max_num_queries
):
    _fill_every_kind(ROWS_PER_GROUP * 2, assignee=finance)  # customers and dead jobs owned by someone else
    for item in [i for g in action_items_for(user=owner).groups for i in g.items if i.kind == "failed_payment"][:1]:
        action_item_assign(kind=item.kind, object_id=item.object_id, assignee=support, actor=owner, source=Source.UI)
    client.force_login(owner)
    client.get("/")
    with django_assert_max_num_queries(HOME_QUERIES):
        page = client.get("/").content.decode()
    assert f"owner: {finance.email}" in page and f"owner: {support.email}" in page
    for text in ("Payment failed:", "attempts", "Dispute ", "could not be applied", "Override says",
                 "Override: Goodwill", "Same email", "Incident 9", "Rule 9 · no message has gone out yet", "subscription sub_9: status differs", "Switchboard has active",
                 "Ticket not in the support desk", "CRM is paused", "Token rotation", "upsert_contact failed for good"):
        assert text in page, text
