"""The demo's billing history: the Stripe events a small SaaS receives over six weeks.

Each ``Person`` is one Stripe customer; its methods add the events Stripe sends for one step of
its life (sign-up, trial, payment, failed renewal, cancellation, ...), at believable times before
``now``. Nothing here touches the database: ``demo.services`` sends the events through the
webhook door and the worker's code, and the product derives everything the screens show.

Ids are fixed (``cus_demo0007``, ``evt_demo000703``), so seeding again delivers the same events
and the door answers each as a duplicate.
"""

from dataclasses import dataclass, field

from demo import stripe_events as se

API_VERSION = "2025-03-31.basil"  # the version a Stripe account created today is pinned to
DAY, HOUR, MINUTE = 86400, 3600, 60
TRIAL_DAYS = 14
PLANS = {"Starter": 1900, "Pro": 4900, "Business": 14900}
ANNUAL_BUSINESS = 149000
# The space Business members should join. The owner types it into the community rules (see
# services.py); Circle has no space with this id, so it refuses every invitation that asks for it.
BUSINESS_SPACE = 90210
# Where the history is split for the owner's actions in between (seconds before now).
RECENT = 2 * DAY  # the community rules change here; HubSpot's token was revoked in this stretch
LATEST = 10 * HOUR  # community automation is paused here: later invitations wait


@dataclass(frozen=True)
class Cast:
    """The customers (by number) the staff's actions are about."""

    override: int = 22  # past due; the owner keeps their access by hand
    survivor: int = 36  # the same person as `merged`, who abandoned a second checkout
    merged: int = 37
    annual: int = 17  # paid a year up front; finance asks to refund half of it
    paid_no_access: int = 38  # paid after community automation was paused: no invitation yet


CAST = Cast()


@dataclass(frozen=True)
class Delivery:
    at: int
    order: tuple[int, int]  # (customer number, event number): a stable order within one second
    event: dict
    failing: tuple[str, ...] = ()  # tools that answer this event's jobs with an error (demo.loopback)


@dataclass
class Story:
    now: int
    livemode: bool = False
    deliveries: list[Delivery] = field(default_factory=list)
    people: dict[int, "Person"] = field(default_factory=dict)

    def ago(self, days: float = 0, hours: float = 0) -> int:
        return self.now - int(days * DAY + hours * HOUR)

    def person(self, n: int, name: str, *, plan: str = "Pro", email: str = "", interval: str = "month") -> "Person":
        person = Person(self, n, name, email or _email(name), plan, interval)
        self.people[n] = person
        return person

    def in_order(self) -> list[Delivery]:
        return sorted(self.deliveries, key=lambda d: (d.at, d.order))


def _email(name: str) -> str:
    return ".".join(name.lower().split()) + "@example.com"


