from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"

    def ready(self) -> None:
        from monitoring import checks  # noqa: F401 - registers the launch checks
        from monitoring.metrics import signin_counting_connect

        signin_counting_connect()
