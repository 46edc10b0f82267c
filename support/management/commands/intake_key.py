"""Make, list and revoke the API keys the product's own apps open tickets with."""

from django.core.management.base import BaseCommand, CommandError

from audit.models import Source
from support.errors import SupportError
from support.intake_keys import api_key_create, api_key_revoke
from support.models import ApiKey


class Command(BaseCommand):
    help = "Make (shown once), list or revoke the intake API keys of the product's own apps."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        sub.add_parser("create", help="make a key for an app").add_argument("name")
        sub.add_parser("list", help="every key, without its secret")
        sub.add_parser("revoke", help="refuse a key from now on").add_argument("prefix", help="e.g. sbk_1a2b3c4d")

    def handle(self, *args, what: str, **options):
        if what == "create":
            try:
                key, raw = api_key_create(name=options["name"], source=Source.COMMAND)
            except SupportError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"Key for {key.name} (shown once; Switchboard keeps only a hash):\n{raw}")
        elif what == "list":
            for key in ApiKey.objects.all():
                state = "active" if key.active else f"revoked {key.revoked_at:%Y-%m-%d %H:%M}"
                used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
                self.stdout.write(f"{key.prefix}  {key.name}  {state}  last used {used}")
        else:
            key = ApiKey.objects.filter(prefix=options["prefix"].strip().rstrip("…")).first()
            if key is None:
                raise CommandError(f"No key starts with {options['prefix']!r}; see `manage.py intake_key list`.")
            if api_key_revoke(key=key, source=Source.COMMAND):
                self.stdout.write(f"Revoked {key.prefix} ({key.name}).")
            else:
                self.stdout.write(f"{key.prefix} ({key.name}) was already revoked.")
