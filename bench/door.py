"""Part 1, the webhook door: wrk at fixed concurrency against gunicorn on PostgreSQL.

Baseline in the same run, on the same gunicorn settings: a bare Django view (CSRF-exempt, answers
200, touches nothing) behind the default middleware, sent the same signed POSTs. It is served from
the bench's own settings and URLconf (bench/door_settings.py, bench/door_urls.py), never by
Switchboard's.
"""

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.report import Section
from bench.stack import Stack
from demo import stripe_events as se

LUA = Path(__file__).with_name("door.lua")
THREADS = 2
DOOR_PATH = "/webhooks/stripe/"
BARE_PATH = "/bench/bare/"  # bench/door_urls.py


@dataclass
class Config:
    connections: int
    seconds: int
    paced_rate: int  # requests/s of the paced run (the p99 target is stated at 200/s)
    paced_connections: int
    paced_seconds: int


FULL = Config(connections=16, seconds=20, paced_rate=200, paced_connections=32, paced_seconds=20)
QUICK = Config(connections=4, seconds=1, paced_rate=50, paced_connections=4, paced_seconds=1)


def event_templates() -> list[str]:
    """Every event type Switchboard applies, in the shapes of every API version the factories know,
    each serialised once with a placeholder where the fresh id goes."""
    templates = []
    for n, version in enumerate(se.API_VERSIONS):
        for event in se.every_event(api_version=version, prefix=f"door{n}"):
            event["id"] = "__EVENT_ID__"
            templates.append(json.dumps(event, separators=(",", ":")))
    return templates


def write_requests(path: Path, templates: list[str], count: int, prefix: str, secret: str) -> None:
    """Signed now: Stripe's tolerance is 300 s, and each run uses its file within seconds."""
    with path.open("w") as out:
        for i in range(count):
            body = templates[i % len(templates)].replace("__EVENT_ID__", f"evt_{prefix}{i:09d}")
            out.write(f"{se.sign(body.encode(), secret)}\t{body}\n")


