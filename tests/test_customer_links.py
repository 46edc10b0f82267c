"""Linking a customer to an outside id: idempotent, never steals another customer's id, and under a
race on PostgreSQL one writer wins while the other gets a sentence, not a database error."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import ExternalLink, System
from auditlog.models import LogEntry

from customers.services import CustomerError, customer_link, customer_links_record
from tests import helpers


@pytest.mark.django_db
def test_linking_is_idempotent_moves_the_customers_own_link_and_refuses_another_customers_id():
    ada, bob = helpers.customer(), helpers.customer()
    first = customer_link(customer=ada, system=System.CRM, external_id=" 101 ")
    assert customer_link(customer=ada, system=System.CRM, external_id="101").pk == first.pk
    moved = customer_link(customer=ada, system=System.CRM, external_id="102")
    assert moved.pk == first.pk and ExternalLink.objects.get(pk=first.pk).external_id == "102"
    with pytest.raises(CustomerError, match="already belongs to another customer"):
        customer_link(customer=bob, system=System.CRM, external_id="102")
    with pytest.raises(CustomerError, match="empty"):
        customer_link(customer=bob, system=System.CRM, external_id="  ")


@pytest.mark.django_db
def test_linking_many_at_once_gives_each_the_answer_linking_it_alone_would():
    ada, bob, cy, dee, eve = (helpers.customer() for _ in range(5))
    customer_link(customer=ada, system=System.CRM, external_id="101")
    customer_link(customer=dee, system=System.CRM, external_id="401")
    errors = customer_links_record(system=System.CRM, provider="hubspot", links=[
        (ada, "101"),  # already hers
        (bob, " 201 "),  # new
        (cy, "101"),  # Ada's
        (dee, "402"),  # moves her own link
        (eve, "  "),  # empty
        (bob, "201"),  # the same link twice in one batch
        (cy, "301"),  # new, after a refusal of the same customer
    ])
    assert [bool(e) for e in errors] == [False, False, True, False, True, False, False]
    assert "already belongs to another customer" in errors[2] and "empty" in errors[4]
    assert dict(ExternalLink.objects.filter(system=System.CRM).values_list("customer_id", "external_id")) == {
        ada.pk: "101", bob.pk: "201", cy.pk: "301", dee.pk: "402"}
    assert ExternalLink.objects.get(customer=bob, system=System.CRM).provider == "hubspot"
    # each new link has its audit entry, as customer_link writes it
    for customer in (bob, cy):
        link = ExternalLink.objects.get(customer=customer, system=System.CRM)
        assert LogEntry.objects.get_for_object(link).filter(action=LogEntry.Action.CREATE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_customers_racing_for_one_id_one_wins_the_other_is_told():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite runs one writer at a time, so there is no race to test")
    for round_ in range(10):
        contenders = [helpers.customer(), helpers.customer()]
        barrier, outcomes = threading.Barrier(2), []

        def link(customer):
            barrier.wait()
            try:
                customer_link(customer=customer, system=System.CRM, external_id=f"race-{round_}")
                outcomes.append("linked")
            except CustomerError:
                outcomes.append("refused")
            finally:
                connection.close()

        threads = [threading.Thread(target=link, args=(c,)) for c in contenders]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["linked", "refused"]
        assert ExternalLink.objects.filter(system=System.CRM, external_id=f"race-{round_}").count() == 1


def _statements(links: list) -> int:
    """Record ``links`` in the CRM as a HubSpot batch's answers (each one taken); the statements it cost."""
    with CaptureQueriesContext(connection) as queries:
        assert customer_links_record(system=System.CRM, provider="hubspot", links=links) == [""] * len(links)
    return len(queries)


