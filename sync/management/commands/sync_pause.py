from django.core.management.base import BaseCommand, CommandError

from audit.models import Source
from sync.rules import SYNCED_SYSTEMS
from sync.services import SyncError, system_pause, system_resume


class Command(BaseCommand):
    help = "Pause (or with --resume, resume) outbound sync for one system or all."

    def add_arguments(self, parser):
        parser.add_argument("system", choices=[*SYNCED_SYSTEMS, "all"])
        parser.add_argument("--reason", default="")
        parser.add_argument("--resume", action="store_true")

    def handle(self, *args, system, reason, resume, **options):
        try:
            if resume:
                system_resume(system=system, actor=None, source=Source.COMMAND)
            else:
                system_pause(system=system, actor=None, reason=reason, source=Source.COMMAND)
        except SyncError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"{system} {'resumed' if resume else 'paused'}"))
