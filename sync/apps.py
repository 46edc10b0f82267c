from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"

    def ready(self) -> None:
        from sync import wiring  # imports the models, which exist only once the registry is ready

        wiring.register()
