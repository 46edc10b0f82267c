from django.core.management.base import BaseCommand, CommandError

from customers.models import Customer
from sync.errors import SyncError
from sync.rules import SYNCED_SYSTEMS
from sync.services.drift import reconcile_tools

BAR = 30


class Command(BaseCommand):
    help = (
        "Read every connected tool back and record where it disagrees with billing truth and the mapping "
        "rules (each difference becomes a queue item). An interrupted pass resumes where it stopped. "
        "--apply also repairs each difference found; --dry-run only prints them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--system", choices=SYNCED_SYSTEMS, help="one system only (default: every one)")
        parser.add_argument("--customer", metavar="sw_...", help="one customer only, by public id")
        parser.add_argument("--apply", action="store_true", help="repair each difference found (outbox jobs)")
        parser.add_argument("--dry-run", action="store_true", help="print the differences; record nothing")
        parser.add_argument("--restart", action="store_true", help="start over instead of resuming an unfinished pass")

    def handle(self, *args, system=None, customer=None, apply=False, dry_run=False, restart=False, **options):
        if apply and dry_run:
            raise CommandError("--apply and --dry-run exclude each other.")
        scope = None
        if customer:
            scope = Customer.objects.live().filter(public_id=customer).first()
            if scope is None:
                raise CommandError(f"No customer {customer}.")
        try:
            results = reconcile_tools(systems=[system] if system else None, customer=scope, apply=apply,
                                      dry_run=dry_run, progress=self._bar, fresh=restart)
        except SyncError as exc:
            self.stdout.write("")
            raise CommandError(str(exc)) from exc
        for result in results:
            self._report(result, dry_run=dry_run, apply=apply)

    def _bar(self, system: str, done: int, total: int) -> None:
        filled = done * BAR // total if total else BAR
        self.stdout.write(f"\r{system:<9} [{'#' * filled}{'.' * (BAR - filled)}] {done}/{total}", ending="")
        if done == total:
            self.stdout.write("")
        self.stdout.flush()

    def _report(self, result, *, dry_run: bool, apply: bool) -> None:
        if result.skipped:
            self.stdout.write(f"{result.system}: skipped ({result.skipped})")
            return
        if dry_run:
            for public_id, diff in result.found:
                self.stdout.write(f"  {result.system} {public_id or '-'} {diff.kind} {diff.field} "
                                  f"expected={diff.expected!r} actual={diff.actual!r}")
        resumed = " (resumed)" if result.resumed else ""
        repaired = f", {result.repaired} repairs sent" if apply else ""
        if result.skipped_customers:
            repaired += f"; {result.skipped_customers} left for the next pass (jobs on their way, or no email)"
        self.stdout.write(self.style.SUCCESS(
            f"{result.system} ({result.tool}){resumed}: {result.checked} customers checked, {result.reads} reads, "
            f"{len(result.found)} differences{repaired}" + (" (dry run: nothing recorded)" if dry_run else "")))
