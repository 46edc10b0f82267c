import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0011_customer_notes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The plain foreign-key indexes go; the fields' constraints stay as they are (Django's AlterField
        # would drop and re-check each constraint, reading the whole table).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='customer',
                    name='assigned_to',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='assigned_customers', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='customer',
                    name='merged_into',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='merged_from', to='customers.customer'),
                ),
                migrations.AlterField(
                    model_name='customer',
                    name='override_set_by',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[
                migrations.RunSQL(sql=[
                    'DROP INDEX IF EXISTS "customers_customer_assigned_to_id_c1b6fee6"',
                    'DROP INDEX IF EXISTS "customers_customer_merged_into_id_2994ddb6"',
                    'DROP INDEX IF EXISTS "customers_customer_override_set_by_id_6825e6c6"',
                ], reverse_sql=[
                    'CREATE INDEX "customers_customer_assigned_to_id_c1b6fee6" ON "customers_customer" ("assigned_to_id")',
                    'CREATE INDEX "customers_customer_merged_into_id_2994ddb6" ON "customers_customer" ("merged_into_id")',
                    'CREATE INDEX "customers_customer_override_set_by_id_6825e6c6" ON "customers_customer" ("override_set_by_id")',
                ]),
            ],
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('assigned_to__isnull', False)), fields=['assigned_to'], name='customer_assigned_to_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('override_set_by__isnull', False)), fields=['override_set_by'], name='customer_override_set_by_idx'),
        ),
    ]
