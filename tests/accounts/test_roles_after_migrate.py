"""The role groups are written by a post_migrate step from accounts.roles, after every migrate."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from accounts.roles import ROLE_PERMISSIONS, Role, sync_roles

pytestmark = pytest.mark.django_db


def _roles_in_database() -> dict[str, set[str]]:
    return {
        group.name: {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        for group in Group.objects.prefetch_related("permissions__content_type")
    }


def test_migrate_leaves_each_role_with_exactly_its_permissions():
    assert _roles_in_database() == {role: set(perms) for role, perms in ROLE_PERMISSIONS.items()}


def test_running_it_again_changes_nothing():
    before = (_roles_in_database(), sorted(Permission.objects.values_list("pk", "codename")),
              sorted(Group.objects.values_list("pk", "name")))
    sync_roles(apps)
    call_command("migrate", verbosity=0)
    after = (_roles_in_database(), sorted(Permission.objects.values_list("pk", "codename")),
             sorted(Group.objects.values_list("pk", "name")))
    assert after == before


def test_migrate_puts_back_a_permission_taken_from_a_role_by_hand():
    finance = Group.objects.get(name=Role.FINANCE)
    finance.permissions.remove(Permission.objects.get(codename="issue_refund"))
    finance.permissions.add(Permission.objects.get(codename="edit_mapping"))
    call_command("migrate", verbosity=0)
    assert _roles_in_database()[Role.FINANCE] == set(ROLE_PERMISSIONS[Role.FINANCE])


def test_a_flush_puts_the_roles_back_too():
    """flush (transactional tests, live servers) sends post_migrate without a migration state."""
    from django.core.management.sql import emit_post_migrate_signal

    Group.objects.filter(name=Role.SUPPORT).delete()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert _roles_in_database()[Role.SUPPORT] == set(ROLE_PERMISSIONS[Role.SUPPORT])
