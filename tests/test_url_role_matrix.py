"""Every URL the project has, as every role, with the status the server must answer.

A URL added to the project without a row here fails ``test_every_url_has_a_row``.
"""

from collections.abc import Callable

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ROLES = ("anonymous", "owner", "finance", "support", "norole")


def expect(anonymous: int, owner: int, finance: int, support: int, norole: int) -> dict[str, int]:
    return dict(anonymous=anonymous, owner=owner, finance=finance, support=support, norole=norole)


PUBLIC = expect(200, 200, 200, 200, 200)
EVERY_ROLE = expect(302, 200, 200, 200, 403)

# (url name, method) -> expected status per role
MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("healthz", "GET"): PUBLIC,
    ("readyz", "GET"): PUBLIC,
    # Public by design: four booleans for uptime monitors (heartbeats are fresh in this test).
    ("healthz_deep", "GET"): PUBLIC,
    ("favicon", "GET"): PUBLIC,
    # Public by design; an unsigned request is refused whoever sends it.
    ("stripe_webhook", "POST"): expect(400, 400, 400, 400, 400),
    ("stripe_webhook", "GET"): expect(405, 405, 405, 405, 405),
    # The desk's webhook is signed too: unsigned is 401 whoever sends it.
    ("support_webhook", "POST"): expect(401, 401, 401, 401, 401),
    ("support_webhook", "GET"): expect(405, 405, 405, 405, 405),
    # Intercom as the desk signs with the app's client secret: unsigned is 401 whoever sends it.
    ("intercom_webhook", "POST"): expect(401, 401, 401, 401, 401),
    ("intercom_webhook", "GET"): expect(405, 405, 405, 405, 405),
    # The public support form (an empty POST is a form with errors, for anyone).
    ("support_request_new", "GET"): PUBLIC,
    ("support_request_new", "POST"): expect(422, 422, 422, 422, 422),
    ("support_request_thanks", "GET"): PUBLIC,
    # Token-protected scrape endpoint: disabled until METRICS_TOKEN is set, whoever asks.
    ("metrics", "GET"): expect(403, 403, 403, 403, 403),
    ("system_health", "GET"): expect(302, 200, 403, 403, 403),
    ("mapping_rules", "GET"): expect(302, 200, 403, 403, 403),
    # an empty form: the owner gets the page back with the error, everyone else is refused
    ("mapping_rule_save", "POST"): expect(302, 400, 403, 403, 403),
    ("login", "GET"): expect(200, 302, 302, 302, 302),
    ("logout", "POST"): expect(302, 302, 302, 302, 302),
    ("password_change", "GET"): expect(302, 200, 200, 200, 200),
    ("password_change_done", "GET"): expect(302, 200, 200, 200, 200),
    ("home", "GET"): EVERY_ROLE,
    # the action queue (POST bodies are empty here: refused roles get 403 before any parsing)
    ("queue_assign", "POST"): expect(302, 200, 200, 403, 403),
    ("queue_resolve", "POST"): expect(302, 422, 422, 403, 403),
    ("queue_retry", "POST"): expect(302, 200, 200, 403, 403),
    ("queue_retry_all", "POST"): expect(302, 302, 302, 403, 403),
    ("queue_replay", "POST"): expect(302, 200, 200, 403, 403),
    ("queue_resume", "POST"): expect(302, 200, 403, 403, 403),
    # drift between the tools and billing: the owner's, and finance's for money fields (here: the plan)
    ("queue_drift_repair", "POST"): expect(302, 200, 200, 403, 403),
    ("queue_resend_delivery", "POST"): expect(302, 200, 403, 403, 403),
    ("drift_detail", "GET"): expect(302, 200, 200, 403, 403),
    ("drift_ignore", "POST"): expect(302, 422, 422, 403, 403),  # an empty note
    ("drift_accept", "POST"): expect(302, 409, 409, 403, 403),  # only an identity difference can be accepted
    ("drift_repair", "POST"): expect(302, 302, 302, 403, 403),
    ("drift_repair_all", "GET"): expect(302, 200, 403, 403, 403),
    ("drift_repair_all", "POST"): expect(302, 302, 403, 403, 403),
    # customers
    ("customer_list", "GET"): EVERY_ROLE,
    ("customer_detail", "GET"): EVERY_ROLE,
    ("customer_override", "POST"): expect(302, 302, 403, 403, 403),
    ("customer_override_remove", "POST"): expect(302, 302, 403, 403, 403),
    ("customer_assign", "POST"): expect(302, 302, 403, 403, 403),
    ("customer_review", "GET"): expect(302, 200, 403, 403, 403),
    ("customer_merge", "POST"): expect(302, 302, 403, 403, 403),
    ("customer_distinct", "POST"): expect(302, 302, 403, 403, 403),
    ("merge_undo", "POST"): expect(302, 302, 403, 403, 403),
    # sync log and switches
    ("job_list", "GET"): EVERY_ROLE,
    ("job_detail", "GET"): EVERY_ROLE,
    ("job_retry", "POST"): expect(302, 302, 302, 403, 403),
    # an empty note: who may retry the job's system gets the form back with the error
    ("job_set_aside", "POST"): expect(302, 422, 422, 403, 403),
    ("job_set_aside", "HTMX POST"): expect(302, 422, 422, 403, 403),
    # the job is dead, not set aside: a message and back to the job
    ("job_set_aside_undo", "POST"): expect(302, 302, 302, 403, 403),
    ("jobs_retry_selected", "POST"): expect(302, 302, 302, 302, 403),
    ("retry_batch", "GET"): expect(302, 404, 404, 404, 403),
    ("system_list", "GET"): EVERY_ROLE,
    ("system_retry_dead", "GET"): expect(302, 200, 200, 403, 403),
    ("system_retry_dead", "POST"): expect(302, 302, 302, 403, 403),
    # sending simulated jobs to the real tool: the owner's (here crm still runs in sandbox: the page
    # explains, the POST is refused with a message)
    ("system_send_simulated", "GET"): expect(302, 200, 403, 403, 403),
    ("system_send_simulated", "POST"): expect(302, 302, 403, 403, 403),
    ("system_pause", "POST"): expect(302, 302, 403, 403, 403),
    ("system_resume", "POST"): expect(302, 302, 403, 403, 403),
    # webhook log
    ("event_list", "GET"): EVERY_ROLE,
    ("event_detail", "GET"): EVERY_ROLE,
    ("event_replay", "POST"): expect(302, 302, 302, 403, 403),
    # support: cases by support and owner, routing rules by the owner
    ("support_case_new", "GET"): expect(302, 200, 403, 200, 403),
    ("support_case_new", "POST"): expect(302, 422, 403, 422, 403),
    ("support_routing", "GET"): expect(302, 200, 403, 403, 403),
    ("support_routing", "POST"): expect(302, 422, 403, 403, 403),
    ("support_ticket_detail", "GET"): EVERY_ROLE,
    ("support_ticket_link", "POST"): expect(302, 302, 403, 302, 403),
    # the product apps' ticket intake: an API key is the only credential (a session is none)
    ("support_intake_tickets", "POST"): expect(401, 401, 401, 401, 401),
    ("support_intake_tickets", "GET"): expect(405, 405, 405, 405, 405),
    # its keys are the owner's (an empty form is the page back with the error)
    ("support_api_keys", "GET"): expect(302, 200, 403, 403, 403),
    ("support_api_keys", "POST"): expect(302, 422, 403, 403, 403),
    ("support_api_key_revoke", "POST"): expect(302, 302, 403, 403, 403),
    # changing a desk ticket: support and the owner (an empty POST is a form with errors); finance only reads
    ("support_ticket_change", "POST"): expect(302, 422, 403, 422, 403),
    # refunds (finance and owner; approval is the owner's)
    ("refund_list", "GET"): expect(302, 200, 200, 403, 403),
    ("refund_list", "HTMX GET"): expect(302, 200, 200, 403, 403),
    ("refund_new", "GET"): expect(302, 200, 200, 403, 403),
    ("refund_new", "POST"): expect(302, 422, 422, 403, 403),
    ("refund_confirm", "POST"): expect(302, 302, 302, 403, 403),
    ("refund_confirm", "HTMX POST"): expect(302, 200, 200, 403, 403),
    ("refund_detail", "GET"): expect(302, 200, 200, 403, 403),
    ("refund_send", "POST"): expect(302, 302, 302, 403, 403),
    ("refund_retry", "POST"): expect(302, 302, 302, 403, 403),
    ("refund_approve", "POST"): expect(302, 302, 403, 403, 403),
    ("refund_approve", "HTMX POST"): expect(302, 200, 403, 403, 403),
    ("refund_reject", "POST"): expect(302, 302, 403, 403, 403),
    # subscription actions (finance and owner; approval is the owner's). No Stripe key here: the page says
    # so before any form, and a POST is refused with the same sentence.
    ("subscription_change_new", "GET"): expect(302, 200, 200, 403, 403),
    ("subscription_change_new", "POST"): expect(302, 422, 422, 403, 403),
    ("subscription_change_confirm", "POST"): expect(302, 302, 302, 403, 403),
    ("subscription_change_detail", "GET"): expect(302, 200, 200, 403, 403),
    ("subscription_change_send", "POST"): expect(302, 302, 302, 403, 403),
    ("subscription_change_approve", "POST"): expect(302, 302, 403, 403, 403),
    ("subscription_change_reject", "POST"): expect(302, 302, 403, 403, 403),
    # staff management (owner only); the invitation link is public and checks its token
    ("staff_list", "GET"): expect(302, 200, 403, 403, 403),
    ("staff_invite", "GET"): expect(302, 200, 403, 403, 403),
    ("staff_invite", "POST"): expect(302, 422, 403, 403, 403),
    ("staff_role", "POST"): expect(302, 302, 403, 403, 403),
    ("staff_deactivate", "POST"): expect(302, 302, 403, 403, 403),
    ("staff_deactivate", "HTMX POST"): expect(302, 200, 403, 403, 403),
    ("staff_reactivate", "POST"): expect(302, 302, 403, 403, 403),
    ("staff_set_password", "GET"): PUBLIC,
    ("staff_set_password", "POST"): PUBLIC,
    # audit trail: everyone with a role reads (filtered by role); only the owner exports
    ("audit_list", "GET"): EVERY_ROLE,
    ("audit_list", "HTMX GET"): EVERY_ROLE,
    ("audit_export", "POST"): expect(302, 200, 403, 403, 403),
    ("customer_export", "POST"): expect(302, 200, 403, 403, 403),
    ("customer_restrict", "POST"): expect(302, 302, 403, 403, 403),
    # notes: every role writes (an empty note is the form back with its error); only the author edits
    ("note_create", "POST"): expect(302, 422, 422, 422, 403),
    ("note_create", "HTMX POST"): expect(302, 422, 422, 422, 403),
    ("note_edit", "GET"): expect(302, 403, 403, 403, 403),
    ("note_edit", "POST"): expect(302, 403, 403, 403, 403),
    ("note_correct", "GET"): expect(302, 200, 200, 200, 403),
    ("note_correct", "POST"): expect(302, 422, 422, 422, 403),
    # outbound webhooks and Slack routes: the owner's (empty forms are the page back with the error; an
    # empty reason to switch off is a message and back to the endpoint)
    ("webhook_endpoints", "GET"): expect(302, 200, 403, 403, 403),
    ("webhook_endpoint_new", "GET"): expect(302, 200, 403, 403, 403),
    ("webhook_endpoint_new", "POST"): expect(302, 422, 403, 403, 403),
    ("webhook_endpoint", "GET"): expect(302, 200, 403, 403, 403),
    ("webhook_endpoint_edit", "GET"): expect(302, 200, 403, 403, 403),
    ("webhook_endpoint_edit", "POST"): expect(302, 422, 403, 403, 403),
    ("webhook_endpoint_rotate", "POST"): expect(302, 200, 403, 403, 403),
    ("webhook_endpoint_disable", "POST"): expect(302, 302, 403, 403, 403),
    ("webhook_endpoint_enable", "POST"): expect(302, 302, 403, 403, 403),
    ("webhook_endpoint_test", "POST"): expect(302, 302, 403, 403, 403),
    ("webhook_delivery_resend", "POST"): expect(302, 302, 403, 403, 403),
    # an empty note: a message and back to the endpoint
    ("webhook_delivery_set_aside", "POST"): expect(302, 302, 403, 403, 403),
    # the htmx partials of the other screens answer like their pages
    ("home", "HTMX GET"): EVERY_ROLE,
    ("customer_list", "HTMX GET"): EVERY_ROLE,
    ("event_list", "HTMX GET"): EVERY_ROLE,
    ("job_list", "HTMX GET"): EVERY_ROLE,
    ("queue_assign", "HTMX POST"): expect(302, 200, 200, 403, 403),
    ("customer_override_remove", "HTMX POST"): expect(302, 200, 403, 403, 403),
}

