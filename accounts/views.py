"""Staff management for the owner: invite, change role, deactivate; and the invitation's set-password page."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import InviteForm, RoleForm
from accounts.models import User
from accounts.roles import Role
from accounts.services import StaffError, staff_deactivate, staff_invite, staff_reactivate, staff_role_change
from audit.models import Source
from core.http import redirect_after_post

PERM = "accounts.manage_staff"


def _require_manager(request: HttpRequest) -> None:
    if not request.user.has_perm(PERM):
        raise PermissionDenied


def get_staff_for(request: HttpRequest, pk: int) -> User:
    _require_manager(request)
    return get_object_or_404(User, pk=pk)


def _back(request: HttpRequest) -> HttpResponse:
    return redirect_after_post(request, reverse("staff_list"))


@require_GET
def staff_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    staff = User.objects.prefetch_related("groups").order_by("-is_active", "email")
    return render(
        request, "accounts/staff/list.html", {"staff": staff, "roles": Role.choices, "invite_form": InviteForm()}
    )


@require_http_methods(["GET", "POST"])
def staff_invite_view(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = staff_invite(**form.cleaned_data, actor=request.user, source=Source.UI)
        except StaffError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Invited {user.email}; they get an email with a link to choose a password.")
            return _back(request)
    status = 422 if request.method == "POST" else 200
    return render(request, "accounts/staff/invite.html", {"form": form}, status=status)


@require_POST
def staff_role_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_staff_for(request, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose owner, finance or support.")
        return _back(request)
    try:
        staff_role_change(user=user, role=form.cleaned_data["role"], actor=request.user, source=Source.UI)
    except StaffError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{user.email} is now {form.cleaned_data['role']}.")
    return _back(request)


@require_POST
def staff_deactivate_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_staff_for(request, pk)
    try:
        staff_deactivate(user=user, actor=request.user, source=Source.UI)
    except StaffError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{user.email} is deactivated and signed out everywhere.")
    return _back(request)


@require_POST
def staff_reactivate_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_staff_for(request, pk)
    staff_reactivate(user=user, actor=request.user, source=Source.UI)
    messages.success(request, f"{user.email} can sign in again.")
    return _back(request)


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """The invitation link: Django's password-reset token, valid once and for PASSWORD_RESET_TIMEOUT."""

    template_name = "accounts/staff/set_password.html"
    success_url = reverse_lazy("login")

    def form_valid(self, form):
        messages.success(self.request, "Password saved. Sign in with your email and the new password.")
        return super().form_valid(form)
