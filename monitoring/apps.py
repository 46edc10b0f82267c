from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"

    def ready(self) -> None:
        from monitoring import checks  # noqa: F401 - registers the launch checks
        from monitoring import queue_items  # registers with the queue: importable once models are loaded
        from monitoring.signins import connect

        connect()  # counts sign-ins for the sign-in failure alert
        queue_items.register()
