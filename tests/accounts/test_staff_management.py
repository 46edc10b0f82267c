"""The owner manages staff: invite, change role, deactivate (signed out at once); the last owner stays."""

import re

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.urls import reverse

from accounts.models import User
from accounts.services import StaffError, staff_deactivate, staff_role_change
from audit.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_invitation_creates_the_account_and_mails_a_set_password_link(client, owner, django_capture_on_commit_callbacks):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("staff_invite"), {"email": "New.Person@Example.com", "name": "New", "role": "support"})
    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.com")
    assert user.role == "support" and not user.has_usable_password()
    assert AuditEvent.objects.filter(action="staff.invited", actor=owner).exists()
    (message,) = mail.outbox
    assert message.to == ["new.person@example.com"]
    link = re.search(r"https?://\S+", message.body).group(0)
    path = link.split("8000", 1)[-1] if "8000" in link else link

    client.logout()
    page = client.get(path, follow=True)
    assert page.status_code == 200 and "Choose your password" in page.content.decode()
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else path
    saved = client.post(form_url, {"new_password1": "violet-harbour-lantern-9", "new_password2": "violet-harbour-lantern-9"})
    assert saved.status_code == 302
    user.refresh_from_db()
    assert user.check_password("violet-harbour-lantern-9")
    signed_in = client.post(reverse("login"), {"username": "new.person@example.com", "password": "violet-harbour-lantern-9"})
    assert signed_in.status_code == 302 and signed_in["Location"] == reverse("home")


def test_an_invitation_for_an_existing_email_is_refused(client, owner, finance):
    client.force_login(owner)
    response = client.post(reverse("staff_invite"), {"email": finance.email, "role": "support"})
    assert response.status_code == 422 and "already exists" in response.content.decode()


def test_changing_a_role_is_audited_with_before_and_after(client, owner, finance):
    client.force_login(owner)
    client.post(reverse("staff_role", args=[finance.pk]), {"role": "support"})
    finance.refresh_from_db()
    assert finance.role == "support"
    entry = AuditEvent.objects.get(action="staff.role_changed")
    assert entry.changes == {"role": ["finance", "support"]} and entry.actor == owner


def test_deactivation_ends_the_persons_sessions_at_once(client, owner, finance):
    from django.test import Client

    theirs = Client()
    theirs.force_login(finance)
    assert theirs.get(reverse("home")).status_code == 200
    client.force_login(owner)
    client.post(reverse("staff_deactivate", args=[finance.pk]))
    finance.refresh_from_db()
    assert not finance.is_active
    assert theirs.get(reverse("home")).status_code == 302  # back to the sign-in page
    remaining = [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(finance.pk)]
    assert remaining == []
    assert AuditEvent.objects.get(action="staff.deactivated").changes["sessions_ended"] == 1


def test_the_last_owner_cannot_be_demoted_or_deactivated(owner):
    with pytest.raises(StaffError, match="last active owner"):
        staff_role_change(user=owner, role="finance", actor=owner, source="ui")
    with pytest.raises(StaffError, match="last active owner"):
        staff_deactivate(user=owner, actor=owner, source="ui")
    owner.refresh_from_db()
    assert owner.is_active and owner.role == "owner"


def test_with_two_owners_one_may_step_down(owner):
    second = UserFactory(role="owner")
    staff_role_change(user=owner, role="finance", actor=second, source="ui")
    with pytest.raises(StaffError):
        staff_deactivate(user=second, actor=second, source="ui")


def test_the_last_owner_refusal_is_a_sentence_on_the_page(client, owner):
    client.force_login(owner)
    page = client.post(reverse("staff_deactivate", args=[owner.pk]), follow=True).content.decode()
    assert "last active owner" in page


@pytest.mark.parametrize("who", ["finance", "support"])
def test_only_the_owner_manages_staff(client, users, who):
    client.force_login(users[who])
    target = users["support" if who == "finance" else "finance"]
    assert client.get(reverse("staff_list")).status_code == 403
    assert client.post(reverse("staff_invite"), {"email": "x@example.com", "role": "owner"}).status_code == 403
    assert client.post(reverse("staff_role", args=[target.pk]), {"role": "owner"}).status_code == 403
    assert client.post(reverse("staff_deactivate", args=[target.pk])).status_code == 403
    assert not User.objects.filter(email="x@example.com").exists()
    assert users[who].role == who


def test_the_staff_link_is_in_the_navigation_of_the_owner_only(client, owner, finance):
    client.force_login(owner)
    assert reverse("staff_list") in client.get(reverse("home")).content.decode()
    client.force_login(finance)
    assert reverse("staff_list") not in client.get(reverse("home")).content.decode()
