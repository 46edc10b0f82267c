import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from audit.models import AuditEvent


@pytest.mark.django_db
def test_create_staff_reads_the_password_from_stdin_and_gives_the_role(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-secret-42\n"))
    call_command("create_staff", email="Dana@Example.com", role="finance", password_stdin=True, stdout=io.StringIO())
    user = User.objects.get(email="dana@example.com")
    assert user.check_password("a-long-enough-secret-42")
    assert user.role == "finance"
    assert AuditEvent.objects.filter(action="staff.created", source="command").count() == 1


@pytest.mark.django_db
def test_create_staff_refuses_a_weak_password(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("123\n"))
    with pytest.raises(CommandError, match="too short"):
        call_command("create_staff", email="x@example.com", role="owner", password_stdin=True)
    assert not User.objects.filter(email="x@example.com").exists()


@pytest.mark.django_db
def test_create_staff_refuses_a_duplicate_email(monkeypatch, owner):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-secret-42\n"))
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_staff", email=owner.email.upper(), role="support", password_stdin=True)


@pytest.mark.django_db
def test_roles_have_exactly_their_permissions(owner, finance, support):
    assert owner.has_perm("sync.pause_system") and owner.has_perm("accounts.manage_staff")
    assert finance.has_perm("billing.issue_refund") and not finance.has_perm("sync.pause_system")
    assert not finance.has_perm("sync.edit_mapping") and not finance.has_perm("accounts.manage_staff")
    for perm in ["billing.issue_refund", "sync.edit_mapping", "sync.pause_system", "audit.export", "accounts.manage_staff"]:
        assert not support.has_perm(perm), perm
    assert support.has_perm("customers.view_billing") and support.has_perm("sync.retry_support_sync")
