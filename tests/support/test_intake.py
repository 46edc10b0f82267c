"""Tickets from the product's own apps: API-key auth, JSON validation with field names, exactly-once by
Idempotency-Key, a per-key rate limit, and the public form's routing and desk delivery."""

import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from support.intake_keys import api_key_create, api_key_revoke
from support.models import ApiKey, Ticket, TicketSource
from sync.models import SyncJob
from tests import helpers

pytestmark = pytest.mark.django_db

URL = "/support/intake/tickets"


@pytest.fixture
def app_key():
    return api_key_create(name="iOS app")[1]


@pytest.fixture
def customer():
    return helpers.customer(email="ada@example.com", name="Ada")


def good(customer, **changes) -> dict:
    return {"customer_id": customer.public_id, "category": "bug", "urgency": "high", "device": "iPhone 15",
            "app_version": "4.2.1", "message": "The export button does nothing.", **changes}


def post(key: str | None, body, *, idem: str | None = "req-1", client: Client | None = None, **headers):
    client = client or Client(enforce_csrf_checks=True)  # no CSRF token: the key is the only credential
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if idem is not None:
        headers["Idempotency-Key"] = idem
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data, content_type="application/json", headers=headers)


def test_the_url_is_the_documented_one():
    assert reverse("support_intake_tickets") == URL


