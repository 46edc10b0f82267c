from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Staff accounts"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from accounts.models import User

        # Role changes (groups) are recorded explicitly by the staff services; the hash never is.
        auditlog.register(User, exclude_fields=["password", "last_login"])
