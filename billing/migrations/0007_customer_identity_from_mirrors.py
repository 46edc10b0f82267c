"""Give every existing customer the identity evidence billing would have passed down.

``stated``: what its Stripe customer mirrors say (per field, the newest mirror that says
any). ``seen``: the email and name it holds now, as of its last event, so only a newer
object's values replace them. Data only; the column comes from customers 0007.
"""

from django.db import migrations

BATCH = 1000


def backfill(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    StripeCustomer = apps.get_model("billing", "StripeCustomer")
    stated: dict[int, dict[str, str]] = {}
    mirrors = (
        StripeCustomer.objects.filter(customer__isnull=False)
        .order_by("customer_id", "-last_event_created", "-last_event_rank", "-last_event_id")
        .values_list("customer_id", "email", "name")
    )
    for customer_id, email, name in mirrors.iterator(chunk_size=BATCH):
        said = stated.setdefault(customer_id, {"email": "", "name": ""})
        said["email"], said["name"] = said["email"] or email, said["name"] or name
    batch = []
    for customer in Customer.objects.only("pk", "email", "name", "last_event_at").iterator(chunk_size=BATCH):
        evidence = {"stated": stated.get(customer.pk, {}), "seen": {}}
        if customer.last_event_at is not None:
            as_of = [customer.last_event_at.timestamp(), 0, ""]
            evidence["seen"] = {k: [v, as_of] for k, v in (("email", customer.email), ("name", customer.name)) if v}
        customer.identity_evidence = evidence
        batch.append(customer)
        if len(batch) >= BATCH:
            Customer.objects.bulk_update(batch, ["identity_evidence"])
            batch = []
    Customer.objects.bulk_update(batch, ["identity_evidence"])


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0006_invoice_failed_open_idx"),
        ("customers", "0007_customer_identity_evidence"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
