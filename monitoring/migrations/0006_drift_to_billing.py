"""Drift now belongs to billing (its 0008 takes it into its state).

State only: the table ``monitoring_drift`` and its rows stay where they are.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("monitoring", "0005_incident_sent_on"),
        ("billing", "0008_drift_from_monitoring"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Drift")],
            database_operations=[],
        ),
    ]
