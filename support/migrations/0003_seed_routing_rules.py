from django.db import migrations

# The defaults as they were when seeded (support.rules.DEFAULT_ROUTING may move on).
DEFAULT_ROUTING = {
    "billing_facts": {
        "invoice.payment_failed": {
            "subject": "Payment failed",
            "category": "billing",
            "priority": "high",
            "tags": [
                "payment-failed"
            ]
        },
        "charge.dispute.created": {
            "subject": "Payment disputed",
            "category": "billing",
            "priority": "urgent",
            "tags": [
                "dispute"
            ]
        },
        "customer.subscription.trial_will_end": {
            "subject": "Trial ends soon",
            "category": "account",
            "priority": "low",
            "tags": [
                "trial-ending"
            ],
            "enabled": False
        }
    },
    "routes": [
        {
            "category": "access",
            "state": "just-paid-no-access",
            "priority": "urgent",
            "group": "Priority",
            "tags": [
                "paid-no-access"
            ]
        },
        {
            "category": "access",
            "state": "paying",
            "priority": "urgent",
            "group": "Priority",
            "tags": [
                "paying"
            ]
        },
        {
            "category": "billing",
            "state": "dispute-open",
            "priority": "urgent",
            "group": "Billing"
        },
        {
            "category": "billing",
            "state": "past-due",
            "priority": "high",
            "group": "Billing"
        },
        {
            "category": "billing",
            "priority": "normal",
            "group": "Billing"
        },
        {
            "state": "paying",
            "priority": "normal",
            "group": "Customers"
        },
        {
            "state": "unknown-customer",
            "priority": "normal",
            "group": "Triage"
        },
        {
            "priority": "low",
            "group": "General"
        }
    ]
}


def seed(apps, schema_editor):
    RoutingRule = apps.get_model("support", "RoutingRule")
    if not RoutingRule.objects.exists():
        RoutingRule.objects.create(version=1, rules=DEFAULT_ROUTING, note="Defaults: paying customers with access problems first")


def unseed(apps, schema_editor):
    apps.get_model("support", "RoutingRule").objects.filter(version=1, created_by__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("support", "0002_ticket_desk_fields_and_routing")]

    operations = [migrations.RunPython(seed, unseed)]
