"""ActionItemState, moved here from customers (customers 0007 lets go of it).

State only: the model keeps the table ``customers_actionitemstate``, its constraint, its
index and its rows; nothing is created or copied.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("customers", "0008_move_actionitemstate_to_action_queue"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ActionItemState",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("kind", models.CharField(max_length=40)),
                        ("object_id", models.CharField(max_length=100)),
                        ("resolved_at", models.DateTimeField(blank=True, null=True)),
                        ("resolved_note", models.CharField(blank=True, max_length=500)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "assigned_to",
                            models.ForeignKey(
                                blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+", to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "resolved_by",
                            models.ForeignKey(
                                blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+", to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "customers_actionitemstate",
                        "ordering": ["-updated_at", "-id"],
                        "indexes": [models.Index(fields=["assigned_to", "kind"], name="actionitem_assignee_idx")],
                        "constraints": [
                            models.UniqueConstraint(fields=("kind", "object_id"), name="actionitem_unique_kind_object")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
