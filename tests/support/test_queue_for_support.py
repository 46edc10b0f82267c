"""Support has a queue: what needs the desk, failed payments and disputes whose ticket is open, paying
customers who cannot get in; finance sees money, the owner everything; an empty queue says what would show."""

import pytest

from action_queue.selectors import action_items_for
from customers.models import Customer
from support.models import Ticket, TicketStatus
from sync.models import JobStatus
from tests import stripe_events as se
from tests.factories import SyncJobFactory
from tests.support.conftest import paying_customer

pytestmark = pytest.mark.django_db

T = 1_700_000_000


def kinds(user) -> dict:
    return {g.kind: g for g in action_items_for(user=user).groups}


@pytest.fixture
def failed_payment(deliver, desk):
    paying_customer(deliver)
    deliver(se.event("invoice.payment_failed", se.invoice("in_F1", "cus_PAY1", "sub_cus_PAY1", status="open"),
                     created=T + 10))
    return Ticket.objects.get(fact="invoice.payment_failed")


@pytest.fixture
def dispute(deliver, desk):
    paying_customer(deliver)
    deliver(se.event("charge.succeeded", se.charge("ch_D1", "cus_PAY1"), created=T + 2))
    deliver(se.event("charge.dispute.created", se.dispute("dp_D1", "ch_D1"), created=T + 3))
    return Ticket.objects.get(fact="charge.dispute.created")


def test_support_sees_a_failed_payment_whose_ticket_is_open(failed_payment, support):
    group = kinds(support)["ticketed_failed_payment"]
    assert group.count == 1 and "49.00 USD" in group.items[0].what
    assert "ticket is open" in group.items[0].reason


def test_once_the_ticket_is_solved_the_failed_payment_leaves_supports_queue(failed_payment, support):
    Ticket.objects.filter(pk=failed_payment.pk).update(status=TicketStatus.SOLVED)
    assert "ticketed_failed_payment" not in kinds(support)


def test_support_sees_an_open_dispute_whose_ticket_is_open(dispute, support):
    assert kinds(support)["ticketed_dispute"].count == 1


def test_finance_sees_the_money_and_not_supports_copy(failed_payment, dispute, finance):
    seen = kinds(finance)
    assert {"failed_payment", "dispute"} <= set(seen)
    assert not {"ticketed_failed_payment", "ticketed_dispute", "no_access"} & set(seen)


def test_the_owner_sees_all_of_it_once(failed_payment, dispute, owner):
    seen = kinds(owner)
    assert {"failed_payment", "dispute"} <= set(seen)
    assert not {"ticketed_failed_payment", "ticketed_dispute"} & set(seen)


def test_a_paying_customer_whose_access_failed_is_in_supports_queue(deliver, desk, support):
    paying_customer(deliver)
    customer = Customer.objects.get()
    job = SyncJobFactory(customer=customer, system="community", action="grant_access", status=JobStatus.DEAD,
                         last_error="Circle said: space not found")
    group = kinds(support)["no_access"]
    assert [i.object_id for i in group.items] == [str(job.pk)]
    assert "failed for good: Circle said: space not found" in group.items[0].reason


def test_support_resolves_its_item_with_a_note(client, failed_payment, support):
    from billing.models import Invoice

    invoice = Invoice.objects.get(stripe_id="in_F1")
    client.force_login(support)
    response = client.post(f"/queue/ticketed_failed_payment/{invoice.pk}/resolve/", {"note": "told them to update the card"})
    assert response.status_code == 200 and "Resolved by you" in response.content.decode()
    assert "ticketed_failed_payment" not in kinds(support)


@pytest.mark.parametrize(("role", "expected"), [
    ("support", ["tickets the support desk has not accepted", "failed payments whose ticket is open",
                 "paying customers whose community access did not go through"]),
    ("finance", ["failed payments nobody has followed up", "open disputes"]),
    ("owner", ["customers whose identity needs a decision", "systems that are paused or failing"]),
])
def test_each_roles_empty_queue_says_what_would_appear_there(client, users, role, expected):
    client.force_login(users[role])
    html = client.get("/").content.decode()
    assert "Nothing needs you." in html and "This is where you would see" in html
    for text in expected:
        assert text in html
    if role != "owner":
        assert "systems that are paused or failing" not in html
