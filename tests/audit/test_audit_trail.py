"""The audit trail: append-only, hash-chained, verifiable, filtered by role, exported on the record."""

import csv
import io
import re
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent, AuditImmutableError
from audit.services import audit_record
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def _trail(owner, finance, support):
    customer = CustomerFactory()
    audit_record(action="refund.requested", source="ui", actor=finance, customer=customer, summary="refund asked")
    audit_record(action="sync.job_retry", source="ui", actor=support, customer=customer, summary="retried")
    audit_record(action="sync.system_pause", source="ui", actor=owner, summary="paused crm")
    audit_record(action="event.replayed", source="command", summary="replayed")
    return customer


def test_verify_audit_passes_on_an_untouched_chain(owner, finance, support):
    _trail(owner, finance, support)
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact: 4 entries" in out.getvalue()


def test_verify_audit_names_the_entry_changed_with_raw_sql(owner, finance, support):
    _trail(owner, finance, support)
    second = AuditEvent.objects.order_by("id")[1]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET summary = %s WHERE id = %s", ["nothing happened", second.pk])
    with pytest.raises(CommandError, match=f"broken at entry #{second.pk} "):
        call_command("verify_audit")


def test_verify_audit_notices_a_deleted_entry(owner, finance, support):
    _trail(owner, finance, support)
    second, third = AuditEvent.objects.order_by("id")[1:3]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [second.pk])
    with pytest.raises(CommandError, match=f"#{third.pk} "):
        call_command("verify_audit")


def test_the_app_cannot_change_or_delete_entries(owner):
    entry = audit_record(action="staff.created", source="command", summary="x")
    entry.summary = "rewritten"
    with pytest.raises(AuditImmutableError):
        entry.save()
    with pytest.raises(AuditImmutableError):
        entry.delete()
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.filter(pk=entry.pk).update(summary="rewritten")
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.all().delete()


def test_the_admin_cannot_change_or_delete_entries_of_either_log(client, customer_with_logentry):
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    entry = audit_record(action="staff.created", source="command", summary="x")
    log = LogEntry.objects.first()
    for url in (
        reverse("admin:audit_auditevent_delete", args=[entry.pk]),
        reverse("admin:auditlog_logentry_delete", args=[log.pk]),
    ):
        assert client.post(url, {"post": "yes"}).status_code == 403
    page = client.post(reverse("admin:audit_auditevent_change", args=[entry.pk]), {"summary": "rewritten"})
    assert page.status_code == 403
    assert AuditEvent.objects.get(pk=entry.pk).summary == "x"
    assert LogEntry.objects.filter(pk=log.pk).exists()


@pytest.fixture
def customer_with_logentry():
    return CustomerFactory()  # django-auditlog records the creation


DOMAIN_MODELS = [
    "customers.Customer", "customers.ExternalLink", "action_queue.ActionItemState", "customers.CustomerMerge",
    "customers.DistinctPair", "billing.StripeCustomer", "billing.Subscription", "billing.Invoice",
    "billing.PaymentIntent", "billing.Charge", "billing.Refund", "billing.Dispute", "billing.RefundRequest",
    "sync.SyncJob", "sync.SystemState", "sync.MappingRule", "support.Ticket", "accounts.User",
]


@pytest.mark.parametrize("label", DOMAIN_MODELS)
def test_every_domain_model_is_registered_with_auditlog(label):
    assert auditlog.contains(apps.get_model(label))


def test_staff_field_changes_are_logged_without_the_password_hash(owner):
    owner.name = "Olive Owner"
    owner.set_password("another-long-password-1")
    owner.save()
    entry = LogEntry.objects.get_for_object(owner).first()
    assert "name" in entry.changes_dict and "password" not in entry.changes_dict


def _page(client, **params) -> str:
    """The results region only (the htmx partial), so filter suggestions do not count as rows."""
    return client.get(reverse("audit_list"), params, headers={"HX-Request": "true"}).content.decode()


