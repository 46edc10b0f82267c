from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import User
from accounts.roles import Role
from audit.services import audit_record


class StaffError(Exception):
    """A staff action that cannot be done, with a sentence a person can read."""


def staff_create(*, email: str, role: str, password: str, actor=None, source: str) -> User:
    if role not in Role.values:
        raise StaffError(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.")
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise StaffError(f"A staff account for {email} already exists.")
    with transaction.atomic():
        user = User.objects.create_user(email=email, password=password)
        user.groups.set([Group.objects.get(name=role)])
        audit_record(
            action="staff.created",
            source=source,
            actor=actor,
            target=user,
            summary=f"Staff account created with role {role}",
            changes={"role": [None, role]},
        )
    return user
