"""ActionItemState now belongs to the action_queue app (its 0001 takes it into its state).

State only: the table ``customers_actionitemstate`` and its rows stay where they are.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0007_customer_identity_evidence"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ActionItemState")],
            database_operations=[],
        ),
    ]
