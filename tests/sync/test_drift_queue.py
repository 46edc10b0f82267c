"""ToolDrift in the queue: the sentence, who sees what, repair in one click, bulk repair after a
dry-run preview, ignore with a note, accept an email for review."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from sync.drift import sentence
from sync.models import ToolDrift, DriftKind, DriftResolution, SyncJob
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def drift(customer=None, **fields) -> ToolDrift:
    values = {"system": "community", "kind": DriftKind.ACCESS_EXTRA, "field": "access", "expected": "absent",
              "actual": "present", "external_id": "77"}
    return ToolDrift.objects.create(customer=customer or CustomerFactory(status="canceled"), **{**values, **fields})


def test_the_owner_sees_each_difference_as_a_sentence(client, owner):
    drift()
    drift(CustomerFactory(status="past_due"), system="email", kind=DriftKind.WRONG_VALUE, field="tag:customer",
          expected="absent", actual="present")
    client.force_login(owner)
    page = client.get(reverse("home")).content.decode()
    assert "Canceled, still a member in the sandbox community" in page
    assert "Past due, still tagged “customer” in the sandbox email tool" in page
    assert "Community drift: access that should not be there" in page


def test_finance_sees_the_money_related_differences_only(client, finance):
    drift()
    drift(system="crm", kind=DriftKind.WRONG_VALUE, field="plan", expected="Pro", actual="Basic")
    client.force_login(finance)
    page = client.get(reverse("home")).content.decode()
    assert "The sandbox CRM plan says Basic, billing says Pro" in page
    assert "still a member" not in page


def test_support_sees_no_drift(client, support):
    drift()
    client.force_login(support)
    assert "drift" not in client.get(reverse("home")).content.decode().lower()


def test_repair_in_one_click_writes_the_outbox_job_and_an_audit_record(client, owner):
    row = drift()
    client.force_login(owner)
    answer = client.post(reverse("queue_drift_repair", args=[row.pk]))
    assert "Repair sent (1 job)" in answer.content.decode()
    job = SyncJob.objects.get()
    assert (job.system, job.action, job.idempotency_key) == ("community", "revoke_access",
                                                             f"drift:{row.pk}:community:revoke_access")
    row.refresh_from_db()
    assert row.resolution == DriftResolution.REPAIRED and row.resolved_by == owner
    assert AuditEvent.objects.filter(action="sync.drift_repair", actor=owner).count() == 1


def test_the_differences_own_page_repairs_it_and_says_so(client, owner):
    row = drift()
    client.force_login(owner)
    page = client.get(reverse("drift_detail", args=[row.pk])).content.decode()
    assert reverse("drift_repair", args=[row.pk]) in page and "data-confirm" in page
    answer = client.post(reverse("drift_repair", args=[row.pk]), follow=True)
    assert answer.redirect_chain == [(reverse("drift_detail", args=[row.pk]), 302)]
    assert "Repair sent (1 job)" in answer.content.decode()
    assert SyncJob.objects.get().action == "revoke_access"
    row.refresh_from_db()
    assert row.resolution == DriftResolution.REPAIRED
    assert reverse("drift_repair", args=[row.pk]) not in answer.content.decode()  # closed: nothing left to press


def test_finance_cannot_repair_a_difference_outside_money_from_its_page(client, finance):
    row = drift()
    client.force_login(finance)
    assert client.post(reverse("drift_repair", args=[row.pk])).status_code == 403
    assert not SyncJob.objects.exists()


def test_an_orphan_offers_no_repair(client, owner):
    row = ToolDrift.objects.create(system="crm", kind=DriftKind.ORPHAN, field="public_id", actual="sw_ghost",
                               external_id="9")
    client.force_login(owner)
    answer = client.post(reverse("queue_drift_repair", args=[row.pk]))
    assert "nothing to send" in answer.content.decode() and not SyncJob.objects.exists()
    assert reverse("drift_repair", args=[row.pk]) not in client.get(reverse("drift_detail", args=[row.pk])).content.decode()


def test_bulk_repair_previews_then_repairs_a_whole_kind(client, owner):
    rows = [drift() for _ in range(3)]
    other = drift(system="crm", kind=DriftKind.MISSING, field="", expected="", actual="")
    client.force_login(owner)
    url = reverse("drift_repair_all", args=["community", DriftKind.ACCESS_EXTRA])
    assert client.post(url).url == url  # the queue's button leads to the preview first
    preview = client.get(url).content.decode()
    assert "Repair 3 access that should not be there differences" in preview and preview.count("revoke access") == 3
    assert not SyncJob.objects.exists()
    client.post(url, {"confirm": "1"})
    assert SyncJob.objects.filter(action="revoke_access").count() == 3
    assert all(ToolDrift.objects.get(pk=r.pk).resolution == DriftResolution.REPAIRED for r in rows)
    assert ToolDrift.objects.get(pk=other.pk).resolved_at is None


def test_ignore_needs_a_note_and_keeps_it(client, owner):
    row = drift()
    client.force_login(owner)
    url = reverse("drift_ignore", args=[row.pk])
    assert client.post(url, {"note": " "}).status_code == 422
    client.post(url, {"note": "Lifetime member, agreed by email"})
    row.refresh_from_db()
    assert (row.resolution, row.note) == (DriftResolution.IGNORED, "Lifetime member, agreed by email")
    assert AuditEvent.objects.filter(action="sync.drift_ignored").exists()


def test_accepting_a_tools_email_keeps_it_for_review_and_never_overwrites_billing(client, owner):
    customer = CustomerFactory(email="ada@example.com")
    row = drift(customer, system="crm", kind=DriftKind.IDENTITY_MISMATCH, field="email",
                expected="ada@example.com", actual="ada@newjob.example")
    client.force_login(owner)
    assert "Accept the sandbox CRM's email for review" in client.get(reverse("drift_detail", args=[row.pk])).content.decode()
    client.post(reverse("drift_accept", args=[row.pk]), {"note": ""})
    row.refresh_from_db()
    customer.refresh_from_db()
    assert row.resolution == DriftResolution.REVIEW and customer.email == "ada@example.com"


def test_an_accepted_email_waits_in_the_queue_for_review_until_resolved_with_a_note(client, owner):
    customer = CustomerFactory(email="ada@example.com")
    row = drift(customer, system="crm", kind=DriftKind.IDENTITY_MISMATCH, field="email",
                expected="ada@example.com", actual="ada@newjob.example")
    client.force_login(owner)
    client.post(reverse("drift_accept", args=[row.pk]), {"note": "She says she moved jobs; check on the call"})
    page = client.get(reverse("home")).content.decode()
    assert "CRM: values accepted for review" in page and "She says she moved jobs" in page
    client.post(reverse("queue_resolve", args=["tool_drift", row.pk]), {"note": "Billing email kept after the call"})
    assert "values accepted for review" not in client.get(reverse("home")).content.decode()


def test_the_sentence_says_how_long_ago_a_customer_canceled():
    said = {days: sentence(system_label="Circle", kind=DriftKind.ACCESS_EXTRA, field="access", expected="absent",
                           actual="present", status="canceled", days=days) for days in (0, 1, 12)}
    assert said == {0: "Canceled today, still a member in Circle", 1: "Canceled 1 day ago, still a member in Circle",
                    12: "Canceled 12 days ago, still a member in Circle"}


def test_a_wrong_lifecycle_stage_says_the_billing_status_it_comes_from():
    said = sentence(system_label="HubSpot", kind=DriftKind.WRONG_VALUE, field="lifecycle_stage", expected="other",
                    actual="customer", status="canceled", days=12)
    assert said == "HubSpot lifecycle stage says customer, billing says canceled (stage other)"


def test_a_missing_space_names_the_plans_spaces_not_a_billing_value(client, owner):
    row = drift(CustomerFactory(status="active"), kind=DriftKind.ACCESS_MISSING, field="spaces", expected="12, 90210",
                actual="12")
    client.force_login(owner)
    page = client.get(reverse("home")).content.decode()
    assert "Access that should be there: the plan&#x27;s spaces are 12, 90210, the member has 12" in page
    assert "billing says 12" not in page


@pytest.mark.parametrize("kind, field, expected, actual, status, said", [
    (DriftKind.MISSING, "", "", "", "active", "Active customer with no record in HubSpot"),
    (DriftKind.ACCESS_EXTRA, "access", "absent", "present", "canceled", "Canceled 12 days ago, still a member in HubSpot"),
    (DriftKind.ACCESS_MISSING, "", "", "", "active", "Active, not a member in HubSpot"),
    (DriftKind.ACCESS_EXTRA, "spaces", "12", "12, 34", "active",
     "Active, in spaces the plan does not give in HubSpot (has 12, 34)"),
    (DriftKind.WRONG_VALUE, "tag:paid", "absent", "present", "past_due", "Past due, still tagged “paid” in HubSpot"),
    (DriftKind.WRONG_VALUE, "tag:paid", "present", "absent", "active", "Active, not tagged “paid” in HubSpot"),
    (DriftKind.IDENTITY_MISMATCH, "email", "a@example.com", "b@example.com", "active",
     "The record in HubSpot with our id has another email (b@example.com)"),
    (DriftKind.ORPHAN, "public_id", "", "sw_ghost", "", "A record in HubSpot carries a Switchboard id no customer has (sw_ghost)"),
])
def test_each_kind_has_its_own_sentence(kind, field, expected, actual, status, said):
    assert sentence(system_label="HubSpot", kind=kind, field=field, expected=expected, actual=actual, status=status,
                    days=12) == said
