from django.core.management.base import BaseCommand, CommandError

from audit.models import Source
from sync.models import SyncJob
from sync.rules import SYNCED_SYSTEMS
from sync.services import jobs_retry_bulk


class Command(BaseCommand):
    help = "Retry dead outbound jobs (same idempotency keys), paced at each provider's rate. Try --dry-run first."

    def add_arguments(self, parser):
        parser.add_argument("--system", choices=SYNCED_SYSTEMS)
        parser.add_argument("--reason", help="only jobs dead with this reason code, e.g. auth_failed")
        parser.add_argument("--limit", type=int, default=10_000)
        parser.add_argument("--dry-run", action="store_true", help="say what would happen, change nothing")

    def handle(self, *args, system=None, reason=None, limit=10_000, dry_run=False, **options):
        jobs = SyncJob.objects.dead().select_related("customer").order_by("created_at", "id")
        if system:
            jobs = jobs.filter(system=system)
        if reason:
            jobs = jobs.filter(reason_code=reason)
        jobs = list(jobs[:limit])
        if not jobs:
            raise CommandError("No dead jobs match.")
        lines = jobs_retry_bulk(jobs=jobs, actor=None, source=Source.COMMAND, dry_run=dry_run)
        for line in lines:
            self.stdout.write(str(line))
        todo = sum(line.verdict in ("will do", "would change") for line in lines)
        verb = "would retry" if dry_run else "retried"
        self.stdout.write(self.style.SUCCESS(f"{verb} {todo} of {len(lines)} dead jobs"))
