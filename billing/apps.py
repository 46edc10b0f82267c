from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from billing import wiring  # imports the models, which exist only once the registry is ready

        wiring.register()
