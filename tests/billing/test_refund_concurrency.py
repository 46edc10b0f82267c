"""Refund requests racing on PostgreSQL: the charge row lock keeps the total within what is refundable."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from billing.models import RefundRequest, RefundStatus
from billing.services.refunds import RefundError, refund_approve, refund_request
from tests.factories import ChargeFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite runs one writer at a time, so there is no race to test")


@pytest.fixture(autouse=True)
def roles():
    """Transactional tests flush the tables, role groups included: write them again."""
    from django.contrib.auth.models import Group, Permission

    from accounts.roles import ROLE_PERMISSIONS

    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(*Permission.objects.filter(content_type__app_label=app_label, codename=codename))


def _race(calls) -> list:
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        try:
            return call()
        except RefundError as exc:
            return exc
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_two_requests_at_once_cannot_refund_more_than_the_charge():
    charge = ChargeFactory(amount=4900)
    a, b = UserFactory(role="finance"), UserFactory(role="finance")
    results = _race([
        lambda: refund_request(charge=charge, amount=3000, reason="duplicate", note="", actor=a),
        lambda: refund_request(charge=charge, amount=3000, reason="duplicate", note="", actor=b),
    ])
    assert sorted(type(r).__name__ for r in results) == ["RefundError", "RefundRequest"]
    assert RefundRequest.objects.count() == 1


def test_two_owners_approving_at_once_approve_once(settings):
    settings.REFUND_APPROVAL_THRESHOLD = 100
    request = refund_request(charge=ChargeFactory(amount=4900), amount=4000, reason="duplicate", note="",
                             actor=UserFactory(role="finance"))
    one, two = UserFactory(role="owner"), UserFactory(role="owner")
    results = _race([
        lambda: refund_approve(request=request, actor=one, note="ok"),
        lambda: refund_approve(request=request, actor=two, note="ok"),
    ])
    assert sorted(type(r).__name__ for r in results) == ["RefundError", "RefundRequest"]
    request.refresh_from_db()
    assert request.status == RefundStatus.REQUESTED