# URL name -> function building its kwargs (objects created per test).
URL_KWARGS: dict[str, Callable[[], dict]] = {
    "mapping_rule_save": lambda: {"system": "email"},
}


def _dead_crm_job() -> dict:
    from sync.models import JobStatus
    from tests.factories import SyncJobFactory

    return {"object_id": str(SyncJobFactory(status=JobStatus.DEAD, last_error="401").pk)}


def _failed_event() -> int:
    from billing.models import EventStatus
    from tests.factories import StripeEventFactory

    return StripeEventFactory(status=EventStatus.FAILED, last_error="boom").pk


def _public_id() -> dict:
    from tests.factories import CustomerFactory

    return {"public_id": CustomerFactory().public_id}


def _paused_system() -> dict:
    from sync.models import SystemState

    return {"object_id": str(SystemState.objects.create(system="crm", paused=True, paused_reason="test").pk)}


def _merge() -> dict:
    from customers.models import CustomerMerge
    from tests.factories import CustomerFactory

    survivor, merged = CustomerFactory(), CustomerFactory()
    merged.merged_into = survivor
    merged.save()
    return {"pk": CustomerMerge.objects.create(survivor=survivor, merged=merged, moved={}, previous={}).pk}


def _refund_waiting() -> dict:
    """A refund above the approval limit, asked for by someone else (nothing reaches Stripe in these tests)."""
    from billing.services.refunds import refund_request
    from tests.factories import ChargeFactory, UserFactory

    charge = ChargeFactory(amount=10_000_000)
    request = refund_request(
        charge=charge, amount=9_000_000, reason="duplicate", note="", actor=UserFactory(role="finance")
    )
    return {"pk": request.pk}


