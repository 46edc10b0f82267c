"""Fill an empty install with believable demo data and one login per role. Safe to run again."""

import random
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from billing.models import Charge, EventStatus, Invoice, StripeEvent, Subscription
from customers.models import Customer, CustomerStatus, ExternalLink, System
from sync.models import JobStatus, ReasonCode, SyncJob

DEMO_PASSWORD = "switchboard-demo"
DEMO_DOMAIN = "demo.switchboard.test"
PLANS = [("Starter", 1900), ("Pro", 4900), ("Business", 14900)]
FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Linus", "Radia", "Donald"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton", "Torvalds", "Perlman", "Knuth"]
STATUS_COUNTS = {
    CustomerStatus.ACTIVE: 14,
    CustomerStatus.TRIAL: 8,
    CustomerStatus.PAST_DUE: 6,
    CustomerStatus.CANCELED: 6,
    CustomerStatus.NEEDS_REVIEW: 4,
}


def demo_logins() -> list[tuple[str, str]]:
    return [(f"{role}@{DEMO_DOMAIN}", role) for role in Role.values]


class Command(BaseCommand):
    help = "Create demo customers, billing mirrors, sync jobs and one login per role (idempotent)."

    def handle(self, *args, **options) -> None:
        if not settings.DEMO_LOGINS:
            raise CommandError("Demo data is disabled here (DEMO_LOGINS is off, as in production).")
        rng = random.Random(42)
        with transaction.atomic():
            self._logins()
            created = self._customers(rng)
            self._screen_examples()
        for email, role in demo_logins():
            self.stdout.write(f"  {role:<8} {email}  password: {DEMO_PASSWORD}")
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} new customers)."))

    def _logins(self) -> None:
        for email, role in demo_logins():
            user, created = User.objects.get_or_create(email=email, defaults={"name": f"Demo {role}"})
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            user.groups.set([Group.objects.get(name=role)])

    def _customers(self, rng: random.Random) -> int:
        now = timezone.now()
        created_count = 0
        n = 0
        for status, count in STATUS_COUNTS.items():
            for _ in range(count):
                n += 1
                stripe_id = f"cus_demo{n:04d}"
                if ExternalLink.objects.filter(system=System.STRIPE, external_id=stripe_id).exists():
                    continue
                created_count += 1
                first, last = FIRST[n % len(FIRST)], LAST[(n * 3) % len(LAST)]
                plan, price = PLANS[n % len(PLANS)]
                customer = Customer.objects.create(
                    email=f"{first}.{last}{n}@example.com".lower(),
                    name=f"{first} {last}",
                    status=status,
                    status_reason=_reason(status),
                    plan=plan if status != CustomerStatus.CANCELED else "",
                    mrr=price if status in (CustomerStatus.ACTIVE, CustomerStatus.PAST_DUE) else 0,
                    currency="usd",
                    review_reason=(
                        "Same email as another Stripe customer" if status == CustomerStatus.NEEDS_REVIEW else ""
                    ),
                    last_event_at=now - timedelta(minutes=rng.randint(1, 60 * 24 * 20)),
                )
                ExternalLink.objects.create(customer=customer, system=System.STRIPE, external_id=stripe_id)
                self._billing(customer, stripe_id, status, plan, price, n, now)
                self._jobs(customer, n, now)
        return created_count

    def _billing(self, customer, stripe_id, status, plan, price, n, now) -> None:
        sub_status = {
            CustomerStatus.ACTIVE: "active",
            CustomerStatus.TRIAL: "trialing",
            CustomerStatus.PAST_DUE: "past_due",
            CustomerStatus.CANCELED: "canceled",
            CustomerStatus.NEEDS_REVIEW: "active",
        }[status]
        Subscription.objects.create(
            stripe_id=f"sub_demo{n:04d}",
            customer=customer,
            stripe_customer_id=stripe_id,
            status=sub_status,
            plan_name=plan,
            price_id=f"price_demo_{plan.lower()}",
            amount=price,
            currency="usd",
            interval="month",
            stripe_created=now - timedelta(days=40 + n),
            current_period_start=now - timedelta(days=10),
            current_period_end=now + timedelta(days=20),
            trial_end=now + timedelta(days=5) if status == CustomerStatus.TRIAL else None,
            deleted=status == CustomerStatus.CANCELED,
        )
        if status == CustomerStatus.TRIAL:
            return
        failed = status == CustomerStatus.PAST_DUE
        Invoice.objects.create(
            stripe_id=f"in_demo{n:04d}",
            customer=customer,
            stripe_customer_id=stripe_id,
            subscription_stripe_id=f"sub_demo{n:04d}",
            status="open" if failed else "paid",
            amount_due=price,
            amount_paid=0 if failed else price,
            amount_remaining=price if failed else 0,
            currency="usd",
            attempt_count=2 if failed else 1,
            payment_failed=failed,
            stripe_created=now - timedelta(days=10),
        )
        Charge.objects.create(
            stripe_id=f"ch_demo{n:04d}",
            customer=customer,
            stripe_customer_id=stripe_id,
            invoice_stripe_id=f"in_demo{n:04d}",
            amount=price,
            currency="usd",
            status="failed" if failed else "succeeded",
            paid=not failed,
            failure_code="card_declined" if failed else "",
            stripe_created=now - timedelta(days=10),
        )
        event_id = f"evt_demo{n:04d}"
        StripeEvent.objects.get_or_create(
            stripe_id=event_id,
            defaults=dict(
                type="invoice.payment_failed" if failed else "invoice.paid",
                api_version="2020-08-27",
                created=now - timedelta(days=10),
                payload={"id": event_id, "object": "event", "data": {"object": {"id": f"in_demo{n:04d}"}}},
                status=EventStatus.FAILED if n % 13 == 0 else EventStatus.PROCESSED,
                last_error="OperationalError: database is locked" if n % 13 == 0 else "",
                error_class="OperationalError" if n % 13 == 0 else "",
                attempts=1,
                customer=customer,
            ),
        )

    def _jobs(self, customer, n, now) -> None:
        for system, action in [(System.CRM, "upsert_contact"), (System.EMAIL, "add_tag")]:
            if n % 9 == 0:
                status, reason, error = JobStatus.DEAD, ReasonCode.AUTH_FAILED, "401 Unauthorized: token rejected"
            elif n % 7 == 0:
                status, reason, error = JobStatus.RETRYING, "", "503 Service Unavailable"
            elif n % 5 == 0:
                status, reason, error = JobStatus.PENDING, "", ""
            else:
                status, reason, error = JobStatus.SUCCEEDED, "", ""
            SyncJob.objects.create(
                customer=customer,
                system=system,
                action=action,
                payload={"demo": True},
                idempotency_key=f"demo:{customer.public_id}:{system}:{action}",
                status=status,
                attempts=0 if status == JobStatus.PENDING else (5 if status == JobStatus.DEAD else 1),
                next_attempt_at=now + timedelta(minutes=5),
                reason_code=reason,
                last_error=error,
                finished_at=now if status in (JobStatus.SUCCEEDED, JobStatus.DEAD) else None,
            )

    def _screen_examples(self) -> None:
        """One of each thing the screens show that the loop above does not make: attempts of failed jobs,
        an open dispute, an override that contradicts billing, a ticket."""
        from billing.models import Dispute
        from support.models import Ticket
        from sync.models import SyncAttempt

        now = timezone.now()
        failing = SyncJob.objects.filter(idempotency_key__startswith="demo:", status__in=[JobStatus.DEAD, JobStatus.RETRYING])
        for job in failing.exclude(attempt_log__isnull=False).select_related("customer"):
            for number in range(1, min(job.attempts, 3) + 1):
                SyncAttempt.objects.create(
                    job=job, number=number, started_at=now - timedelta(minutes=30 * (4 - number)),
                    duration_ms=180 + 40 * number, outcome="permanent" if job.status == JobStatus.DEAD else "transient",
                    status_code=401 if job.status == JobStatus.DEAD else 503,
                    error_class="AuthFailed" if job.status == JobStatus.DEAD else "Unavailable", message=job.last_error,
                    request_summary={"method": "POST", "path": f"/{job.system}/{job.action}",
                                     "headers": {"Authorization": "Bearer demo-token"},
                                     "body": {"email": job.customer.email, "status": job.customer.status}},
                    response_summary={"status": 401 if job.status == JobStatus.DEAD else 503,
                                      "body": {"message": job.last_error}},
                )
        by_stripe = {link.external_id: link.customer for link in ExternalLink.objects.filter(
            system=System.STRIPE, external_id__in=["cus_demo0023", "cus_demo0024", "cus_demo0030"]
        ).select_related("customer")}
        disputed = by_stripe.get("cus_demo0024")
        if disputed and not Dispute.objects.filter(stripe_id="dp_demo0001").exists():
            Dispute.objects.create(
                stripe_id="dp_demo0001", customer=disputed, stripe_customer_id="cus_demo0024",
                charge_stripe_id="ch_demo0024", amount=disputed.mrr or 4900, currency="usd",
                status="needs_response", reason="fraudulent", evidence_due_by=now + timedelta(days=5),
                stripe_created=now - timedelta(hours=3),
            )
            Charge.objects.filter(stripe_id="ch_demo0024").update(disputed=True)
        granted = by_stripe.get("cus_demo0030")
        if granted and not granted.override_status:
            granted.override_status = CustomerStatus.ACTIVE
            granted.override_reason = "Annual contract signed by email; Stripe set-up pending"
            granted.override_expires_at = now + timedelta(days=14)
            granted.save(update_fields=["override_status", "override_reason", "override_expires_at", "updated_at"])
        self._identity_twin()
        asking = by_stripe.get("cus_demo0023")
        if asking:
            Ticket.objects.get_or_create(
                idempotency_key="demo:ticket:card-declined",
                defaults=dict(customer=asking, subject="Card declined twice, customer asks for an invoice",
                              category="billing", priority="high", source="billing", status="open",
                              tags=["payment_failed"]),
            )

    def _identity_twin(self) -> None:
        """A second Stripe customer with the same email as a customer under review: a real pair to resolve."""
        link = ExternalLink.objects.filter(system=System.STRIPE, external_id="cus_demo0035").select_related("customer").first()
        if link is None or ExternalLink.objects.filter(system=System.STRIPE, external_id="cus_demotwin0035").exists():
            return
        first = link.customer
        twin = Customer.objects.create(
            email=first.email, name=first.name, status=CustomerStatus.NEEDS_REVIEW, status_reason="Identity conflict",
            plan="Starter", currency="usd", review_reason=f"Same email as {first.public_id}, a different Stripe customer",
            last_event_at=timezone.now() - timedelta(hours=2),
        )
        ExternalLink.objects.create(customer=twin, system=System.STRIPE, external_id="cus_demotwin0035")
        first.review_reason = f"Same email as {twin.public_id}, a different Stripe customer"
        first.save(update_fields=["review_reason", "updated_at"])


def _reason(status: str) -> str:
    return {
        CustomerStatus.ACTIVE: "Subscription active",
        CustomerStatus.TRIAL: "Subscription trialing",
        CustomerStatus.PAST_DUE: "Latest invoice payment failed",
        CustomerStatus.CANCELED: "Subscription canceled",
        CustomerStatus.NEEDS_REVIEW: "Identity conflict",
    }[status]
