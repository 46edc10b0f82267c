import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0014_event_failed_queue_idx'),
        ('customers', '0012_partial_foreign_key_indexes'),
        ('sync', '0012_job_access_open_idx'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The plain foreign-key indexes go; the fields' constraints stay as they are (Django's AlterField
        # would drop and re-check each constraint, reading the whole table).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='syncjob',
                    name='assigned_to',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='syncjob',
                    name='customer',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='sync_jobs', to='customers.customer'),
                ),
                migrations.AlterField(
                    model_name='syncjob',
                    name='replay_of',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='replays', to='sync.syncjob'),
                ),
                migrations.AlterField(
                    model_name='syncjob',
                    name='set_aside_by',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[
                migrations.RunSQL(sql=[
                    'DROP INDEX IF EXISTS "sync_syncjob_assigned_to_id_24accdeb"',
                    'DROP INDEX IF EXISTS "sync_syncjob_customer_id_5f330b81"',
                    'DROP INDEX IF EXISTS "sync_syncjob_replay_of_id_c46cc508"',
                    'DROP INDEX IF EXISTS "sync_syncjob_set_aside_by_id_a8406358"',
                ], reverse_sql=[
                    'CREATE INDEX "sync_syncjob_assigned_to_id_24accdeb" ON "sync_syncjob" ("assigned_to_id")',
                    'CREATE INDEX "sync_syncjob_customer_id_5f330b81" ON "sync_syncjob" ("customer_id")',
                    'CREATE INDEX "sync_syncjob_replay_of_id_c46cc508" ON "sync_syncjob" ("replay_of_id")',
                    'CREATE INDEX "sync_syncjob_set_aside_by_id_a8406358" ON "sync_syncjob" ("set_aside_by_id")',
                ]),
            ],
        ),
        migrations.AddIndex(
            model_name='syncjob',
            index=models.Index(condition=models.Q(('assigned_to__isnull', False)), fields=['assigned_to'], name='job_assigned_to_idx'),
        ),
        migrations.AddIndex(
            model_name='syncjob',
            index=models.Index(condition=models.Q(('set_aside_by__isnull', False)), fields=['set_aside_by'], name='job_set_aside_by_idx'),
        ),
        migrations.AddIndex(
            model_name='syncjob',
            index=models.Index(condition=models.Q(('replay_of__isnull', False)), fields=['replay_of'], name='job_replay_of_idx'),
        ),
    ]
