import pytest

from accounts.roles import Role
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery"


@pytest.fixture
def owner(db):
    return UserFactory(email="owner@switchboard.test", role=Role.OWNER)


@pytest.fixture
def finance(db):
    return UserFactory(email="finance@switchboard.test", role=Role.FINANCE)


@pytest.fixture
def support(db):
    return UserFactory(email="support@switchboard.test", role=Role.SUPPORT)


@pytest.fixture
def norole(db):
    return UserFactory(email="norole@switchboard.test")


@pytest.fixture
def users(owner, finance, support, norole):
    return {"owner": owner, "finance": finance, "support": support, "norole": norole}
