"""Apply stored Stripe events again, safely: replaying everything twice changes nothing."""

from datetime import datetime, time, timezone

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime
from tqdm import tqdm

from audit.models import Source
from billing.models import EventStatus, StripeEvent
from billing.errors import BillingError
from billing.services import event_replay


def _since(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--since takes a date or datetime such as 2026-01-31 (got {value!r}).")
        parsed = datetime.combine(day, time.min)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class Command(BaseCommand):
    help = "Re-process stored Stripe events (by id, by type, since a date, or the failed ones)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("ids", nargs="*", help="Stripe event ids (evt_...)")
        parser.add_argument("--type", dest="types", action="append", default=[], help="event type; repeatable")
        parser.add_argument("--since", help="only events Stripe created at or after this date/time (UTC)")
        parser.add_argument("--failed", action="store_true", help="only events whose processing failed")
        parser.add_argument("--all", action="store_true", help="every stored event (of this install's Stripe mode)")

    def handle(self, *args, ids, types, since, failed, all, **options) -> None:
        if not (ids or types or since or failed or all):
            raise CommandError("Say which events: ids, --type, --since, --failed or --all.")
        events = StripeEvent.objects.filter(mode_mismatch=False)
        if ids:
            events = events.filter(stripe_id__in=ids)
            missing = set(ids) - set(events.values_list("stripe_id", flat=True))
            if missing:
                raise CommandError(f"No stored event with id {', '.join(sorted(missing))}.")
        if types:
            events = events.filter(type__in=types)
        if since:
            events = events.filter(created__gte=_since(since))
        if failed:
            events = events.filter(status=EventStatus.FAILED)
        # Oldest first, as Stripe created them: the closest we can come to the order it meant.
        pks = list(events.order_by("created", "id").values_list("pk", flat=True))
        outcomes: dict[str, int] = {}
        for pk in tqdm(pks, desc="Replaying", unit="event", file=self.stderr, disable=not pks):
            event = StripeEvent.objects.get(pk=pk)
            try:
                status = event_replay(event=event, source=Source.COMMAND)
            except BillingError as exc:
                status = f"refused ({exc})"
            outcomes[status] = outcomes.get(status, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(outcomes.items())) or "nothing to replay"
        self.stdout.write(self.style.SUCCESS(f"Replayed {len(pks)} events: {summary}."))
