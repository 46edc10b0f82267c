from django.apps import AppConfig


class ActionQueueConfig(AppConfig):
    """The "needs action now" queue. Not named ``queue``: a top-level package of that name would
    shadow the standard library module kombu imports."""

    name = "action_queue"
    verbose_name = "Needs action now"

    def ready(self) -> None:
        from action_queue import wiring  # imports the models, which exist only once the registry is ready

        wiring.register()
