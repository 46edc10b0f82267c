"""A full drift pass over many customers against loopback fakes of HubSpot, Zendesk, Circle and Kit.

    DATABASE_URL=postgres://... .venv/bin/python bench/drift.py [--customers 10000] [--differences 25] [--paced 60]

The database must hold no customers: the script makes ``--customers`` of them (active, trialling,
past due and canceled), gives every fake exactly the records the mapping rules ask for, then
changes ``--differences`` records by hand in each tool (one kind of drift per tool). Measured:

1. each system's full pass (``reconcile_system``) with the tools' rate limits lifted, so the time is
   Switchboard's own (reads, comparison, bookkeeping): seconds, requests the fake received, and
   whether the pass found exactly the differences made, no more;
2. HubSpot read at its published limit (100 requests per 10 s) with the default read share (0.25)
   for ``--paced`` reads: the most requests the fake saw in any 10 s window, and the rate;
3. from the requests counted in 1, how long each full pass takes at each tool's published limit
   and the read share (the pace 2 shows the pass keeps).

Only talks to 127.0.0.1; deletes the customers it made at the end.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.sync import drift_fakes  # noqa: E402

SYSTEMS = ("crm", "support", "community", "email")
# status, plan, mrr: six in ten active, one trialling, one past due, two canceled
MIX = [("active", "Pro", 4900)] * 6 + [("trial", "Pro", 0), ("past_due", "Pro", 4900)] + [("canceled", "Pro", 0)] * 2
SHARE = 0.25  # the default DRIFT_READ_SHARE


class Kit(drift_fakes.Kit):
    """The test fake looks a subscriber's tags up by walking every tagging, fine for a test's dozen and
    the fake's own cost at 25,000: here the tags are indexed once the tools are filled (a pass writes
    nothing to the tool), so the time measured is Switchboard's."""

    by_subscriber: dict[int, list[dict]] | None = None

    def index(self) -> None:
        names = {v: k for k, v in self.tags.items()}
        self.by_subscriber = {}
        for tag_id, sub_id in sorted(self.tagged):
            self.by_subscriber.setdefault(sub_id, []).append({"id": tag_id, "name": names[tag_id]})

    def tags_list(self, request, sub_id):
        if self.by_subscriber is None:
            return super().tags_list(request, sub_id)
        return 200, {"tags": self.by_subscriber.get(int(sub_id), [])}


def environment(fakes: dict, data_dir: str) -> dict:
    hub, zd, circle, kit = (fakes[s] for s in SYSTEMS)
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_ENV": "development", "DEBUG": "false",
        "LOG_LEVEL": "WARNING", "SWITCHBOARD_DATA_DIR": data_dir,
        "HUBSPOT_ACCESS_TOKEN": "test-token", "HUBSPOT_BASE_URL": hub.url,
        "ZENDESK_EMAIL": "agent@example.com", "ZENDESK_API_TOKEN": "test-token", "ZENDESK_BASE_URL": zd.url,
        "CIRCLE_API_TOKEN": "test-token", "CIRCLE_BASE_URL": circle.url,
        "KIT_API_KEY": "test-token", "KIT_BASE_URL": kit.url,
    }


def customers_make(count: int) -> list:
    from customers.models import Customer

    made = [Customer(email=f"drift{n}@example.com", name=f"Drift {n}", status=MIX[n % len(MIX)][0],
                     plan=MIX[n % len(MIX)][1], mrr=MIX[n % len(MIX)][2], currency="usd") for n in range(count)]
    return Customer.objects.bulk_create(made, batch_size=1000)


def tools_fill(fakes: dict, customers: list) -> None:
    """Every tool holds exactly what the mapping rules say for every customer: a clean start."""
    from sync.drift import should_exist, state_of
    from sync.rules import email_tags
    from sync.services.rules import mapping_rules_current

    rules = {system: mapping_rules_current()[system].rules for system in SYSTEMS}
    hub, zd, circle, kit = (fakes[s] for s in SYSTEMS)
    for n, c in enumerate(customers, start=1):
        state = state_of(c)
        hub.contacts[c.public_id] = {"id": str(n), "properties": {
            "switchboard_id": c.public_id, "email": c.email, "switchboard_status": c.status,
            "switchboard_plan": c.plan, "lifecyclestage": rules["crm"]["lifecycle_stage"][c.status]}}
        zd.users[c.public_id] = {"id": n, "external_id": c.public_id, "email": c.email, "name": c.name,
                                 "role": "end-user", "tags": [c.status, c.plan]}
        if should_exist("community", rules["community"], state):
            circle.members[c.email] = {"id": n, "email": c.email, "name": c.name, "member_tags": []}
        tags = email_tags(rules["email"], state)
        if tags:
            kit.subscribers[c.email] = {"id": n, "email_address": c.email, "state": "active", "fields": {}}
            for tag in tags:
                kit.tagged.add((kit.tags.setdefault(tag, 100_000 + len(kit.tags)), n))


