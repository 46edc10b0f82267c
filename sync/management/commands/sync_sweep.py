from django.core.management.base import BaseCommand

from sync.services import jobs_sweep


class Command(BaseCommand):
    help = "Run the outbound-job sweeper once (beat runs it every SYNC_SWEEP_INTERVAL seconds)."

    def handle(self, *args, **options):
        result = jobs_sweep()
        self.stdout.write(f"reclaimed {result['reclaimed']} lease-expired jobs, woke {result['enqueued']} due jobs")