def _note() -> dict:
    """A note someone else wrote a moment ago (nobody in the matrix is its author)."""
    from customers.notes import note_write
    from tests.factories import CustomerFactory, UserFactory

    note = note_write(customer=CustomerFactory(), body="Called them", internal=False, actor=UserFactory(role="support"))
    return {"public_id": note.customer.public_id, "pk": note.pk}


def _api_key() -> dict:
    from support.intake_keys import api_key_create

    return {"pk": api_key_create(name="iOS app")[0].pk}


def _live_subscription():
    from billing.models import Subscription
    from tests.factories import CustomerFactory

    return Subscription.objects.create(stripe_id=f"sub_matrix{Subscription.objects.count()}", status="active",
                                       customer=CustomerFactory(), amount=4900, currency="usd", interval="month")


def _subscription_action() -> dict:
    return {"pk": _live_subscription().pk, "kind": "cancel_at_period_end"}


def _subscription_change() -> dict:
    """A change waiting for approval, asked for by someone else (nothing reaches Stripe in these tests)."""
    from billing.services.subscriptions import subscription_change_request
    from tests.factories import UserFactory

    change = subscription_change_request(subscription=_live_subscription(), kind="cancel_at_period_end",
                                         actor=UserFactory(role="finance"), submit_token="matrix-token-000001")
    return {"pk": change.pk}


