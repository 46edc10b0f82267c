"""The browser tests' demo snapshot puts back exactly what was there, and new rows still get fresh ids."""

import pytest

from customers.models import Customer
from tests.browser import snapshot
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_restored_snapshot_is_the_database_it_was_taken_from(settings, tmp_path):
    settings.SANDBOX_STATE_PATH = str(tmp_path / "tools.sqlite3")
    (tmp_path / "tools.sqlite3").write_bytes(b"the sandbox tools' file")
    kept = [CustomerFactory(), CustomerFactory()]
    before = snapshot.take()

    Customer.objects.filter(pk=kept[0].pk).delete()
    CustomerFactory()
    (tmp_path / "tools.sqlite3").write_bytes(b"changed")
    snapshot.restore(before)

    assert snapshot.take() == before
    assert sorted(Customer.objects.values_list("pk", flat=True)) == sorted(c.pk for c in kept)
    assert CustomerFactory().pk > max(c.pk for c in kept)