class Person:
    """One Stripe customer and its subscription; each method adds the events of one step."""

    def __init__(self, story: Story, n: int, name: str, email: str, plan: str, interval: str) -> None:
        self.story, self.n, self.name, self.email, self.plan, self.interval = story, n, name, email, plan, interval
        self.cid, self.sid = f"cus_demo{n:04d}", f"sub_demo{n:04d}"
        self.amount = ANNUAL_BUSINESS if interval == "year" else PLANS[plan]
        self.events = self.invoices = self.charges = 0
        self.status, self.created = "", 0
        self.period_start = self.period_end = self.trial_end = 0
        self.open_invoice, self.open_invoice_at = "", 0
        self.last_charge, self.last_charge_at = "", 0
        self.cancel_scheduled = False

    # --- what Stripe sends ---------------------------------------------------------------
    def _send(self, at: int, event_type: str, obj: dict, previous: dict | None = None,
              failing: tuple[str, ...] = ()) -> None:
        self.events += 1
        evt = se.event(event_type, obj, created=at, event_id=f"evt_demo{self.n:04d}{self.events:02d}",
                       livemode=self.story.livemode, api_version=API_VERSION, previous=previous)
        self.story.deliveries.append(Delivery(at, (self.n, self.events), evt, failing))

    def _subscription(self, **changes) -> dict:
        fields = dict(status=self.status, amount=self.amount, nickname=self.plan, interval=self.interval,
                      created=self.created, current_period_start=self.period_start,
                      current_period_end=self.period_end, trial_start=self.created if self.trial_end else None,
                      trial_end=self.trial_end or None)
        return se.subscription(self.sid, self.cid, **{**fields, **changes}, api_version=API_VERSION)

    def _period(self, start: int) -> None:
        length = (365 if self.interval == "year" else 30) * DAY
        self.period_start, self.period_end = start, start + length

    # --- steps of a customer's life ----------------------------------------------------------
    def signup(self, at: int, *, trial: bool = True, failing: tuple[str, ...] = ()) -> "Person":
        """Checkout: the customer, then its subscription (trialing, or active and paid at once)."""
        self.only_customer(at)
        self.created = at + 40
        self.status = "trialing" if trial else "active"
        self.trial_end = at + TRIAL_DAYS * DAY if trial else 0
        self._period(self.created)
        if trial:
            self.period_end = self.trial_end
        self._send(self.created, "customer.subscription.created", self._subscription(), failing=failing)
        if not trial:
            self.pay(self.created + 5, reason="subscription_create")
        return self

    def only_customer(self, at: int) -> "Person":
        """A checkout abandoned after Stripe created the customer: no subscription."""
        self._send(at, "customer.created", se.customer(self.cid, email=self.email, name=self.name, created=at,
                                                       api_version=API_VERSION))
        return self

    def _invoice(self, *, status: str, attempt: int, reason: str, next_attempt: int | None = None) -> dict:
        return se.invoice(self.open_invoice, self.cid, self.sid, status=status, amount=self.amount, email=self.email,
                          created=self.open_invoice_at, attempt_count=attempt, number=f"{self.cid[-8:].upper()}-{self.invoices:04d}",
                          billing_reason=reason, next_payment_attempt=next_attempt, api_version=API_VERSION)

    def _charge(self, at: int, *, paid: bool) -> dict:
        self.charges += 1
        chid = f"ch_demo{self.n:04d}{self.charges:02d}"
        if paid:
            self.last_charge, self.last_charge_at = chid, at
        return se.charge(chid, self.cid, amount=self.amount, paid=paid, created=at, receipt_email=self.email,
                         failure_code=None if paid else "card_declined",
                         failure_message=None if paid else "Your card was declined.", api_version=API_VERSION)

    def _new_invoice(self, at: int) -> None:
        """The invoice of this billing period; a retry pays (or fails) the same one."""
        if not self.open_invoice:
            self.invoices += 1
            self.open_invoice, self.open_invoice_at = f"in_demo{self.n:04d}{self.invoices:02d}", at

    def pay(self, at: int, *, reason: str = "subscription_cycle", attempt: int = 1) -> None:
        self._new_invoice(at)
        self._send(at, "charge.succeeded", self._charge(at, paid=True))
        self._send(at + 1, "invoice.paid", self._invoice(status="paid", attempt=attempt, reason=reason))
        self.open_invoice = ""

    def convert(self, at: int) -> "Person":
        """The trial ends and the card on file pays the first month."""
        self.status = "active"
        self._period(at)
        self._send(at, "customer.subscription.updated", self._subscription(), previous={"status": "trialing"})
        self.pay(at + 3, reason="subscription_cycle")
        return self

    def renew(self, at: int) -> "Person":
        previous_start = self.period_start
        self._period(at)
        self.pay(at, reason="subscription_cycle")
        self._send(at + 4, "customer.subscription.updated", self._subscription(),
                   previous={"items": {"current_period_start": previous_start}})
        return self

    def fail(self, at: int, *, attempt: int = 1, retry_in_days: float | None = 3,
             failing: tuple[str, ...] = ()) -> "Person":
        """A renewal (or its retry) declined; the first one turns the subscription past due."""
        if attempt == 1:
            self._period(at)
        self._new_invoice(at)
        self._send(at, "charge.failed", self._charge(at, paid=False))
        next_attempt = at + int(retry_in_days * DAY) if retry_in_days else None
        self._send(at + 1, "invoice.payment_failed",
                   self._invoice(status="open", attempt=attempt, reason="subscription_cycle", next_attempt=next_attempt),
                   failing=failing)
        if self.status != "past_due":
            self.status = "past_due"
            self._send(at + 3, "customer.subscription.updated", self._subscription(), previous={"status": "active"})
        return self

    def recover(self, at: int, *, attempt: int = 2) -> "Person":
        """The retry of a declined renewal goes through."""
        self.pay(at, attempt=attempt)
        self.status = "active"
        self._send(at + 4, "customer.subscription.updated", self._subscription(), previous={"status": "past_due"})
        return self

    def trial_will_end(self) -> "Person":
        self._send(self.trial_end - 3 * DAY, "customer.subscription.trial_will_end", self._subscription())
        return self

    def cancel_at_period_end(self, at: int) -> "Person":
        self.cancel_scheduled = True
        self._send(at, "customer.subscription.updated", self._subscription(cancel_at_period_end=True),
                   previous={"cancel_at_period_end": False})
        return self

    def cancel(self, at: int) -> "Person":
        before = self.status
        self.status = "canceled"
        self._send(at, "customer.subscription.deleted",
                   self._subscription(canceled_at=at, ended_at=at, cancel_at_period_end=self.cancel_scheduled),
                   previous={"status": before})
        return self

    def dispute(self, at: int) -> "Person":
        """The cardholder disputes the last successful payment."""
        self._send(at, "charge.dispute.created",
                   se.dispute(f"dp_demo{self.n:04d}", self.last_charge, amount=self.amount, created=at,
                              reason="product_not_received", api_version=API_VERSION))
        return self

    def refund(self, at: int, amount: int) -> "Person":
        """Part of the last payment refunded from Stripe's dashboard."""
        chid = self.last_charge
        charge = se.charge(chid, self.cid, amount=self.amount, amount_refunded=amount, created=self.last_charge_at,
                           receipt_email=self.email, api_version=API_VERSION)
        self._send(at, "charge.refunded", charge, previous={"amount_refunded": 0, "refunded": False})
        self._send(at + 2, "refund.created", se.refund(f"re_demo{self.n:04d}", chid, amount=amount, created=at,
                                                      api_version=API_VERSION))
        return self


