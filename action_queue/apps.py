from django.apps import AppConfig


class ActionQueueConfig(AppConfig):
    """The "needs action now" queue. Not named ``queue``: a top-level package of that name would
    shadow the standard library module kombu imports."""

    name = "action_queue"
    verbose_name = "Needs action now"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from action_queue.models import ActionItemState

        auditlog.register(ActionItemState, exclude_fields=["updated_at"])
