"""The three staff roles and exactly what each may do.

A role is a Django group; its permissions are listed here and written to the
database after every ``migrate`` (``sync_roles``, on ``post_migrate``), so the code is the one place to read
who may do what.
"""

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q, TextChoices


class Role(TextChoices):
    OWNER = "owner", "Owner"
    FINANCE = "finance", "Finance"
    SUPPORT = "support", "Support"


_VIEW_EVERYDAY = [
    "customers.view_customer",
    "customers.view_billing",
    "billing.view_stripeevent",
    "sync.view_syncjob",
    "support.view_ticket",
    "audit.view_auditevent",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.OWNER: [
        *_VIEW_EVERYDAY,
        "accounts.manage_staff",
        "customers.override_status",
        "customers.merge_customer",
        "customers.assign_customer",
        "customers.export_customers",
        "customers.view_internal_notes",
        "billing.view_event_payload",
        "billing.replay_event",
        "billing.issue_refund",
        "billing.approve_refund",
        "billing.manage_subscription",
        "sync.retry_job",
        "sync.retry_billing_sync",
        "sync.retry_support_sync",
        "sync.pause_system",
        "sync.edit_mapping",
        "sync.replay_simulated",
        "support.open_ticket",
        "support.edit_routing",
        "support.manage_api_keys",
        "audit.export",
        "audit.view_all_audit",
        "monitoring.view_health",
        "webhooks.manage_endpoints",
    ],
    Role.FINANCE: [
        *_VIEW_EVERYDAY,
        "billing.view_event_payload",
        "billing.replay_event",
        "billing.issue_refund",
        "billing.manage_subscription",
        "customers.view_internal_notes",
        "sync.retry_billing_sync",
    ],
    Role.SUPPORT: [
        *_VIEW_EVERYDAY,
        "support.open_ticket",
        "sync.retry_support_sync",
    ],
}


ROLE_CACHE = "_role_cache"


def role_of(user) -> str | None:
    """The person's role, read once per user object (one per request): the middleware, the
    navigation and the customer visibility rule all ask on every page."""
    if not user.is_authenticated:
        return None
    try:
        return getattr(user, ROLE_CACHE)
    except AttributeError:
        pass
    names = {g.name for g in user.groups.all()}
    role = next((r.value for r in Role if r.value in names), None)
    setattr(user, ROLE_CACHE, role)
    return role


def forget_role(user) -> None:
    """Drop the remembered role, after the person's groups change."""
    try:
        delattr(user, ROLE_CACHE)
    except AttributeError:
        pass


def sync_roles(apps, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the role groups and give each exactly the permissions listed above; running it again
    changes nothing. ``apps`` is a registry of models (the migrated state after ``migrate``)."""
    from django.apps import apps as installed_apps
    from django.contrib.auth.management import create_permissions

    # post_migrate reaches the apps one by one; a role may name permissions of an app not reached yet.
    for app_config in installed_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using, apps=apps)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = Q()
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.using(using).filter(wanted))


def roles_after_migrate(sender, *, apps=None, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_migrate receiver: every migrate (the test database's too) ends with the roles in the code, and
    so does every flush (which sends the signal with no migration state: the installed models then)."""
    from django.apps import apps as installed_apps

    sync_roles(apps or installed_apps, using=using)
