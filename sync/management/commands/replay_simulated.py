from django.core.management.base import BaseCommand, CommandError

from audit.models import Source
from sync.errors import SyncError
from sync.rules import SYNCED_SYSTEMS
from sync.services import jobs_replay_simulated
from sync.services.retry import WILL_DO, WOULD_CHANGE


class Command(BaseCommand):
    help = (
        "Send the jobs a system ran in sandbox (simulated) to its real tool, now that it has credentials. "
        "Prints the plan; nothing is sent without --apply."
    )

    def add_arguments(self, parser):
        parser.add_argument("--system", choices=SYNCED_SYSTEMS, required=True)
        parser.add_argument("--apply", action="store_true", help="send them (new jobs, paced at the tool's rate)")

    def handle(self, *args, system: str, apply: bool = False, **options):
        try:
            replay = jobs_replay_simulated(system=system, actor=None, source=Source.COMMAND, dry_run=not apply)
        except SyncError as exc:
            raise CommandError(str(exc)) from exc
        for line in replay.lines:
            self.stdout.write(str(line))
        todo = sum(line.verdict in (WILL_DO, WOULD_CHANGE) for line in replay.lines)
        if apply:
            self.stdout.write(self.style.SUCCESS(
                f"sent {len(replay.sent)} of {replay.total} simulated {system} jobs to {replay.tool}"))
        else:
            self.stdout.write(self.style.SUCCESS(
                f"would send {todo} of {replay.total} simulated {system} jobs to {replay.tool} (dry run: --apply sends them)"))
