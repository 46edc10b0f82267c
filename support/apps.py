from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"

    def ready(self) -> None:
        from support import wiring  # imports the models, which exist only once the registry is ready

        wiring.register()