def test_the_owner_sees_everything_and_filters_by_actor_action_customer_and_date(client, owner, finance, support):
    customer = _trail(owner, finance, support)
    client.force_login(owner)
    everything = _page(client)
    for action in ("refund.requested", "sync.job_retry", "sync.system_pause", "event.replayed"):
        assert action in everything
    by_actor = _page(client, actor=support.pk)
    assert "sync.job_retry" in by_actor and "refund.requested" not in by_actor
    by_action = _page(client, action="refund.")
    assert "refund.requested" in by_action and "sync.system_pause" not in by_action
    by_customer = _page(client, customer=customer.public_id)
    assert "sync.job_retry" in by_customer and "sync.system_pause" not in by_customer
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert "No entries match" in _page(client, since=tomorrow)
    assert "refund.requested" in _page(client, until=timezone.localdate().isoformat())


def test_finance_sees_billing_actions_and_support_only_its_own(client, owner, finance, support):
    _trail(owner, finance, support)
    client.force_login(finance)
    page = _page(client)
    assert "refund.requested" in page and "event.replayed" in page
    assert "sync.system_pause" not in page and "sync.job_retry" not in page
    client.force_login(support)
    page = _page(client)
    assert "sync.job_retry" in page
    assert "refund.requested" not in page and "event.replayed" not in page and "sync.system_pause" not in page


def test_entries_about_a_restricted_customer_follow_its_visibility(client, finance):
    hidden = CustomerFactory(restricted=True)
    audit_record(action="refund.requested", source="ui", customer=hidden, summary="hidden refund")
    client.force_login(finance)
    assert "hidden refund" not in _page(client)


def test_without_a_customer_rule_handed_in_no_entry_about_a_customer_is_shown(finance, monkeypatch):
    from audit import selectors

    audit_record(action="refund.requested", source="ui", customer=CustomerFactory(), summary="about a customer")
    audit_record(action="refund.requested", source="ui", summary="about no customer")
    monkeypatch.setattr(selectors, "_customer_filter", None)  # as before customers registered its rule
    assert [e.summary for e in selectors.audit_visible_to(user=finance)] == ["about no customer"]


def test_the_trail_pages_newest_first_with_the_lists_pager(client, owner):
    from audit.views import PAGE_SIZE

    for n in range(PAGE_SIZE + 1):
        audit_record(action="sync.system_pause", source="ui", actor=owner, summary=f"entry {n:03d}")
    client.force_login(owner)
    first = _page(client)
    assert f"{PAGE_SIZE + 1} entries" in first and "entry 100" in first and "entry 000" not in first
    cursor = re.search(r'href="\?cursor=([^"&]+)[^"]*">Next page', first).group(1)
    second = _page(client, cursor=cursor)
    assert "entry 000" in second and "entry 001" not in second and "Next page" not in second
    assert 'href="?">First page' in second


def test_the_csv_export_is_itself_audited(client, owner, finance, support):
    _trail(owner, finance, support)
    client.force_login(owner)
    response = client.post(reverse("audit_export"), {"action": "refund."})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["id", "created_at", "actor", "action"]
    assert [r[3] for r in rows[1:]] == ["refund.requested"]
    export = AuditEvent.objects.get(action="audit.exported")
    assert export.actor == owner and export.changes == {"filters": {"action": "refund."}, "rows": 1}


def test_csv_cells_that_look_like_formulas_stay_text(client, owner):
    audit_record(action="refund.requested", source="ui", actor=owner, summary="=HYPERLINK(\"http://x\")")
    client.force_login(owner)
    body = b"".join(client.post(reverse("audit_export")).streaming_content).decode()
    assert "'=HYPERLINK" in body


@pytest.mark.parametrize("who", ["finance", "support"])
def test_only_the_owner_exports(client, users, who):
    client.force_login(users[who])
    assert client.post(reverse("audit_export")).status_code == 403
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_field_changes_carry_the_requests_correlation_id(client, owner):
    customer = CustomerFactory()
    client.force_login(owner)
    client.post(reverse("customer_assign", args=[customer.public_id]), {"assignee": owner.pk})
    business = AuditEvent.objects.get(action="customer.assign")
    change = LogEntry.objects.get_for_object(customer).order_by("-pk").first()  # the assignment's field change
    assert business.correlation_id and change.cid == business.correlation_id
