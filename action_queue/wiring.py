"""What the queue sets up once its models are loaded: the audit log of an item's state."""

from auditlog.registry import auditlog

from action_queue.models import ActionItemState


def register() -> None:
    auditlog.register(ActionItemState, exclude_fields=["updated_at"])
