from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from billing import models

        for model in (models.StripeCustomer, models.Subscription, models.Invoice, models.Charge, models.Refund, models.Dispute):
            auditlog.register(model)
