"""The product apps' API keys for ticket intake: made (shown once), recognised, revoked; and the owner's screen.

A key is ``sbk_<8 hex>_<secret>``. The first part is kept as it is, to tell keys apart on the screen and
to find a key's row; the whole key is kept only as a SHA-256 hash, compared in constant time. The key is
256 random bits, so a fast hash is enough: nothing can be guessed from it.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from audit.models import Source
from audit.services import audit_record
from support.errors import SupportError
from support.models import ApiKey

KEY_PREFIX = "sbk_"
PREFIX_LENGTH = len(KEY_PREFIX) + 8
MANAGE_PERM = "support.manage_api_keys"
LAST_USED_EVERY = timedelta(minutes=1)  # how stale "last used" may be: spares a write per request


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_key_create(*, name: str, actor=None, source: str = Source.UI) -> tuple[ApiKey, str]:
    """Make a key for the app ``name``; return it with the raw key, which is never stored or shown again."""
    name = (name or "").strip()
    if not name:
        raise SupportError("Name the app the key is for.")
    if len(name) > 100:
        raise SupportError("An app's name holds at most 100 characters.")
    prefix = KEY_PREFIX + secrets.token_hex(4)
    raw = f"{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        key = ApiKey.objects.create(name=name, prefix=prefix, key_hash=_hash(raw), created_by=actor)
        audit_record(action="support.api_key_create", source=source, actor=actor, target=key,
                     summary=f"Intake API key made for {name} ({prefix}…)")
    return key, raw


def api_key_revoke(*, key: ApiKey, actor=None, source: str = Source.UI) -> bool:
    """Revoke ``key`` from now on; False when it already was."""
    now = timezone.now()
    with transaction.atomic():
        revoked = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now, revoked_by=actor)
        if revoked:
            audit_record(action="support.api_key_revoke", source=source, actor=actor, target=key,
                         summary=f"Intake API key revoked: {key.name} ({key.prefix}…)")
    return bool(revoked)


def api_key_for(raw: str) -> ApiKey | None:
    """The live key ``raw`` is, or None (unknown, malformed or revoked). Notes when it was last used."""
    raw = (raw or "").strip()
    if not raw.startswith(KEY_PREFIX) or len(raw) < PREFIX_LENGTH + 2 or len(raw) > 200:
        return None
    key = ApiKey.objects.filter(prefix=raw[:PREFIX_LENGTH]).first()
    if key is None or not hmac.compare_digest(key.key_hash, _hash(raw)) or not key.active:
        return None
    now = timezone.now()
    ApiKey.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_EVERY), pk=key.pk).update(
        last_used_at=now)
    return key


# --- the owner's screen ---------------------------------------------------------------------


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, label="App", strip=True,
                           widget=forms.TextInput(attrs={"class": "form-control form-control-sm",
                                                         "placeholder": "e.g. iOS app"}))


def _authorize(request: HttpRequest) -> None:
    if not request.user.has_perm(MANAGE_PERM):
        raise PermissionDenied


@never_cache  # the page that shows a new key once must not be kept by any cache
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    _authorize(request)
    form = ApiKeyForm(request.POST or None)
    made, status = None, 200
    if request.method == "POST":
        if form.is_valid():
            try:
                key, raw = api_key_create(name=form.cleaned_data["name"], actor=request.user)
            except SupportError as exc:
                form.add_error("name", str(exc))
            else:
                made, form = {"key": key, "raw": raw}, ApiKeyForm()
        status = 200 if made else 422
    keys = ApiKey.objects.select_related("created_by", "revoked_by")[:100]
    return render(request, "support/api_keys.html", {"form": form, "keys": keys, "made": made}, status=status)


@require_POST
def api_key_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    _authorize(request)
    key = get_object_or_404(ApiKey, pk=pk)
    if api_key_revoke(key=key, actor=request.user):
        messages.success(request, f"Key {key.prefix}… of {key.name} is revoked: its calls are refused from now on.")
    else:
        messages.info(request, f"Key {key.prefix}… was already revoked.")
    return redirect("support_api_keys")
