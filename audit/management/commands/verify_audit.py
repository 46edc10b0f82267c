"""Walk the audit chain and say whether any entry was changed, removed or inserted behind the app's back."""

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from audit.services import audit_verify


class Command(BaseCommand):
    help = "Check the hash chain of the audit trail; exits non-zero naming the first broken entry."

    def handle(self, *args, **options) -> None:
        checked, broken = audit_verify()
        if broken:
            first = AuditEvent.objects.filter(pk=broken[0]).first()
            where = f" ({first.created_at:%Y-%m-%d %H:%M:%S} UTC, {first.action})" if first else ""
            raise CommandError(
                f"Audit chain broken at entry #{broken[0]}{where}: it was changed, or an entry before it was "
                f"removed or inserted. {len(broken)} of {checked} entries do not fit the chain."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {checked} entries checked."))
