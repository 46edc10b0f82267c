from django.conf import settings
from django.db import models


class ActionItemState(models.Model):
    """What staff did about one item of the "needs action now" queue: who owns it, who resolved it.

    Items themselves are not stored: they are read live from the problem rows
    (dead jobs, failed events, ...). This row only remembers the human side,
    keyed by the item's kind and the id of the row it comes from.
    """

    kind = models.CharField(max_length=40)
    object_id = models.CharField(max_length=100)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Moved from customers without moving its rows: the table keeps its first name.
        db_table = "customers_actionitemstate"
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="actionitem_unique_kind_object"),
        ]
        indexes = [
            # "My queue": the items assigned to one person
            models.Index(fields=["assigned_to", "kind"], name="actionitem_assignee_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}"
