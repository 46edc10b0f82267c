"""Drift, moved here from monitoring (monitoring 0006 lets go of it): billing finds and resolves it.

State only: the model keeps the table ``monitoring_drift``, its constraint and its rows; nothing is
created or copied.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0007_customer_identity_from_mirrors"),
        ("customers", "0002_screens"),
        ("monitoring", "0005_incident_sent_on"),  # the table exists before billing takes it over
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Drift",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("object_type", models.CharField(max_length=30)),
                        ("stripe_id", models.CharField(max_length=255)),
                        ("kind", models.CharField(choices=[("missing", "Missing locally"), ("status", "Status differs"),
                                                           ("amount", "Amount differs")], max_length=10)),
                        ("field", models.CharField(blank=True, max_length=40)),
                        ("ours", models.CharField(blank=True, max_length=200)),
                        ("stripes", models.CharField(blank=True, max_length=200)),
                        ("found_at", models.DateTimeField()),
                        ("resolved_at", models.DateTimeField(blank=True, null=True)),
                        ("resolution", models.CharField(blank=True, max_length=200)),
                        (
                            "customer",
                            models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                              related_name="+", to="customers.customer"),
                        ),
                    ],
                    options={
                        "db_table": "monitoring_drift",
                        "ordering": ["-found_at", "-id"],
                        "constraints": [
                            models.UniqueConstraint(condition=models.Q(("resolved_at__isnull", True)),
                                                    fields=("object_type", "stripe_id", "field"),
                                                    name="drift_one_open_per_field"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
