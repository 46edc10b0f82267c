"""What billing hands to the apps below it once its models are loaded: the audit log of its mirrors,
its queue kinds, when a customer began by billing's clock, and the rows that move with a merge."""

from auditlog.registry import auditlog
from django.apps import apps

from billing import models, queue_items, selectors, subscription_queue
from billing.consumers import billing_consumer_register
from billing.services.subscriptions import subscription_changes_confirm
from customers import hooks


def register() -> None:
    for model in (models.StripeCustomer, models.Subscription, models.Invoice, models.PaymentIntent, models.Charge,
                  models.Refund, models.Dispute):
        auditlog.register(model)
    auditlog.register(models.RefundRequest, exclude_fields=["updated_at"])
    auditlog.register(models.SubscriptionChange, exclude_fields=["updated_at"])
    # a change sent to Stripe is confirmed by the subscription event that follows it
    billing_consumer_register(name="billing.subscription_changes", consumer=subscription_changes_confirm)
    queue_items.register()
    subscription_queue.register()
    hooks.register_since(selectors.customer_billing_since)
    # a customer's mirrors, events and the staff's requests on them move with a merge (the survivor's
    # 360 shows a refund or a plan change asked for on the merged-away record)
    mirrors = [m for m in apps.get_app_config("billing").get_models() if issubclass(m, models.StripeMirror)]
    hooks.register_merge_rows(*mirrors, models.StripeEvent, models.RefundRequest, models.SubscriptionChange)
