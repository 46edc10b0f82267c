from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"

    def ready(self) -> None:
        from monitoring import wiring  # imports the models, which exist only once the registry is ready

        wiring.register()
