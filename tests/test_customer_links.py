"""Linking a customer to an outside id: idempotent, never steals another customer's id, and under a
race on PostgreSQL one writer wins while the other gets a sentence, not a database error."""

import threading

import pytest
from django.db import connection

from customers.models import ExternalLink, System
from customers.services import CustomerError, customer_link
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
