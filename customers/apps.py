from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"

    def ready(self) -> None:
        from customers import wiring  # imports the models, which exist only once the registry is ready

        wiring.register()
