from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Staff accounts"

    def ready(self) -> None:
        from accounts import wiring  # imports the models, which exist only once the registry is ready

        wiring.register()
