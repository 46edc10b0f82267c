from django.http import HttpRequest

from accounts.roles import role_of


def navigation(request: HttpRequest) -> dict:
    """What the navigation bar may offer this person (the server checks again on every view)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": None}
    role = role_of(user)
    if role is None and not user.is_superuser:
        return {"nav": None, "role": None}
    return {
        "role": role,
        "nav": {
            "customers": user.has_perm("customers.view_customer"),
            "sync": user.has_perm("sync.view_syncjob"),
            "events": user.has_perm("billing.view_stripeevent"),
            "audit": user.has_perm("audit.view_auditevent"),
            "staff": user.has_perm("accounts.manage_staff"),
            "refunds": user.has_perm("billing.issue_refund"),
            "health": user.has_perm("monitoring.view_health"),
            "rules": user.has_perm("sync.edit_mapping"),
        },
    }
