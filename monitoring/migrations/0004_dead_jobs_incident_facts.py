"""An open dead-jobs incident from before incidents kept their facts: its dead jobs were
announced already, so they become its facts and its told facts (no repeat message)."""

from django.db import migrations


def tell_current_dead_jobs(apps, schema_editor):
    Incident = apps.get_model("monitoring", "Incident")
    SyncJob = apps.get_model("sync", "SyncJob")
    ids = [str(pk) for pk in SyncJob.objects.filter(status="dead").order_by("-pk").values_list("pk", flat=True)[:5000]]
    Incident.objects.filter(rule="dead_jobs", resolved_at__isnull=True, notified_open=True).update(
        facts=ids, told=ids
    )


class Migration(migrations.Migration):

    dependencies = [
        ("monitoring", "0003_incident_per_fact"),
        ("sync", "0006_job_set_aside_system_failing_since"),
    ]

    operations = [migrations.RunPython(tell_current_dead_jobs, migrations.RunPython.noop)]
