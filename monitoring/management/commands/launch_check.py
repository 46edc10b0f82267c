from django.core.management.base import BaseCommand, CommandError
from core.text import count_of

from monitoring.checks import CRITICAL, ITEMS


class Command(BaseCommand):
    help = "Print what this install has and lacks for production; exit non-zero while anything critical is missing."

    def handle(self, *args, **options) -> None:
        critical = 0
        for item in ITEMS:
            problem = item.problem()
            if not problem:
                self.stdout.write(self.style.SUCCESS(f"  ok    {item.title}"))
                continue
            label = "MISSING" if item.level == CRITICAL else "advice "
            critical += item.level == CRITICAL
            write = self.style.ERROR if item.level == CRITICAL else self.style.WARNING
            self.stdout.write(write(f"  {label} {item.title}: {problem}"))
            self.stdout.write(f"          without it, {item.breaks}.")
        if critical:
            raise CommandError(f"{count_of(critical, 'critical item')} missing: not ready to launch.")
        self.stdout.write(self.style.SUCCESS("Ready to launch."))