def _staff_pk() -> dict:
    from tests.factories import UserFactory

    return {"pk": UserFactory(role="support").pk}


def _unmatched_ticket() -> dict:
    from support.models import Ticket

    ticket = Ticket.objects.create(idempotency_key="form:matrix", subject="Help", source="form", needs_match=True)
    return {"pk": ticket.pk}


def _plan_drift() -> dict:
    from sync.models import ToolDrift
    from tests.factories import CustomerFactory

    drift = ToolDrift.objects.create(customer=CustomerFactory(), system="crm", kind="wrong_value", field="plan",
                                 expected="Pro", actual="Basic", external_id="1")
    return {"pk": drift.pk}


def _endpoint() -> dict:
    from webhooks.services import endpoint_create

    endpoint, _ = endpoint_create(kind="standard", url="https://hooks.example.com/in", event_types=["payment.failed"],
                                  actor=None)
    return {"pk": endpoint.pk}


def _delivery() -> dict:
    from sync.models import JobStatus
    from tests.factories import SyncJobFactory
    from webhooks.models import Endpoint

    endpoint = Endpoint.objects.get(pk=_endpoint()["pk"])
    job = SyncJobFactory(system=endpoint.system, action="deliver", status=JobStatus.DEAD,
                         payload={"message_id": "msg_1", "event_type": "payment.failed", "body": "{}"})
    return {"pk": endpoint.pk, "job_pk": job.pk}


def _job_pk() -> dict:
    return {"pk": int(_dead_crm_job()["object_id"])}


