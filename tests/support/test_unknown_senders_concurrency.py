"""Unknown senders at the same moment (threads on PostgreSQL): one desk ticket, one hand-over."""

import re

import pytest
import requests
from django.db import connection

from support.errors import SupportError
from support.models import Ticket
from support.services import ticket_link
from sync.models import SyncJob
from tests.factories import CustomerFactory
from tests.support.test_concurrency import at_once, needs_postgres  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_one_unknown_senders_form_sent_four_times_at_once_reaches_the_desk_once(live_server, desk):
    session = requests.Session()
    html = session.get(f"{live_server.url}/support/new", timeout=30).text
    data = {
        "name": "Sam", "email": "sam@newcomer.example", "category": "question", "message": "Do you have a trial?",
        "token": re.search(r'name="token" value="([^"]+)"', html).group(1),
        "csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1),
    }
    cookies = session.cookies.get_dict()

    def send(_):
        return requests.post(f"{live_server.url}/support/new", data=data, cookies=cookies, timeout=30,
                             headers={"Referer": live_server.url}, allow_redirects=False).status_code

    assert at_once(send) == [302] * 4
    assert Ticket.objects.count() == 1 and SyncJob.objects.count() == 1 and len(desk.made) == 1


def test_two_people_linking_one_message_at_once_hand_it_over_once(live_server, desk, support, finance):
    session = requests.Session()
    html = session.get(f"{live_server.url}/support/new", timeout=30).text
    session.post(f"{live_server.url}/support/new", headers={"Referer": live_server.url}, timeout=30, data={
        "name": "Sam", "email": "sam@newcomer.example", "category": "question", "message": "Do you have a trial?",
        "token": re.search(r'name="token" value="([^"]+)"', html).group(1),
        "csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1),
    })
    ticket = Ticket.objects.get()
    customers = [CustomerFactory(email="sam@work.example"), CustomerFactory(email="sam@home.example")]

    def link(n):
        try:
            ticket_link(ticket=ticket, customer=customers[n], actor=(support, finance)[n])
        except SupportError:
            return "refused"
        finally:
            connection.close()
        return "linked"

    assert sorted(at_once(link, copies=2)) == ["linked", "refused"]
    [update] = SyncJob.objects.filter(action="update_ticket")
    assert update.attempts == 1 and update.customer in customers
