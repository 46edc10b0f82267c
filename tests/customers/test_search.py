"""Customer search at size: exact ids first, text through the email and name, plans listed by walking their index."""

import pytest

from customers.models import Customer, ExternalLink, System
from customers.selectors import customer_search, plans_in_use
from tests import helpers

pytestmark = pytest.mark.django_db


def test_an_exact_outside_id_finds_only_its_customer_even_when_it_is_also_text_elsewhere(owner):
    c = helpers.customer()
    ExternalLink.objects.create(customer=c, system=System.CRM, external_id="acme")
    helpers.customer(email="billing@acme.example", name="Acme Ltd")
    assert list(customer_search(user=owner, query="acme")) == [c]


def test_text_matches_part_of_an_email_or_a_name_ignoring_case(owner):
    by_email = helpers.customer(email="Grace.Hopper@navy.example", name="G.")
    by_name = helpers.customer(email="admiral@navy.example", name="Amazing Grace")
    helpers.customer(email="someone@else.example", name="Someone")
    assert set(customer_search(user=owner, query="grace")) == {by_email, by_name}


def test_text_with_a_space_finds_a_full_name_and_an_exact_id_with_a_space(owner):
    named = helpers.customer(name="Ada Lovelace")
    linked = helpers.customer(name="Someone")
    ExternalLink.objects.create(customer=linked, system=System.CRM, external_id="ada lovelace")
    helpers.customer(name="Ada Byron")
    assert set(customer_search(user=owner, query="ada lovelace")) == {named, linked}


def test_plans_in_use_lists_each_plan_once_in_order_and_no_blank_one(owner):
    for plan in ["Pro", "Business", "Pro", "", "Starter", "Business"]:
        helpers.customer(plan=plan)
    assert plans_in_use() == ["Business", "Pro", "Starter"]
    assert plans_in_use() == list(Customer.objects.exclude(plan="").order_by("plan")
                                  .values_list("plan", flat=True).distinct())


def test_no_customers_means_no_plans():
    assert plans_in_use() == []
