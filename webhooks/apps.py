from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"

    def ready(self) -> None:
        from webhooks import wiring  # imports the models, which exist only once the registry is ready

        wiring.register()
