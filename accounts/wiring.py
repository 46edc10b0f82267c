"""What accounts sets up once the models are loaded: the audit log of staff accounts, and a role
forgotten when its groups change."""

from auditlog.registry import auditlog
from django.db.models.signals import m2m_changed

from accounts.models import User
from accounts.roles import forget_role


def _groups_changed(sender, instance, action: str, reverse: bool, **kwargs) -> None:
    if not reverse and action.startswith("post_"):
        forget_role(instance)  # the role is remembered on the user object (accounts.roles.role_of)


def register() -> None:
    # Role changes (groups) are recorded explicitly by the staff services; the hash never is.
    auditlog.register(User, exclude_fields=["password", "last_login"])
    m2m_changed.connect(_groups_changed, sender=User.groups.through, weak=False,
                        dispatch_uid="accounts.forget_role_on_group_change")
