from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from audit.models import Source
from billing.services.reconcile import stripe_reconcile
from billing.stripe_client import StripeCallError


class Command(BaseCommand):
    help = "Compare local mirrors with Stripe's API and report drift; --apply repairs from Stripe (also backfills a new install)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--apply", action="store_true", help="repair local state from Stripe (audited)")
        parser.add_argument("--days", type=int, default=30, help="how far back to compare charges and refunds")

    def handle(self, *args, apply: bool, days: int, **options) -> None:
        def progress(items):
            return tqdm(items, desc="Comparing with Stripe", unit="object", file=self.stderr)

        try:
            report = stripe_reconcile(apply=apply, days=days, source=Source.COMMAND, progress=progress)
        except StripeCallError as exc:
            raise CommandError(str(exc)) from exc
        for line in report.drift:
            self.stdout.write(f"  drift  {line}")
        verb = f", repaired {report.repaired}" if apply else " (run with --apply to repair)" if report.drift else ""
        self.stdout.write(self.style.SUCCESS(f"Checked {report.checked} objects: {len(report.drift)} differences{verb}."))
