"""Data: customers assigned before grants existed give their owner the guardian view grant."""

from django.db import migrations


def _grant_rows(apps):
    Customer = apps.get_model("customers", "Customer")
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label="customers", model="customer")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename="view_customer", defaults={"name": "Can view customer"}
    )
    rows = Customer.objects.filter(assigned_to__isnull=False).values_list("pk", "assigned_to_id")
    return content_type, permission, rows


def grant(apps, schema_editor):
    UserObjectPermission = apps.get_model("guardian", "UserObjectPermission")
    content_type, permission, rows = _grant_rows(apps)
    for pk, user_id in rows.iterator():
        UserObjectPermission.objects.get_or_create(
            user_id=user_id, permission=permission, content_type=content_type, object_pk=str(pk)
        )


def revoke(apps, schema_editor):
    UserObjectPermission = apps.get_model("guardian", "UserObjectPermission")
    content_type, permission, _ = _grant_rows(apps)
    UserObjectPermission.objects.filter(permission=permission, content_type=content_type).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_screens"),
        ("guardian", "0003_remove_groupobjectpermission_guardian_gr_content_ae6aec_idx_and_more"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