# --- the cast ---------------------------------------------------------------------------------
HUBSPOT, CIRCLE, KIT = ("hubspot",), ("circle",), ("kit",)


def story_build(*, now: int, livemode: bool = False) -> Story:
    """Everything Stripe sent, for about forty customers over the last six weeks."""
    s = Story(now=now, livemode=livemode)
    ago = s.ago

    # Trials, started over the last two weeks (one in each stretch of the history).
    s.person(1, "Amara Okafor", plan="Starter").signup(ago(1.6), failing=HUBSPOT)
    s.person(2, "Bruno Salgado", plan="Starter").signup(ago(hours=5))
    s.person(3, "Chen Wei", plan="Business").signup(ago(1.2), failing=HUBSPOT + CIRCLE)
    s.person(4, "Dalia Haddad", plan="Pro").signup(ago(5))
    s.person(5, "Emil Lindqvist", plan="Pro").signup(ago(8))
    s.person(6, "Fatima Zahra", plan="Business").signup(ago(12.5)).trial_will_end()

    # Trials that became paying customers.
    for n, name, plan, started in [(7, "Gustavo Rocha", "Pro", 16), (8, "Hana Kobayashi", "Starter", 19),
                                   (9, "Ivan Petrov", "Business", 24), (10, "Jonas Weber", "Pro", 29),
                                   (11, "Keira Walsh", "Starter", 38)]:
        person = s.person(n, name, plan=plan).signup(ago(started))
        person.trial_will_end().convert(person.trial_end)

    # Paying from the first day, some renewed since.
    for n, name, plan, started in [(13, "Maya Patel", "Pro", 36.25), (14, "Nikolai Sorensen", "Starter", 41),
                                   (15, "Olivia Brooks", "Pro", 33)]:
        person = s.person(n, name, plan=plan).signup(ago(started), trial=False)
        if person.period_end < now:
            person.renew(person.period_end)
    s.person(16, "Priya Raman", plan="Business").signup(ago(0.9), trial=False, failing=CIRCLE)
    s.person(CAST.annual, "Quentin Marchand", plan="Business", interval="year").signup(ago(44), trial=False)

    # Renewals declined once, paid on the retry three days later.
    s.person(18, "Rosa Delgado", plan="Pro").signup(ago(40), trial=False).fail(ago(10)).recover(ago(7))
    s.person(19, "Tomasz Nowak", plan="Starter").signup(ago(35), trial=False).fail(ago(5)).recover(ago(2.1))

    # A dispute on a renewal that went through, and a partial refund.
    s.person(20, "Uma Iyer", plan="Pro").signup(ago(39), trial=False).renew(ago(9)).dispute(ago(2.5))
    s.person(21, "Victor Lemaire", plan="Business").signup(ago(34), trial=False).renew(ago(4)).refund(ago(3), 2500)

    # Past due: renewals declined, the next retry still ahead.
    s.person(CAST.override, "Wen Zhao", plan="Business").signup(ago(37), trial=False).fail(ago(7)) \
        .fail(ago(4), attempt=2, retry_in_days=5)
    s.person(23, "Ximena Torres", plan="Pro").signup(ago(38), trial=False).fail(ago(8)).fail(ago(5), attempt=2) \
        .fail(ago(2.2), attempt=3)
    s.person(24, "Yusuf Demir", plan="Pro").signup(ago(31), trial=False).fail(ago(1.4), failing=HUBSPOT + KIT)
    s.person(25, "Zoe Clarke", plan="Starter").signup(ago(34), trial=False).fail(ago(4)).fail(ago(2.5), attempt=2)
    aiko = s.person(26, "Aiko Tanaka", plan="Pro").signup(ago(44.3))
    aiko.convert(aiko.trial_end).fail(aiko.period_end)

    # Canceled: a trial that never paid, a scheduled cancellation, dunning that ran out, two quick exits.
    s.person(27, "Ben Carter", plan="Pro").signup(ago(20)).cancel(ago(6))
    s.person(28, "Clara Jensen", plan="Starter").signup(ago(41), trial=False).cancel_at_period_end(ago(18)) \
        .cancel(ago(11))
    s.person(29, "Diego Alvarez", plan="Pro").signup(ago(42), trial=False).fail(ago(12)).fail(ago(9), attempt=2) \
        .fail(ago(6), attempt=3, retry_in_days=None).cancel(ago(5.9))
    s.person(30, "Elif Kaya", plan="Business").signup(ago(23), trial=False).cancel(ago(2.2))
    s.person(31, "Farid Nasser", plan="Starter").signup(ago(9)).cancel(ago(8))

    # Identity twins: the same email on a second Stripe customer. Two pairs wait for a person;
    # the third (a checkout abandoned after Stripe made the customer) the owner merges.
    s.person(32, "Greta Muller", plan="Pro").signup(ago(30), trial=False)
    s.person(33, "Greta Muller", plan="Starter", email=s.people[32].email).signup(ago(3))
    s.person(34, "Hugo Martin", plan="Pro").signup(ago(40), trial=False).cancel(ago(25))
    s.person(35, "Hugo Martin", plan="Pro", email=s.people[34].email).signup(ago(4))
    s.person(CAST.survivor, "Ines Costa", plan="Starter").signup(ago(27), trial=False)
    s.person(CAST.merged, "Ines Costa", plan="Starter", email=s.people[CAST.survivor].email).only_customer(ago(6))

    # Paid an hour ago, after community automation was paused: the invitation waits.
    s.person(CAST.paid_no_access, "Jamal Greene", plan="Pro").signup(ago(hours=3), trial=False)
    return s
