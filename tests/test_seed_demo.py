import io

import pytest
from django.core.management import call_command

from accounts.models import User
from customers.models import Customer, CustomerStatus
from sync.models import JobStatus, SyncJob


@pytest.mark.django_db
def test_seed_demo_fills_every_status_and_is_idempotent():
    call_command("seed_demo", stdout=io.StringIO())
    counts = (Customer.objects.count(), SyncJob.objects.count(), User.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (Customer.objects.count(), SyncJob.objects.count(), User.objects.count()) == counts
    for status in CustomerStatus.values:
        assert Customer.objects.filter(status=status).count() >= 3, status
    assert SyncJob.objects.filter(status=JobStatus.DEAD).exists()
    assert SyncJob.objects.filter(status=JobStatus.PENDING).exists()
    assert {u.role for u in User.objects.all()} == {"owner", "finance", "support"}


@pytest.mark.django_db
def test_seed_demo_prints_a_login_per_role():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    for role in ("owner", "finance", "support"):
        assert f"{role}@demo.switchboard.test" in out.getvalue()