def wrk(url: str, *, connections: int, seconds: int, source: str = "-", rate: int = 0,
        path: str = DOOR_PATH) -> dict:
    argv = ["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA),
            url + path, "--", source, str(THREADS), str(rate), path]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH-RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = json.loads(line.removeprefix("BENCH-RESULT "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def stored_events() -> int:
    """Rows stored so far, once the requests wrk left in flight at its cut-off have finished."""
    from billing.models import StripeEvent

    time.sleep(1.0)
    return StripeEvent.objects.count()


def run(stack: Stack, cfg: Config, section: Section) -> None:
    base = _start_web(stack)
    templates = event_templates()
    requests_file = stack.tmp / "door-requests.tsv"
    # The baseline stores nothing, so a few thousand requests can repeat for the whole run.
    write_requests(requests_file, templates, cfg.connections * 200, "benchbare", stack.secret)
    baseline = wrk(base, connections=cfg.connections, seconds=cfg.seconds, source=str(requests_file), path=BARE_PATH)
    # Enough unique events for the door to run as fast as the bare view, with room to spare.
    count = int(baseline["rps"] * cfg.seconds * 1.3) + 500
    # The first webhook on each gunicorn thread opens its database connection: not measured.
    write_requests(requests_file, templates, cfg.connections * 20, "benchwarm", stack.secret)
    wrk(base, connections=cfg.connections, seconds=2, source=str(requests_file))
    write_requests(requests_file, templates, count, "benchdoor", stack.secret)
    before = stored_events()
    door = wrk(base, connections=cfg.connections, seconds=cfg.seconds, source=str(requests_file))
    stored = stored_events() - before

    paced_count = int(cfg.paced_rate * cfg.paced_seconds * 1.5) + 100
    write_requests(requests_file, templates, paced_count, "benchpaced", stack.secret)
    before = stored_events()
    paced = wrk(base, connections=cfg.paced_connections, seconds=cfg.paced_seconds,
                source=str(requests_file), rate=cfg.paced_rate)
    paced_stored = stored_events() - before
    requests_file.unlink()
    _report(section, cfg, baseline, door, stored, paced, paced_stored, len(templates))
    _forget_events(stack)
    # The next parts get a server with Switchboard's own settings.
    stack.web.stop()
    stack.web = None


def _start_web(stack: Stack) -> str:
    """gunicorn as Stack.start_web starts it (config/gunicorn.py), with the bench's URLconf."""
    if stack.web is not None:
        stack.web.stop()
        stack.web = None
    production = stack.env
    stack.env = {**production, "DJANGO_SETTINGS_MODULE": "bench.door_settings"}
    try:
        return stack.start_web()
    finally:
        stack.env = production


def _report(section: Section, cfg: Config, baseline: dict, door: dict, stored: int, paced: dict,
            paced_stored: int, shapes: int) -> None:
    ms = 1000.0
    section.note(f"wrk {THREADS} threads, {cfg.connections} connections, {cfg.seconds} s per run; "
                 f"{shapes} event shapes (every applied type in {len(se.API_VERSIONS)} API versions, built by "
                 f"demo/stripe_events.py) with fresh ids, each signed; gunicorn with config/gunicorn.py")
    section.row(f"baseline POST {BARE_PATH} (bare view)", "requests/s", baseline["rps"])
    section.row(f"baseline POST {BARE_PATH} (bare view)", "p50 / p95 / p99 ms",
                (baseline["p50_us"] / ms, baseline["p95_us"] / ms, baseline["p99_us"] / ms))
    section.row("door POST /webhooks/stripe/", "requests/s", door["rps"], baseline=baseline["rps"],
                target=">= 0.5 x baseline", met=door["rps"] >= 0.5 * baseline["rps"])
    section.row("door POST /webhooks/stripe/", "p50 / p95 / p99 ms",
                (door["p50_us"] / ms, door["p95_us"] / ms, door["p99_us"] / ms),
                baseline=(baseline["p50_us"] / ms, baseline["p95_us"] / ms, baseline["p99_us"] / ms))
    section.row("door", "non-2xx / socket errors", (door["non2xx"], door["socket_errors"]),
                target="0", met=door["non2xx"] == 0 and door["socket_errors"] == 0)
    _stored_row(section, "door", door, stored)
    section.row(f"door paced at {cfg.paced_rate}/s ({cfg.paced_connections} conn)", "achieved requests/s",
                paced["rps"])
    section.row(f"door paced at {cfg.paced_rate}/s", "p50 / p95 / p99 ms",
                (paced["p50_us"] / ms, paced["p95_us"] / ms, paced["p99_us"] / ms),
                target="p99 < 50 ms", met=paced["p99_us"] < 50_000)
    _stored_row(section, f"door paced at {cfg.paced_rate}/s", paced, paced_stored)
    for name, result in (("door", door), ("paced door", paced)):
        if result["exhausted"]:
            section.note(f"{name}: wrk ran out of pre-signed events before the time was up (it stopped instead "
                         "of repeating one); its requests/s is a lower bound")


def _stored_row(section: Section, subject: str, result: dict, stored: int) -> None:
    """Every 2xx must be a stored row, and nothing stored twice. wrk stops on a timer, so the
    requests still in flight at that moment were stored without their answer being counted."""
    unanswered = result["sent"] - result["ok"] - result["duplicate"] - result["failed"]
    section.row(subject, "stored / 2xx / in flight at cut-off / duplicates",
                (stored, result["ok"], unanswered, result["duplicate"]), target="stored = 2xx (+ in flight)",
                met=result["ok"] <= stored <= result["ok"] + unanswered and result["duplicate"] == 0
                and result["non2xx"] == 0)


def _forget_events(stack: Stack) -> None:
    """The door's events were stored, not processed: drop them and their wake-ups, so the
    pipeline's workers and sweepers start from a clean slate."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE billing_stripeevent CASCADE")
    stack.redis.flush()