def tools_diverge(fakes: dict, customers: list, count: int) -> dict[str, set[str]]:
    """``count`` records changed by hand in each tool, spread over the customers; returns whose."""
    hub, zd, circle, kit = (fakes[s] for s in SYSTEMS)
    step = max(len(customers) // max(count, 1), 1)
    # one in ``step``, moved on by one each time so that every status gets its share
    picked = [customers[(n * step + n) % len(customers)] for n in range(min(count, len(customers)))]
    changed: dict[str, set[str]] = {s: set() for s in SYSTEMS}
    for c in picked:
        hub.contacts[c.public_id]["properties"]["lifecyclestage"] = "lead"  # wrong value
        del zd.users[c.public_id]  # missing in the desk
        if c.email in circle.members:
            del circle.members[c.email]  # access that should be there
        else:
            circle.members[c.email] = {"id": 900_000 + c.pk, "email": c.email, "name": c.name, "member_tags": []}
        sub_id = customers.index(c) + 1
        if c.email in kit.subscribers:  # an old Zap tags them "customer"
            kit.tagged.add((kit.tags.setdefault("customer", 199_999), sub_id))
        for system in SYSTEMS:
            changed[system].add(c.public_id)
    # Kit: a customer already tagged "customer" (active) gains nothing from the Zap; not drift.
    changed["email"] = {c.public_id for c in picked if c.status != "active" and c.email in kit.subscribers}
    return changed


def full_passes(fakes: dict, changed: dict[str, set[str]]) -> list[dict]:
    from django.conf import settings

    from sync.services.drift import reconcile_system

    settings.SYNC_RATE_LIMITS = {name: (10**9, 1) for name in settings.SYNC_RATE_LIMITS}
    settings.DRIFT_READ_SHARE = 1.0
    rows = []
    for system in SYSTEMS:
        fake = fakes[system]
        fake.times.clear()
        started = time.perf_counter()
        result = reconcile_system(system=system, fresh=True)
        seconds = time.perf_counter() - started
        found = {public_id for public_id, _ in result.found}
        rows.append({"system": system, "tool": result.tool, "checked": result.checked, "seconds": seconds,
                     "requests": len(fake.times), "reads": result.reads, "found": len(result.found),
                     "exact": found == changed[system] and len(result.found) == len(changed[system]),
                     "expected": len(changed[system])})
    return rows


def paced(fakes: dict, reads: int) -> dict:
    from django.conf import settings

    from sync.services.drift import reconcile_system

    settings.SYNC_RATE_LIMITS = {**settings.SYNC_RATE_LIMITS, "hubspot": (100, 10)}
    settings.DRIFT_READ_SHARE = SHARE
    hub = fakes["crm"]
    hub.times.clear()
    started = time.perf_counter()
    reconcile_system(system="crm", fresh=True, max_reads=reads)
    seconds = time.perf_counter() - started
    return {"reads": len(hub.times), "seconds": seconds, "most_in_10s": hub.most_in_any_window(10.0),
            "per_second": (len(hub.times) - 1) / (hub.times[-1][0] - hub.times[0][0])}


def published(rows: list[dict]) -> list[tuple[str, str, float]]:
    """Each full pass's duration at the tool's published limit and the read share: requests (tokens)
    over the share of the tool's rate."""
    from sync.providers import provider_for
    from sync.services.drift import READ

    limits = {"hubspot": (100, 10), "zendesk": (200, 60), "circle": (2000, 300), "kit": (120, 60)}
    out = []
    for row in rows:
        provider = provider_for(row["system"])
        capacity, per = limits[provider.NAME]
        tokens = row["reads"] * provider.cost(READ)
        out.append((row["system"], f"{capacity} per {per} s, read costs {provider.cost(READ)}",
                    tokens / (SHARE * capacity / per)))
    return out


def report(count: int, rows: list[dict], pace: dict, at_limits: list) -> str:
    lines = [f"customers: {count:,}; differences made by hand per tool: see 'expected'", "",
             "| system | tool | customers checked | seconds | customers/s | requests to the fake | "
             "differences found / made | exact |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        lines.append(f"| {r['system']} | {r['tool']} | {r['checked']:,} | {r['seconds']:.1f} | "
                     f"{r['checked'] / r['seconds']:.0f} | {r['requests']:,} | {r['found']} / {r['expected']} | "
                     f"{'yes' if r['exact'] else 'NO'} |")
    total_s, total_req = sum(r["seconds"] for r in rows), sum(r["requests"] for r in rows)
    lines += [f"| all four | | {sum(r['checked'] for r in rows):,} | {total_s:.1f} | | {total_req:,} | | |", "",
              f"HubSpot at its published limit (100 per 10 s), read share {SHARE}: {pace['reads']} requests in "
              f"{pace['seconds']:.1f} s, {pace['per_second']:.2f} per second, at most {pace['most_in_10s']} in "
              f"any 10 s window (the share allows 25).", "",
              "| system | published limit | full pass at the read share |", "| --- | --- | ---: |"]
    lines += [f"| {s} | {limit} | {secs:,.0f} s ({secs / 3600:.1f} h) |" for s, limit, secs in at_limits]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--differences", type=int, default=25, help="records changed by hand in each tool")
    parser.add_argument("--paced", type=int, default=60, help="HubSpot reads at the published limit")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database that holds no customers.")
    fakes = {"crm": drift_fakes.HubSpot(), "support": drift_fakes.Zendesk(), "community": drift_fakes.Circle(),
             "email": Kit()}
    for fake in fakes.values():
        fake.page_size = 100  # the tools' own page sizes, as Switchboard asks for them
        fake.start()
    data_dir = tempfile.mkdtemp(prefix="sb-bench-drift-")
    os.environ.update(environment(fakes, data_dir))
    import django

    django.setup()
    from django.core.management import call_command

    from customers.models import Customer
    from sync.models import DriftPass, ToolDrift

    call_command("migrate", verbosity=0)
    if Customer.objects.exists():
        sys.exit("The database already holds customers; give the benchmark an empty one.")
    try:
        customers = customers_make(args.customers)
        tools_fill(fakes, customers)
        changed = tools_diverge(fakes, customers, args.differences)
        fakes["email"].index()
        rows = full_passes(fakes, changed)
        pace = paced(fakes, args.paced)
        print(report(args.customers, rows, pace, published(rows)))
    finally:
        ToolDrift.objects.all().delete()
        DriftPass.objects.all().delete()
        Customer.objects.all().delete()
        for fake in fakes.values():
            fake.stop()


if __name__ == "__main__":
    main()