@pytest.mark.django_db
def test_links_recorded_together_cost_the_same_statements_and_are_audited_as_one_linked_alone():
    alone_customer, *together = (helpers.customer() for _ in range(6))
    alone = customer_link(customer=alone_customer, system=System.CRM, external_id="100", provider="hubspot")
    one = _statements([(together[0], "200")])
    # one read, one INSERT of links, one of audit entries, whatever the count
    assert _statements([(customer, f"20{n}") for n, customer in enumerate(together[1:], start=1)]) == one

    def entry(link):
        return LogEntry.objects.get_for_object(link).get(action=LogEntry.Action.CREATE)

    expected = entry(alone)
    for n, customer in enumerate(together):
        link = ExternalLink.objects.get(customer=customer, system=System.CRM)
        written = entry(link)
        assert (written.object_pk, written.object_repr, written.cid) == (str(link.pk), str(link), expected.cid)
        assert written.changes.keys() == expected.changes.keys()
        for field, (before, after) in written.changes.items():
            was, became = expected.changes[field]
            assert before == was
            if field in ("created_at", "updated_at"):
                continue
            assert after == {"id": str(link.pk), "customer": str(customer.pk), "external_id": f"20{n}"}.get(
                field, became), field


@pytest.mark.django_db
def test_two_jobs_of_one_customer_in_a_batch_make_one_link_without_a_read_of_its_own():
    """Kit tags a customer twice on a subscription start: both answers carry the same subscriber id."""
    ada, bob, cy = (helpers.customer() for _ in range(3))
    with CaptureQueriesContext(connection) as once:
        assert customer_links_record(system=System.EMAIL, links=[(ada, "7")]) == [""]
    with CaptureQueriesContext(connection) as twice:
        links = [(bob, "8"), (bob, " 8"), (cy, "9")]
        assert customer_links_record(system=System.EMAIL, links=links) == [""] * 3
    assert len(twice) == len(once)
    assert ExternalLink.objects.filter(customer=bob, system=System.EMAIL).count() == 1
    link = ExternalLink.objects.get(customer=bob, system=System.EMAIL)
    assert LogEntry.objects.get_for_object(link).filter(action=LogEntry.Action.CREATE).count() == 1
    # The second of a pair shares the first's outcome, a refusal too.
    errors = customer_links_record(system=System.EMAIL, links=[(cy, "8"), (cy, "8")])
    assert errors[0] == errors[1] and "already belongs to another customer" in errors[0]


@pytest.mark.django_db
def test_links_the_tool_moved_are_moved_together_and_audited_as_one_moved_alone():
    """A tool that re-created its records answers a retried batch with new ids: each customer's link
    moves to its new id in one UPDATE for all, each with the audit entry a move alone writes."""
    alone_customer, *together = (helpers.customer() for _ in range(5))
    for n, customer in enumerate([alone_customer, *together]):
        customer_link(customer=customer, system=System.CRM, external_id=f"old-{n}")
    alone = customer_link(customer=alone_customer, system=System.CRM, external_id="new-0", provider="hubspot")
    one = _statements([(together[0], "new-1")])
    # one read, one UPDATE of the links, one INSERT of audit entries
    assert _statements([(customer, f"new-{n}") for n, customer in enumerate(together[1:], start=2)]) == one
    assert dict(ExternalLink.objects.filter(system=System.CRM).values_list("customer_id", "external_id")) == {
        c.pk: f"new-{n}" for n, c in enumerate([alone_customer, *together])}

    def entry(link):
        return LogEntry.objects.get_for_object(link).get(action=LogEntry.Action.UPDATE)

    expected = entry(alone)
    assert set(expected.changes) == {"external_id", "provider"}
    for n, customer in enumerate(together, start=1):
        link = ExternalLink.objects.get(customer=customer, system=System.CRM)
        written = entry(link)
        assert (written.object_pk, written.object_repr, written.cid) == (str(link.pk), str(link), expected.cid)
        assert written.changes.keys() == expected.changes.keys()
        assert written.changes["external_id"] == [f"old-{n}", f"new-{n}"]
        assert written.changes["provider"] == expected.changes["provider"]
        assert link.updated_at > link.created_at


@pytest.mark.django_db
def test_a_move_that_frees_an_id_another_link_asks_for_goes_the_single_way_in_turn():
    """Bob asks for Ada's id while Ada moves away from it: in list order, Bob is refused first (it is
    still hers), as linking each alone would have answered."""
    ada, bob = helpers.customer(), helpers.customer()
    customer_link(customer=ada, system=System.CRM, external_id="A")
    errors = customer_links_record(system=System.CRM, links=[(bob, "A"), (ada, "B")])
    assert "already belongs to another customer" in errors[0] and errors[1] == ""
    assert dict(ExternalLink.objects.filter(system=System.CRM).values_list("customer_id", "external_id")) == {
        ada.pk: "B"}
