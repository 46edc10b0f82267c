from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from billing import models

        for model in (models.StripeCustomer, models.Subscription, models.Invoice, models.PaymentIntent, models.Charge,
                      models.Refund, models.Dispute):
            auditlog.register(model)
        auditlog.register(models.RefundRequest, exclude_fields=["updated_at"])
