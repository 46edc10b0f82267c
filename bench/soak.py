"""Part 5, soak: the embedded stack (`make run`'s SQLite, file broker, web + worker + beat under the
supervisor) for a long run under a steady stream of signed events, with the worker SIGKILLed and an
empty and a garbage message file dropped into its queue folder every few minutes. Then: was every
event stored and processed, every job settled once, and did web and beat run throughout?

Not part of the default run (it takes an hour): ``python -m bench --parts soak [--soak-minutes 60]``.
"""

import math
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import infra
from bench.embedded import FAST, EmbeddedStack, EventStream, counts, settled, wait_until
from bench.report import Section


@dataclass
class Config:
    minutes: float
    rate: float = 2.0  # events per second (half of them subscriptions, each causing its outbound jobs)
    fault_every: float = 180.0  # seconds
    drain_seconds: float = 180.0

    @classmethod
    def for_minutes(cls, minutes: float) -> "Config":
        # Every three minutes, or often enough for three rounds of faults in a short run.
        return cls(minutes=minutes, fault_every=min(180.0, minutes * 60 / 4))

    @property
    def rounds(self) -> int:
        """Rounds of faults in the run (none at its very end, where no repair could be seen)."""
        return math.ceil(self.minutes * 60 / self.fault_every) - 1


@dataclass
class Outcome:
    """What one soak did: the stream, the counts from the database, the supervisor's story."""

    stream: EventStream
    counts: dict[str, int]
    first_pids: dict[str, list[int]]
    pids: dict[str, list[int]]
    output: str
    faults: int
    drained: bool
    left_running: list[int]


def run(cfg: Config, section: Section) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="switchboard-soak-"))
    stack = EmbeddedStack(data_dir)
    faults, drained, stream = 0, False, None
    try:
        stack.start()
        first = stack.pids()
        stream = EventStream(stack.url, per_second=cfg.rate).start()
        started = time.monotonic()
        end, next_fault = started + cfg.minutes * 60, started + cfg.fault_every
        while time.monotonic() < end:
            if infra.interrupted.is_set():
                raise KeyboardInterrupt("interrupted")
            if time.monotonic() >= next_fault:
                stack.kill_worker()
                stack.drop_unreadable_messages()
                faults += 1
                next_fault += cfg.fault_every
                _progress(started, stream, stack, faults)
            time.sleep(1)
        stream.stop()
        try:
            wait_until(lambda: settled(counts(stack.db_path), stream.sent), "the backlog to drain",
                       cfg.drain_seconds, every=2)
            drained = True
        except TimeoutError:
            pass
        result, pids, output = counts(stack.db_path), stack.pids(), stack.output()
    finally:
        if stream is not None:
            stream.stop()
        left = stack.stop()
    report(section, cfg, Outcome(stream, result, first, pids, output, faults, drained, left))
    if not section.error:
        shutil.rmtree(data_dir, ignore_errors=True)
    else:
        print(f"soak: data and supervisor log kept in {data_dir}", flush=True)


def _progress(started: float, stream: EventStream, stack: EmbeddedStack, faults: int) -> None:
    c = counts(stack.db_path)
    print(f"soak {(time.monotonic() - started) / 60:5.1f} min: {stream.sent} events sent, "
          f"{c['events_processed']} processed; jobs {c['jobs_succeeded']} succeeded, {c['jobs_open']} open, "
          f"{c['jobs_dead']} dead; fault round {faults} (worker SIGKILLed, 2 unreadable messages dropped)",
          flush=True)


def report(section: Section, cfg: Config, outcome: Outcome) -> None:
    """The rows, each with its verdict; anything lost, doubled or left behind fails the part."""
    c, stream, faults, left = outcome.counts, outcome.stream, outcome.faults, outcome.left_running
    dropped = len(re.findall(r"broker\.message_dropped", outcome.output))
    kept = {name: outcome.pids[name] == outcome.first_pids[name] for name in ("web", "beat")}
    restarts = len(outcome.pids["worker"]) - 1
    refused = sum(n for status, n in stream.answers.items() if status != 200)
    section.note(f"{cfg.minutes:g} min at {cfg.rate:g} events/s (customer.created + customer.subscription.created "
                 f"per customer, signed, every job against the sandbox); every {cfg.fault_every:.0f} s "
                 f"({cfg.rounds} rounds) the worker's main process is SIGKILLed and an empty and a garbage .msg "
                 f"file are dropped into its queue folder; repairs shortened through the environment "
                 f"({', '.join(f'{k}={v}' for k, v in FAST.items())}); drain allowed {cfg.drain_seconds:.0f} s")
    events_ok = stream.sent == c["events_stored"] == c["events_processed"]
    section.row("events", "sent / stored / processed", (stream.sent, c["events_stored"], c["events_processed"]),
                target="all equal", met=events_ok)
    section.row("door", "deliveries answered 200 / refused or failed (and sent again)",
                (stream.answers[200], refused))
    jobs_ok = c["jobs_succeeded"] == c["jobs_written"] > 0 and c["jobs_dead"] == c["jobs_open"] == 0
    section.row("jobs", "written / succeeded / dead / open",
                (c["jobs_written"], c["jobs_succeeded"], c["jobs_dead"], c["jobs_open"]),
                target="all succeeded", met=jobs_ok and outcome.drained)
    doubled = (c["duplicate_effects"], c["events_with_failed_tries"], c["jobs_with_unexpected_attempts"],
               c["job_counts_per_subscription"] - 1)
    section.row("duplicates", "extra provider calls / events tried twice / jobs with odd attempts / "
                "subscriptions with another job count", doubled, target="0 / 0 / 0 / 0", met=not any(doubled))
    section.row("worker", "SIGKILLs / restarts / job attempts lost with it", (faults, restarts, c["attempts_lost"]),
                target="restarts = SIGKILLs", met=restarts == faults)
    section.row("unreadable messages", "dropped into the queue / logged and dropped by the worker",
                (2 * faults, dropped), target="equal", met=dropped == 2 * faults)
    section.row("web / beat", "same pid from start to end", (_yes(kept["web"]), _yes(kept["beat"])),
                target="yes / yes", met=all(kept.values()))
    section.row("Ctrl-C", "processes left running", len(left), target="0", met=not left)
    if not (events_ok and jobs_ok and outcome.drained and not any(doubled) and all(kept.values()) and not left):
        section.error = "the embedded stack lost, doubled or left something behind (see the MISSED rows)"


def _yes(value: bool) -> str:
    return "yes" if value else "no"
