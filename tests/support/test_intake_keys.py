"""The intake API keys: the owner makes one (shown once, kept as a hash), sees them listed, revokes one;
the same from manage.py; every step audited."""

import hashlib
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEvent
from support.intake_keys import api_key_for
from support.models import ApiKey

pytestmark = pytest.mark.django_db


def test_the_owner_makes_a_key_that_is_shown_once_and_kept_only_as_a_hash(client, owner):
    client.force_login(owner)
    response = client.post(reverse("support_api_keys"), {"name": "iOS app"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = ApiKey.objects.get()
    raw = response.context["made"]["raw"]
    assert raw.startswith(key.prefix + "_") and raw in response.content.decode()
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest() and raw not in key.key_hash
    assert key.created_by == owner
    again = client.get(reverse("support_api_keys")).content.decode()
    assert key.prefix in again and raw not in again
    assert AuditEvent.objects.filter(action="support.api_key_create", actor=owner).count() == 1
    assert api_key_for(raw) == key


def test_a_key_needs_a_name(client, owner):
    client.force_login(owner)
    response = client.post(reverse("support_api_keys"), {"name": "  "})
    assert response.status_code == 422 and not ApiKey.objects.exists()


def test_the_owner_revokes_a_key_and_it_stops_working(client, owner):
    client.force_login(owner)
    client.post(reverse("support_api_keys"), {"name": "iOS app"})
    key = ApiKey.objects.get()
    raw_holder = AuditEvent.objects.get(action="support.api_key_create")  # the raw key is not kept: test by row
    assert raw_holder.object_id == str(key.pk)
    response = client.post(reverse("support_api_key_revoke", args=[key.pk]))
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoked_by == owner
    assert AuditEvent.objects.filter(action="support.api_key_revoke", actor=owner).count() == 1
    client.post(reverse("support_api_key_revoke", args=[key.pk]))  # twice: one record, no error
    assert AuditEvent.objects.filter(action="support.api_key_revoke").count() == 1


@pytest.mark.parametrize("role", ["finance", "support", "norole"])
def test_other_roles_may_not_see_make_or_revoke_keys(client, users, role):
    client.force_login(users[role])
    assert client.get(reverse("support_api_keys")).status_code == 403
    assert client.post(reverse("support_api_keys"), {"name": "x"}).status_code == 403
    assert not ApiKey.objects.exists()


def test_the_command_makes_lists_and_revokes_keys():
    out = io.StringIO()
    call_command("intake_key", "create", "Android app", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    key = ApiKey.objects.get()
    assert api_key_for(raw) == key
    out = io.StringIO()
    call_command("intake_key", "list", stdout=out)
    assert key.prefix in out.getvalue() and raw not in out.getvalue() and "active" in out.getvalue()
    call_command("intake_key", "revoke", key.prefix, stdout=io.StringIO())
    assert api_key_for(raw) is None
    assert AuditEvent.objects.filter(action__in=["support.api_key_create", "support.api_key_revoke"],
                                     source="command").count() == 2
