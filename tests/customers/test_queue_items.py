"""Customers' kinds in the queue: identities to review and overrides against billing."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from action_queue.items import ROWS_PER_GROUP
from action_queue.selectors import action_items_for
from customers.models import CustomerStatus
from tests import helpers

pytestmark = pytest.mark.django_db


def _kinds(user, **kw):
    return {g.key: g for g in action_items_for(user=user, **kw).groups}


def test_override_against_billing_is_an_item(owner):
    helpers.customer(status=CustomerStatus.PAST_DUE, override_status=CustomerStatus.ACTIVE, override_reason="Goodwill",
                     override_expires_at=timezone.now() + timedelta(days=3))
    group = _kinds(owner)["override_conflict"]
    assert "Override says active, billing says past due" in group.items[0].what


def test_a_customer_to_review_links_to_its_review_and_a_long_group_to_every_one(client, owner):
    people = [helpers.customer(status=CustomerStatus.NEEDS_REVIEW, review_reason="Same email")
              for _ in range(ROWS_PER_GROUP + 1)]
    client.force_login(owner)
    html = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("customer_review", args=[people[-1].public_id])}"' in html
    assert f'<a href="{reverse("customer_list")}?status=needs_review">see all</a>' in html


def test_only_who_may_merge_reviews_identities_and_only_who_may_override_sees_conflicts(owner, finance, support):
    helpers.customer(status=CustomerStatus.NEEDS_REVIEW, review_reason="Same email")
    helpers.customer(status=CustomerStatus.CANCELED, override_status=CustomerStatus.ACTIVE, override_reason="Goodwill")
    assert {"needs_review", "override_conflict"} <= set(_kinds(owner))
    for user in (finance, support):
        assert not {"needs_review", "override_conflict"} & set(_kinds(user))