URL_KWARGS.update(
    {
        "queue_assign": lambda: {"kind": "dead_job", **_dead_crm_job()},
        "queue_resolve": lambda: {"kind": "dead_job", **_dead_crm_job()},
        "queue_retry": _dead_crm_job,
        "queue_retry_all": lambda: {"system": "crm"},
        "queue_replay": lambda: {"object_id": str(_failed_event())},
        "queue_resume": _paused_system,
        "queue_drift_repair": lambda: {"object_id": _plan_drift()["pk"]},
        "queue_resend_delivery": lambda: {"object_id": _delivery()["job_pk"]},
        "drift_detail": _plan_drift,
        "drift_ignore": _plan_drift,
        "drift_accept": _plan_drift,
        "drift_repair": _plan_drift,
        "drift_repair_all": lambda: {"system": "crm", "kind": "wrong_value"},
        "customer_detail": _public_id,
        "customer_override": _public_id,
        "customer_override_remove": _public_id,
        "customer_assign": _public_id,
        "customer_restrict": _public_id,
        "customer_review": _public_id,
        "customer_merge": _public_id,
        "customer_distinct": _public_id,
        "merge_undo": _merge,
        "job_detail": _job_pk,
        "job_retry": _job_pk,
        "job_set_aside": _job_pk,
        "job_set_aside_undo": _job_pk,
        "retry_batch": lambda: {"key": "unknown"},
        "system_retry_dead": lambda: {"system": "crm"},
        "system_send_simulated": lambda: {"system": "crm"},
        "system_pause": lambda: {"system": "crm"},
        "system_resume": lambda: {"system": "crm"},
        "event_detail": lambda: {"pk": _failed_event()},
        "event_replay": lambda: {"pk": _failed_event()},
        "support_case_new": _public_id,
        "support_ticket_detail": _unmatched_ticket,
        "support_ticket_link": _unmatched_ticket,
        "support_ticket_change": _unmatched_ticket,
        "refund_new": _public_id,
        "refund_confirm": _public_id,
        "refund_detail": _refund_waiting,
        "refund_send": _refund_waiting,
        "refund_retry": _refund_waiting,
        "refund_approve": _refund_waiting,
        "refund_reject": _refund_waiting,
        "support_api_key_revoke": _api_key,
        "note_create": _public_id,
        "note_edit": _note,
        "note_correct": _note,


        "subscription_change_new": _subscription_action,
        "subscription_change_confirm": _subscription_action,
        "subscription_change_detail": _subscription_change,
        "subscription_change_send": _subscription_change,
        "subscription_change_approve": _subscription_change,
        "subscription_change_reject": _subscription_change,
        "webhook_endpoint": _endpoint,
        "webhook_endpoint_edit": _endpoint,
        "webhook_endpoint_rotate": _endpoint,
        "webhook_endpoint_disable": _endpoint,
        "webhook_endpoint_enable": _endpoint,
        "webhook_endpoint_test": _endpoint,
        "webhook_delivery_resend": _delivery,
        "webhook_delivery_set_aside": _delivery,
        "staff_role": _staff_pk,
        "staff_deactivate": _staff_pk,
        "staff_reactivate": _staff_pk,
        "staff_set_password": lambda: {"uidb64": "MTIzNDU", "token": "bogus-token"},
    }
)


def _project_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace: str | None) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace == "admin":
                    continue  # Django's admin: superusers only, guarded by Django itself
                walk(p.url_patterns, p.namespace or namespace)
            elif isinstance(p, URLPattern) and p.name:
                names.add(f"{namespace}:{p.name}" if namespace else p.name)

    walk(get_resolver().url_patterns, None)
    return names


def test_every_url_has_a_row():
    covered = {name for name, _ in MATRIX}
    missing = _project_url_names() - covered
    assert not missing, f"URLs without a row in the role matrix: {sorted(missing)}"


CASES = [(name, method, role) for (name, method) in MATRIX for role in ROLES]


@pytest.mark.parametrize(("name", "method", "role"), CASES, ids=[f"{m} {n} as {r}" for n, m, r in CASES])
def test_role_gets_expected_status(client, users, heartbeats, name, method, role):
    if role != "anonymous":
        client.force_login(users[role])
    kwargs = URL_KWARGS.get(name, dict)()
    url = reverse(name, kwargs=kwargs)
    htmx = {"HX-Request": "true"} if method.startswith("HTMX") else {}
    response = client.get(url, headers=htmx) if method.endswith("GET") else client.post(url, headers=htmx)
    assert response.status_code == MATRIX[(name, method)][role], (
        f"{method} {url} as {role}: {response.status_code}"
    )
