from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        # billing registers with the apps below it (the queue, customers) once its models are loaded
        from billing import models, queue_items, selectors
        from customers import hooks

        for model in (models.StripeCustomer, models.Subscription, models.Invoice, models.PaymentIntent, models.Charge,
                      models.Refund, models.Dispute):
            auditlog.register(model)
        auditlog.register(models.RefundRequest, exclude_fields=["updated_at"])
        queue_items.register()
        hooks.register_since(selectors.customer_billing_since)
        # a customer's mirrors and events move with a merge
        mirrors = [m for m in self.get_models() if issubclass(m, models.StripeMirror)]
        hooks.register_merge_rows(*mirrors, models.StripeEvent)
