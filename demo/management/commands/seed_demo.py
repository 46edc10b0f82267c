"""``manage.py seed_demo``: the demo, made by running the product (see demo/services.py). Safe to run again."""

import logging

from django.core.management.base import BaseCommand, CommandError

from demo.logins import DEMO_PASSWORD, demo_logins
from demo.services import DemoError, demo_seed


class Command(BaseCommand):
    help = "Seed six weeks of demo billing history through the webhook door and the worker, and one login per role."

    def handle(self, *args, **options) -> None:
        # Each applied event and job logs a line at INFO; the seeding prints its own summary instead.
        logging.disable(logging.INFO)
        try:
            report = demo_seed()
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            logging.disable(logging.NOTSET)
        for email, role in demo_logins():
            self.stdout.write(f"  {role:<8} {email}  password: {DEMO_PASSWORD}")
        for action in report.actions:
            self.stdout.write(f"  {action}")
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready: {report.stored} Stripe events applied ({report.duplicates} already here), "
            f"{report.jobs} outbound jobs, in {report.seconds:.1f} s."))
