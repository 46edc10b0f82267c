"""The demo's staff logins: one per role, all with the same password (never in production)."""

from django.contrib.auth.models import Group

from accounts.models import User
from accounts.roles import Role

DEMO_PASSWORD = "switchboard-demo"
DEMO_DOMAIN = "demo.switchboard.test"


def demo_logins() -> list[tuple[str, str]]:
    """(email, role) of every demo login."""
    return [(f"{role}@{DEMO_DOMAIN}", role) for role in Role.values]


def demo_logins_ensure() -> dict[str, User]:
    """Create the missing logins; an existing one keeps its password. Returns the users by role."""
    users = {}
    for email, role in demo_logins():
        user, created = User.objects.get_or_create(email=email, defaults={"name": f"Demo {role}"})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        group = Group.objects.get(name=role)
        if not user.groups.filter(pk=group.pk).exists() or user.groups.count() != 1:
            user.groups.set([group])
        users[role] = user
    return users
