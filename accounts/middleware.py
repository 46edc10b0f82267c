from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.roles import role_of

# Pages a signed-in person without a role may still reach.
ROLELESS_ALLOWED = {"logout", "password_change", "password_change_done"}


class RoleRequiredMiddleware:
    """A signed-in account with no role sees one page saying so, and nothing else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not getattr(view_func, "login_required", True):
            return None
        user = request.user
        if not user.is_authenticated or user.is_superuser:
            return None
        match = request.resolver_match
        if match and match.url_name in ROLELESS_ALLOWED:
            return None
        if role_of(user) is None:
            return render(request, "accounts/no_role.html", status=403)
        return None
