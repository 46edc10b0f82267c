"""``python -m bench [--quick] [--parts door,pipeline,screens,recovery]``: Switchboard's benchmarks.

Starts everything it measures (its own PostgreSQL database, gunicorn, celery worker and beat,
loopback provider fakes), sends traffic only to 127.0.0.1, bounds every loop in count and time,
and stops and drops all of it at the end, also on Ctrl-C or a failure.

``--parts throttled`` holds Kit to its published limit with a few hundred jobs waiting while
events keep arriving: event latency, wake-ups per call to the tool, Redis over time.

``--parts soak [--soak-minutes 60]`` runs the embedded stack (SQLite, no Redis) under faults for
an hour; it is not part of the default run. Nor is ``--parts lighthouse``: npm's Lighthouse scores
three screens, desktop and mobile, against the demo served as `make run` serves it.
"""

import argparse
import os
import shutil
import sys
import time
import traceback
from dataclasses import replace
from pathlib import Path

from bench import infra
from bench.report import Section, markdown, utcnow, write
from bench.stack import Stack

PARTS = ("door", "pipeline", "screens", "recovery", "throttled")
# Only when asked for by name, and without the PostgreSQL stack the others share.
EMBEDDED_PARTS = ("soak", "lighthouse")
TITLES = {
    "door": "1. Webhook door (wrk, gunicorn, PostgreSQL)",
    "pipeline": "2. Pipeline: event received -> provider confirmed",
    "screens": "3. Screens at size",
    "recovery": "4. Recovery: retry all dead jobs",
    "throttled": "5. A throttled tool: Kit at its published limit with a backlog, events arriving",
    "soak": "6. Soak: the embedded stack under faults",
    "lighthouse": "7. Lighthouse: performance and accessibility of the screens",
}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few seconds per part (smoke test)")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help="comma-separated subset of " + ", ".join(PARTS + EMBEDDED_PARTS))
    parser.add_argument("--soak-minutes", type=float, default=60.0, help="how long the soak part runs (default 60)")
    parser.add_argument("--out", type=Path, help="where to write the markdown report "
                        "(default bench/results/<date>.md; quick mode: none)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the screens' data sizes (development: e.g. 0.2)")
    parser.add_argument("--redis-db", type=int, default=8, help="database number on the shared Redis (full mode)")
    parser.add_argument("--db-name", default="switchboard_bench",
                        help="PostgreSQL database the full run creates and drops (default switchboard_bench)")
    args = parser.parse_args(argv)
    args.parts = [p for p in args.parts.split(",") if p]
    unknown = set(args.parts) - set(PARTS) - set(EMBEDDED_PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    return args


def preflight() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian package 'wrk'; `make bench` installs it).")
    if not infra.postgres_available():
        raise SystemExit("PostgreSQL is not reachable on 127.0.0.1:5432 as user postgres.")


def run_parts(stack: Stack | None, args: argparse.Namespace, sections: list[Section], sizes: dict) -> None:
    from bench import door, lighthouse, pipeline, recovery, screens, soak, throttled

    for part in args.parts:
        if infra.interrupted.is_set():
            raise KeyboardInterrupt("interrupted")
        section = Section(TITLES[part])
        sections.append(section)
        started = time.monotonic()
        print(f"--- {section.title}", flush=True)
        try:
            if part == "door":
                door.run(stack, door.QUICK if args.quick else door.FULL, section)
            elif part == "pipeline":
                pipeline.run(stack, pipeline.QUICK if args.quick else pipeline.FULL, section)
            elif part == "screens":
                cfg = screens.QUICK if args.quick else screens.FULL
                if args.scale != 1.0:
                    cfg = replace(cfg, customers=int(cfg.customers * args.scale), dead=int(cfg.dead * args.scale))
                screens.run(cfg, section, sizes)
            elif part == "recovery":
                recovery.run(stack, recovery.QUICK if args.quick else recovery.FULL, section, screens.owner())
            elif part == "throttled":
                throttled.run(stack, throttled.QUICK if args.quick else throttled.FULL, section)
            elif part == "soak":
                soak.run(soak.Config.for_minutes(args.soak_minutes), section)
            elif part == "lighthouse":
                lighthouse.run(section)
        except Exception as exc:  # noqa: BLE001 - one failed part must not hide the others' numbers
            if infra.interrupted.is_set():
                raise KeyboardInterrupt("interrupted") from exc
            traceback.print_exc()
            section.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        section.note(f"part took {time.monotonic() - started:.0f} s")


# Fixed Python work timed before and after the parts: the machine's speed while they ran.
PROBE = "CPU probe (fixed Python work, best of 5)"


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    shared_stack = any(part in PARTS for part in args.parts)
    if shared_stack:
        preflight()
    infra.terminate_as_interrupt()
    started, clock = utcnow(), time.monotonic()
    db_name = f"switchboard_bench_quick_{os.getpid()}" if args.quick else args.db_name
    stack = Stack(quick=args.quick, db_name=db_name, redis_db=args.redis_db) if shared_stack else None
    sections: list[Section] = []
    sizes: dict = {}
    machine = infra.versions()
    interrupted = False
    try:
        if stack is not None:
            stack.start()
            machine["redis"] = _redis_version(stack.redis.url)
            machine["PostgreSQL commit (fsync)"] = f"{infra.commit_latency_ms(db_name):.2f} ms"
        probe = f"{infra.cpu_probe_ms():.0f} ms at the start"
        machine[PROBE] = probe
        run_parts(stack, args, sections, sizes)
        machine[PROBE] = f"{probe}, {infra.cpu_probe_ms():.0f} ms at the end"
    except KeyboardInterrupt:
        # Everything is stopped below; the parts that finished still get their report.
        interrupted = True
        if sections and not sections[-1].error:
            sections[-1].error = "interrupted"
    finally:
        if stack is not None:
            stack.stop()
    failed = [s for s in sections if s.error]
    text = markdown(sections, machine, {k: f"{v:,}" for k, v in sizes.items()}, started,
                    time.monotonic() - clock, args.quick)
    print("\n" + text)
    name = f"{started:%Y-%m-%d}" + ("" if shared_stack else "-" + "-".join(args.parts))
    out = args.out or (None if args.quick else infra.ROOT / "bench" / "results" / f"{name}.md")
    if out:
        write(text, out)
        print(f"\nreport written to {out}")
    if stack is not None and not failed:
        shutil.rmtree(stack.tmp, ignore_errors=True)
    elif stack is not None:
        print(f"logs of the processes kept in {stack.tmp}", file=sys.stderr)
    return 130 if interrupted else 1 if failed else 0


def _redis_version(url: str) -> str:
    import redis

    return str(redis.Redis.from_url(url, socket_timeout=5).info("server").get("redis_version", "?"))


if __name__ == "__main__":
    sys.exit(main())
