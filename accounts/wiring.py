"""What accounts sets up once the models are loaded: the roles written after every migrate, the audit
log of staff accounts, and a role forgotten when its groups change."""

from auditlog.registry import auditlog
from django.apps import apps
from django.db.models.signals import m2m_changed, post_migrate

from accounts.models import User
from accounts.roles import forget_role, roles_after_migrate


def _groups_changed(sender, instance, action: str, reverse: bool, **kwargs) -> None:
    if not reverse and action.startswith("post_"):
        forget_role(instance)  # the role is remembered on the user object (accounts.roles.role_of)


def register() -> None:
    post_migrate.connect(roles_after_migrate, sender=apps.get_app_config("accounts"),
                         dispatch_uid="accounts.sync_roles")
    # Role changes (groups) are recorded explicitly by the staff services; the hash never is.
    auditlog.register(User, exclude_fields=["password", "last_login"])
    m2m_changed.connect(_groups_changed, sender=User.groups.through, weak=False,
                        dispatch_uid="accounts.forget_role_on_group_change")
