from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import User
from accounts.roles import Role
from audit.services import audit_record


class StaffError(Exception):
    """A staff action that cannot be done, with a sentence a person can read."""


def staff_create(*, email: str, role: str, password: str, actor=None, source: str) -> User:
    group = _role_group(role)
    email = _unused_email(email)
    with transaction.atomic():
        user = User.objects.create_user(email=email, password=password)
        user.groups.set([group])
        audit_record(
            action="staff.created",
            source=source,
            actor=actor,
            target=user,
            summary=f"Staff account created with role {role}",
            changes={"role": [None, role]},
        )
    return user


# --- staff management (the owner's screen) ---------------------------------------------


def _role_group(role: str) -> Group:
    if role not in Role.values:
        raise StaffError(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.")
    return Group.objects.get(name=role)


def _unused_email(email: str) -> str:
    """The address as stored (lower case); refused when an account already has it."""
    email = User.objects.normalize_email(email.strip()).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise StaffError(f"A staff account for {email} already exists.")
    return email


def _lock_owners() -> list[int]:
    """Lock every active owner (in primary-key order) so two owners cannot remove each other at once."""
    return list(
        User.objects.select_for_update(of=("self",))
        .filter(is_active=True, groups__name=Role.OWNER)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _refuse_last_owner(user: User, owners: list[int]) -> None:
    if user.pk in owners and len(owners) == 1:
        raise StaffError("This is the last active owner. Make someone else an owner first.")


def _sessions_end(user: User) -> int:
    """Delete every session of ``user``: signed-in browsers are signed out at their next request."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    ended = [
        s.session_key
        for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(s.get_decoded().get("_auth_user_id")) == str(user.pk)
    ]
    Session.objects.filter(session_key__in=ended).delete()
    return len(ended)


def staff_invite(*, email: str, name: str, role: str, actor, source: str) -> User:
    """Create an account without a password and email a link to choose one."""
    group = _role_group(role)
    email = _unused_email(email)
    with transaction.atomic():
        user = User.objects.create_user(email=email, password=None, name=name.strip()[:150])
        user.groups.set([group])
        audit_record(
            action="staff.invited",
            source=source,
            actor=actor,
            target=user,
            summary=f"Invited {email} as {role}",
            changes={"role": [None, role]},
        )
        transaction.on_commit(lambda: staff_invitation_send(user=user))
    return user


def staff_invitation_send(*, user: User) -> None:
    from django.conf import settings
    from django.contrib.auth.tokens import default_token_generator
    from django.core.mail import send_mail
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = settings.SITE_URL + reverse("staff_set_password", args=[uid, default_token_generator.make_token(user)])
    send_mail(
        subject="Your Switchboard account",
        message=(
            f"You have a Switchboard account ({user.role}).\n\n"
            f"Choose your password here (the link works once and expires):\n{link}\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


def staff_role_change(*, user: User, role: str, actor, source: str) -> User:
    group = _role_group(role)
    with transaction.atomic():
        owners = _lock_owners()
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = locked.role
        if before == role:
            return locked
        if before == Role.OWNER:
            _refuse_last_owner(locked, owners)
        locked.groups.set([group])
        audit_record(
            action="staff.role_changed",
            source=source,
            actor=actor,
            target=locked,
            summary=f"{locked.email}: {before or 'no role'} -> {role}",
            changes={"role": [before, role]},
        )
    return locked


def staff_deactivate(*, user: User, actor, source: str) -> User:
    """Switch an account off and end its sessions at once. The account and its history stay."""
    with transaction.atomic():
        owners = _lock_owners()
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.is_active:
            return locked
        _refuse_last_owner(locked, owners)
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        ended = _sessions_end(locked)
        audit_record(
            action="staff.deactivated",
            source=source,
            actor=actor,
            target=locked,
            summary=f"Deactivated {locked.email}; {ended} session{'s' if ended != 1 else ''} ended",
            changes={"is_active": [True, False], "sessions_ended": ended},
        )
    return locked


def staff_reactivate(*, user: User, actor, source: str) -> User:
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_active:
            return locked
        locked.is_active = True
        locked.save(update_fields=["is_active"])
        audit_record(
            action="staff.reactivated",
            source=source,
            actor=actor,
            target=locked,
            summary=f"Reactivated {locked.email}",
            changes={"is_active": [False, True]},
        )
    return locked