def test_an_app_opens_a_routed_ticket_for_its_customer_with_the_desk_job(app_key, customer,
                                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(app_key, good(customer))
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get()
    assert response.json()["ticket"] == {
        "id": ticket.pk, "status": "pending", "priority": ticket.priority, "group": ticket.group,
        "customer_id": customer.public_id, "created_at": ticket.created_at.isoformat()}
    assert (ticket.customer, ticket.source, ticket.category) == (customer, TicketSource.APP, "bug")
    assert ticket.priority in ("high", "urgent")  # the urgency raises the routed priority, as on the form
    assert "Device: iPhone 15" in ticket.message and "App version: 4.2.1" in ticket.message
    assert "source-app" in ticket.tags
    assert SyncJob.objects.filter(ticket=ticket, system="support").count() == 1
    assert len(callbacks) == 1  # the desk job is woken once the ticket is committed
    audit = AuditEvent.objects.get(action="support.ticket_intake")
    assert audit.customer == customer and "iOS app" in audit.summary
    assert ApiKey.objects.get().last_used_at is not None


def test_a_stripe_customer_id_finds_the_customer(app_key, customer):
    stripe_id = customer.links.get(system="stripe").external_id
    body = good(customer, stripe_customer_id=stripe_id)
    del body["customer_id"]
    assert post(app_key, body).status_code == 201
    assert Ticket.objects.get().customer == customer


@pytest.mark.parametrize("key", [None, "", "sbk_nothere_abcdefghijklmnop", "not-a-key"])
def test_a_missing_or_wrong_key_is_401_and_opens_nothing(customer, key):
    response = post(key, good(customer))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Ticket.objects.exists()


def test_a_right_prefix_with_a_wrong_secret_is_401(app_key, customer):
    assert post(app_key[:-4] + "xxxx", good(customer)).status_code == 401


def test_a_revoked_key_is_401(app_key, customer):
    api_key_revoke(key=ApiKey.objects.get())
    assert post(app_key, good(customer)).status_code == 401
    assert not Ticket.objects.exists()


def test_a_session_cookie_is_no_credential(customer, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert post(None, good(customer), client=client).status_code == 401


def test_validation_errors_name_their_fields_and_write_nothing(app_key, customer):
    response = post(app_key, good(customer, category="rant", urgency="asap", message=""))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"category", "urgency", "message"}
    assert all(isinstance(m, str) for messages in errors.values() for m in messages)
    assert not Ticket.objects.exists() and not AuditEvent.objects.filter(action="support.ticket_intake").exists()


def test_an_unknown_customer_is_an_error_on_its_field(app_key, customer):
    response = post(app_key, good(customer, customer_id="sw_000000000000"))
    assert response.status_code == 400 and set(response.json()["errors"]) == {"customer_id"}


def test_both_or_neither_customer_id_is_an_error(app_key, customer):
    both = post(app_key, good(customer, stripe_customer_id="cus_x"), idem="a")
    neither = good(customer)
    del neither["customer_id"]
    assert both.status_code == 400 and "customer_id" in both.json()["errors"]
    assert post(app_key, neither, idem="b").status_code == 400


def test_unknown_fields_are_rejected_by_name(app_key, customer):
    response = post(app_key, good(customer, priority="urgent", admin=True))
    assert response.status_code == 400
    assert response.json()["errors"] == {"admin": ["Unknown field."], "priority": ["Unknown field."]}
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"'])
def test_a_body_that_is_not_a_json_object_is_400(app_key, body):
    response = post(app_key, body)
    assert response.status_code == 400 and "body" in response.json()["errors"]


def test_a_missing_idempotency_key_is_400(app_key, customer):
    response = post(app_key, good(customer), idem=None)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["errors"]


def test_the_same_idempotency_key_gives_the_same_ticket_once(app_key, customer):
    first = post(app_key, good(customer), idem="tap-77")
    again = post(app_key, good(customer), idem="tap-77")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["ticket"]["id"] == again.json()["ticket"]["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == 1 and SyncJob.objects.filter(system="support").count() == 1
    assert AuditEvent.objects.filter(action="support.ticket_intake").count() == 1


def test_the_same_idempotency_key_with_another_body_is_422_and_changes_nothing(app_key, customer):
    assert post(app_key, good(customer), idem="tap-78").status_code == 201
    response = post(app_key, good(customer, message="Something else entirely"), idem="tap-78")
    assert response.status_code == 422 and "different request" in response.json()["error"]
    assert Ticket.objects.get().message.startswith("The export button does nothing.")


def test_two_apps_may_use_the_same_idempotency_key(app_key, customer):
    other = api_key_create(name="Android app")[1]
    assert post(app_key, good(customer), idem="same").status_code == 201
    assert post(other, good(customer), idem="same").status_code == 201
    assert Ticket.objects.count() == 2


# The limit counts in fixed windows: a test crossing a minute's end would start counting again.
EARLY_IN_A_MINUTE = datetime(2026, 1, 5, 9, 30, 1, tzinfo=UTC)


@time_machine.travel(EARLY_IN_A_MINUTE, tick=False)
def test_too_many_requests_for_one_key_are_429_with_retry_after(app_key, customer, settings):
    settings.SUPPORT_INTAKE_RATE_LIMIT = "2/m"
    statuses = [post(app_key, good(customer), idem=f"r{n}").status_code for n in range(3)]
    assert statuses == [201, 201, 429]
    limited = post(app_key, good(customer), idem="r9")
    assert limited.status_code == 429 and limited["Retry-After"] == "60"
    assert Ticket.objects.count() == 2
    other = api_key_create(name="Android app")[1]
    assert post(other, good(customer), idem="r0").status_code == 201  # the limit is per key


@time_machine.travel(EARLY_IN_A_MINUTE, tick=False)
def test_with_the_cache_down_the_limit_still_holds_per_process(app_key, customer, cache_down):
    cache_down.SUPPORT_INTAKE_RATE_LIMIT = "1/m"
    assert [post(app_key, good(customer), idem=f"c{n}").status_code for n in range(2)] == [201, 429]


def test_only_post_is_answered(app_key):
    assert Client().get(URL, headers={"Authorization": f"Bearer {app_key}"}).status_code == 405


def test_the_ticket_reaches_the_desk_once_however_often_the_app_retries(app_key, customer, desk,
                                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(app_key, good(customer), idem="desk-1")
    with django_capture_on_commit_callbacks(execute=True):
        post(app_key, good(customer), idem="desk-1")
    [sent] = desk.made
    assert "The export button does nothing." in sent.body and "App version: 4.2.1" in sent.body
    assert "source-app" in sent.tags and desk.holds(sent, customer)
    assert Ticket.objects.get().external_id == sent.id


def _readme_example() -> tuple[str, dict, dict, dict]:
    """The curl example of the README's "Tickets from your own app": its path, headers, body and the answer
    it shows."""
    import re
    import shlex
    from pathlib import Path
    from urllib.parse import urlsplit

    from django.conf import settings

    text = (Path(settings.BASE_DIR) / "README.md").read_text()
    section = text.split("### Tickets from your own app", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    command, answer = block.split("\n# 201 ", 1)
    words = shlex.split(command.replace("\\\n", " "))
    headers = dict(words[i + 1].split(": ", 1) for i, w in enumerate(words) if w == "-H")
    body = json.loads(words[words.index("-d") + 1])
    url = next(w for w in words if w.startswith("https://"))
    shown = json.loads(re.sub(r'"\.\.\."', '""', " ".join(line.lstrip("# ") for line in answer.splitlines())))
    return urlsplit(url).path, headers, body, shown


def test_the_readmes_curl_example_opens_a_ticket_as_it_says(app_key, customer):
    path, headers, body, shown = _readme_example()
    assert path == URL and headers["Authorization"].startswith("Bearer sbk_")
    body["customer_id"] = customer.public_id  # the example's customer, here
    client = Client(enforce_csrf_checks=True)
    response = client.post(path, json.dumps(body), content_type=headers["Content-Type"],
                           headers={"Authorization": f"Bearer {app_key}",
                                    "Idempotency-Key": headers["Idempotency-Key"]})
    assert response.status_code == 201, response.content
    answer = response.json()
    assert set(answer) == set(shown) and set(answer["ticket"]) == set(shown["ticket"])
    assert (answer["ticket"]["status"], answer["ticket"]["priority"]) == (shown["ticket"]["status"],
                                                                          shown["ticket"]["priority"])
    ticket = Ticket.objects.get()
    assert body["message"] in ticket.message and f"App version: {body['app_version']}" in ticket.message
