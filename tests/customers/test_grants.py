"""The grant is the one truth about who sees a restricted customer: sharing, groups and the list's SQL."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from guardian.models import UserObjectPermission
from guardian.shortcuts import assign_perm

from audit.models import AuditEvent
from customers.models import CustomerUserGrant
from customers.selectors import customer_search
from customers.services import customer_assign, customer_share
from customers.visibility import customer_visible
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _ids(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


def test_sharing_without_assignment_shows_the_customer_and_unsharing_hides_it(client, support, owner):
    shared = CustomerFactory(restricted=True, name="Shared Person")
    customer_share(customer=shared, user=support, shared=True, actor=owner, source="ui")
    shared.refresh_from_db()
    assert shared.assigned_to is None
    assert customer_visible(user=support, customer=shared) and support.has_perm("customers.view_customer", shared)
    assert shared.pk in _ids(customer_search(user=support, query="Shared"))
    client.force_login(support)
    assert client.get(reverse("customer_detail", args=[shared.public_id])).status_code == 200

    customer_share(customer=shared, user=support, shared=False, actor=owner, source="ui")
    assert not customer_visible(user=support, customer=shared)
    assert shared.pk not in _ids(customer_search(user=support, query="Shared"))
    assert client.get(reverse("customer_detail", args=[shared.public_id])).status_code == 403
    assert [e.action for e in AuditEvent.objects.order_by("pk")] == ["customer.share", "customer.unshare"]


def test_a_grant_to_a_group_shows_the_customer_to_its_members(support, finance):
    hidden = CustomerFactory(restricted=True)
    assign_perm("customers.view_customer", Group.objects.get(name="support"), hidden)
    assert customer_visible(user=support, customer=hidden) and support.has_perm("customers.view_customer", hidden)
    assert hidden.pk in _ids(customer_search(user=support))
    assert not customer_visible(user=finance, customer=hidden)


def test_grants_live_in_the_customer_table_not_in_guardians_generic_one(finance, owner):
    customer = CustomerFactory(restricted=True)
    customer_assign(customer=customer, assignee=finance, actor=owner, source="ui")
    assert CustomerUserGrant.objects.filter(content_object=customer, user=finance).count() == 1
    assert not UserObjectPermission.objects.exists()
    customer_assign(customer=customer, assignee=None, actor=owner, source="ui")
    assert not CustomerUserGrant.objects.exists()


def test_the_list_query_joins_the_grants_without_a_cast(client, finance, owner):
    customer_assign(customer=CustomerFactory(restricted=True), assignee=finance, actor=owner, source="ui")
    client.force_login(finance)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("customer_list")).status_code == 200
    grant_queries = [q["sql"] for q in ctx.captured_queries if CustomerUserGrant._meta.db_table in q["sql"]]
    assert grant_queries, "the list no longer filters through the grant table"
    assert not [sql for sql in grant_queries if "CAST" in sql.upper()]
    assert not [q["sql"] for q in ctx.captured_queries if "guardian_userobjectpermission" in q["sql"]]


def test_the_data_migration_moves_generic_customer_grants_and_back(finance, support):
    from importlib import import_module

    from django.apps import apps
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from guardian.models import GroupObjectPermission

    migration = import_module("customers.migrations.0010_move_customer_grants_from_generic_tables")
    customer, gone = CustomerFactory(restricted=True), CustomerFactory(restricted=True)
    content_type = ContentType.objects.get_for_model(customer)
    view = Permission.objects.get(content_type=content_type, codename="view_customer")
    UserObjectPermission.objects.create(user=finance, permission=view, content_type=content_type,
                                        object_pk=str(customer.pk))
    UserObjectPermission.objects.create(user=finance, permission=view, content_type=content_type,
                                        object_pk=str(gone.pk))
    GroupObjectPermission.objects.create(group=Group.objects.get(name="support"), permission=view,
                                         content_type=content_type, object_pk=str(customer.pk))
    gone.delete()

    migration.to_direct(apps, None)
    assert not UserObjectPermission.objects.exists() and not GroupObjectPermission.objects.exists()
    assert customer_visible(user=finance, customer=customer) and customer_visible(user=support, customer=customer)
    assert list(CustomerUserGrant.objects.values_list("user", "content_object")) == [(finance.pk, customer.pk)]

    migration.to_generic(apps, None)
    assert not CustomerUserGrant.objects.exists()
    assert UserObjectPermission.objects.get().object_pk == str(customer.pk)
    assert GroupObjectPermission.objects.get().group.name == "support"
