"""Data: version 1 of the mapping rules for each system (a frozen copy of the defaults)."""

from django.db import migrations

SEED = {
    "crm": {
        "lifecycle_stage": {
            "trial": "opportunity",
            "active": "customer",
            "past_due": "customer",
            "canceled": "other",
            "needs_review": "lead",
        },
        "status_tags": {},
    },
    "support": {
        "tickets": {
            "past_due": {"subject": "Payment failed", "priority": "high", "tags": ["billing", "payment_failed"]},
            "canceled": {"subject": "Subscription canceled", "priority": "normal", "tags": ["billing", "churn"]},
        },
    },
    "community": {"access_statuses": ["trial", "active", "past_due"], "plan_spaces": {"*": []}},
    "email": {
        "status_tags": {
            "trial": ["trial"],
            "active": ["customer"],
            "past_due": ["payment-failed"],
            "canceled": ["churned"],
        },
        "plan_tag_prefix": "plan-",
    },
}


def seed(apps, schema_editor):
    MappingRule = apps.get_model("sync", "MappingRule")
    for system, rules in SEED.items():
        MappingRule.objects.get_or_create(
            system=system, version=1, defaults={"rules": rules, "note": "Defaults"}
        )


def unseed(apps, schema_editor):
    apps.get_model("sync", "MappingRule").objects.filter(version=1, created_by__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("sync", "0002_outbox_rules_and_limits")]

    operations = [migrations.RunPython(seed, unseed)]
