"""Data: customer grants move from guardian's generic tables (object_pk text) to the customer tables."""

from django.db import migrations

PAIRS = (("UserObjectPermission", "CustomerUserGrant", "user_id"),
         ("GroupObjectPermission", "CustomerGroupGrant", "group_id"))


def _customer_type(apps):
    ContentType = apps.get_model("contenttypes", "ContentType")
    return ContentType.objects.filter(app_label="customers", model="customer").first()


def to_direct(apps, schema_editor):
    content_type = _customer_type(apps)
    if content_type is None:
        return
    existing = set(apps.get_model("customers", "Customer").objects.values_list("pk", flat=True))
    for generic_name, direct_name, holder in PAIRS:
        generic = apps.get_model("guardian", generic_name).objects.filter(content_type=content_type)
        direct = apps.get_model("customers", direct_name)
        rows = {(row[holder], row["permission_id"], int(row["object_pk"]))
                for row in generic.values(holder, "permission_id", "object_pk")
                if row["object_pk"].isdigit() and int(row["object_pk"]) in existing}  # a grant on a deleted customer goes
        direct.objects.bulk_create(
            [direct(**{holder: who, "permission_id": perm, "content_object_id": pk}) for who, perm, pk in rows],
            ignore_conflicts=True,
        )
        generic.delete()


def to_generic(apps, schema_editor):
    content_type = _customer_type(apps)
    if content_type is None:
        return
    for generic_name, direct_name, holder in PAIRS:
        generic = apps.get_model("guardian", generic_name)
        direct = apps.get_model("customers", direct_name).objects.all()
        generic.objects.bulk_create(
            [generic(**{holder: row[holder], "permission_id": row["permission_id"], "content_type": content_type,
                        "object_pk": str(row["content_object_id"])})
             for row in direct.values(holder, "permission_id", "content_object_id")],
            ignore_conflicts=True,
        )
        direct.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0009_customer_grants_by_foreign_key"),
        ("guardian", "0003_remove_groupobjectpermission_guardian_gr_content_ae6aec_idx_and_more"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(to_direct, to_generic)]
