"""Rules kept as versions: an edit adds a version with its author and reason, none is overwritten.

Mapping rules (sync, one set per system) and support's routing rules (one set) share it: the fields
of one version, the current one, saving the next, the history and what changed between two.
"""

from typing import Any, TypeVar

from django.conf import settings
from django.db import models
from django.utils import timezone

V = TypeVar("V", bound="VersionedRules")


class VersionedRules(models.Model):
    """One version of a rule set; ``scope`` (``system="crm"``) picks the set where a model keeps several."""

    version = models.PositiveIntegerField()
    rules = models.JSONField(default=dict)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


def version_current(model: type[V], **scope: Any) -> V | None:
    return model.objects.filter(**scope).order_by("-version").first()


def version_history(model: type[V], **scope: Any) -> models.QuerySet:
    """Newest first, with who saved each."""
    return model.objects.filter(**scope).select_related("created_by").order_by("-version")


def version_save(model: type[V], *, rules: dict, actor, note: str = "", **scope: Any) -> tuple[V | None, V]:
    """Save ``rules`` as the next version of the set; returns (the version it follows or None, the new one).

    Call it inside the caller's transaction (which records the edit). The newest version is locked so
    editors queue; where rows cannot be locked (SQLite) the unique version makes the second one fail
    with IntegrityError, which the caller turns into a sentence.
    """
    previous = model.objects.select_for_update().filter(**scope).order_by("-version").first()
    saved = model.objects.create(
        **scope,
        version=(previous.version + 1) if previous else 1,
        rules=rules,
        note=note[:300],
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    return previous, saved


def rules_diff(before: dict, after: dict) -> dict[str, list]:
    """Top-level keys whose value changed, as ``{key: [before, after]}`` (None where a key is missing)."""
    return {key: [before.get(key), after.get(key)]
            for key in sorted(before.keys() | after.keys()) if before.get(key) != after.get(key)}
