"""Apps put their kinds in the queue by registering them: the queue shows their items, serves their
actions behind its own checks and calls the owning app's code, without knowing the app."""

import sys

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from action_queue import registry
from action_queue.items import ActionGroup, ActionItem, QueueContext, one_group, open_items, page_of
from action_queue.selectors import action_items_for
from monitoring.models import Incident

pytestmark = pytest.mark.django_db

KIND_URLS = "tests.action_queue.kind_urls"
calls: list[tuple] = []


def _poke(*, item: ActionItem, actor, source: str) -> registry.Outcome:
    calls.append((item.kind, item.object_id, actor.email, source))
    return registry.Outcome(done="Poked; nothing else to do.")


def _items(ctx: QueueContext) -> list[ActionGroup]:
    qs = open_items(Incident.objects.filter(rule="poke_me", resolved_at__isnull=True), kind="poke",
                    since=F("opened_at"), changed=F("opened_at"), ctx=ctx, customer_path=None)
    count, rows = page_of(qs, ctx, shown=("summary",))
    items = [ActionItem(kind="poke", object_id=str(i.pk), what=i.summary, reason="Waiting to be poked",
                        since=i.q_since, actions=("poke", "assign")) for i in rows]
    return one_group("poke", "Things to poke", count, items)


@pytest.fixture
def poke_kind(settings):
    kind = registry.register(registry.Kind(
        "poke", _items, lambda user: user.has_perm("monitoring.view_health"), model=Incident, customer_path=None,
        actions=(registry.RowAction("poke", "queue_poke", _poke),),
    ))
    sys.modules.pop(KIND_URLS, None)
    settings.ROOT_URLCONF = KIND_URLS  # the URLs are read again, with this kind's action among them
    calls.clear()
    yield kind
    registry.unregister("poke")
    sys.modules.pop(KIND_URLS, None)


def _incident(summary: str = "Poke me") -> Incident:
    return Incident.objects.create(rule="poke_me", summary=summary, link="/", opened_at=timezone.now())


def test_a_registered_kind_shows_its_items_and_actions_on_the_home_page(client, owner, poke_kind):
    incident = _incident("Poke the widget")
    client.force_login(owner)
    html = client.get(reverse("home")).content.decode()
    assert "Things to poke" in html and "Poke the widget" in html
    assert f'action="/queue/poke/{incident.pk}/poke/"' in html
    assert f'action="{reverse("queue_assign", args=["poke", incident.pk])}"' in html


def test_a_kinds_action_runs_the_owning_apps_code_and_answers_with_the_row(client, owner, poke_kind):
    incident = _incident()
    client.force_login(owner)
    response = client.post(reverse("queue_poke", args=[incident.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Poked; nothing else to do." in response.content.decode()
    assert calls == [("poke", str(incident.pk), owner.email, "ui")]


def test_whom_the_kind_does_not_allow_is_refused_before_its_action_runs(client, finance, poke_kind):
    incident = _incident()
    client.force_login(finance)
    assert client.post(reverse("queue_poke", args=[incident.pk])).status_code == 403
    assert "poke" not in {g.kind for g in action_items_for(user=finance).groups}
    assert calls == []


def test_an_action_on_an_item_no_longer_open_does_not_run(client, owner, poke_kind):
    incident = _incident()
    Incident.objects.filter(pk=incident.pk).update(resolved_at=timezone.now())
    client.force_login(owner)
    response = client.post(reverse("queue_poke", args=[incident.pk]))
    assert response.status_code == 200 and "This item is no longer open." in response.content.decode()
    assert calls == []


def test_another_app_cannot_take_a_kinds_name(poke_kind):
    def other_items(ctx: QueueContext) -> list[ActionGroup]:
        return []

    with pytest.raises(ValueError, match="registered twice"):
        registry.register(registry.Kind("poke", other_items, lambda user: True, model=Incident))
    assert registry.get("poke") is poke_kind


def test_every_app_registers_its_own_kinds():
    owners = {kind.name: kind.read.__module__ for kind in registry.kinds()}
    assert owners == {
        "needs_review": "customers.queue_items", "override_conflict": "customers.queue_items",
        "failed_payment": "billing.queue_items", "dispute": "billing.queue_items",
        "failed_event": "billing.queue_items", "refund_approval": "billing.queue_items",
        "subscription_approval": "billing.subscription_queue",
        "dead_job": "sync.queue_items", "system": "sync.queue_items", "tool_drift": "sync.queue_items",
        "support_ticket": "support.queue_items", "unlinked_message": "support.queue_items",
        "no_access": "support.queue_items", "ticketed_failed_payment": "support.queue_items",
        "ticketed_dispute": "support.queue_items", "refused_ticket_change": "support.queue_items",
        "incident": "monitoring.queue_items", "stripe_drift": "monitoring.queue_items",
        "dead_delivery": "webhooks.queue_items",
    }
