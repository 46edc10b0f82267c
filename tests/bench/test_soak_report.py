"""The soak part's verdicts: a run that lost, doubled or left anything fails; a short run still faults
three times. (The machinery it drives is what tests/test_embedded_stack.py runs for real.)"""

from collections import Counter

import pytest

from bench.embedded import EventStream
from bench.report import Section
from bench.soak import Config, Outcome, report

CLEAN = {
    "events_stored": 10, "events_processed": 10, "events_with_failed_tries": 0, "jobs_written": 15,
    "jobs_succeeded": 15, "jobs_dead": 0, "jobs_open": 0, "job_counts_per_subscription": 1,
    "subscriptions_without_jobs": 0, "duplicate_effects": 0, "attempts_lost": 1, "jobs_with_unexpected_attempts": 0,
}
PIDS = {"web": [10], "worker": [11, 12, 13], "beat": [14]}
DROPPED = "worker | ... broker.message_dropped ...\n" * 4


def outcome(**changes) -> Outcome:
    stream = EventStream(url="http://127.0.0.1:1", per_second=2, sent=10, answers=Counter({200: 10}))
    fields = dict(stream=stream, counts=CLEAN, first_pids=PIDS, pids=PIDS, output=DROPPED, faults=2, drained=True,
                  left_running=[])
    return Outcome(**{**fields, **changes})


def verdicts(result: Outcome) -> tuple[str, list[bool | None]]:
    section = Section("soak")
    report(section, Config.for_minutes(2), result)
    return section.error, [row.met for row in section.rows if row.target]


def test_a_clean_run_meets_every_target():
    error, met = verdicts(outcome())
    assert error == "" and met and all(met)


@pytest.mark.parametrize("change", [
    {"counts": {**CLEAN, "events_processed": 9}},
    {"counts": {**CLEAN, "jobs_open": 1, "jobs_succeeded": 14}},
    {"counts": {**CLEAN, "duplicate_effects": 1}},
    {"counts": {**CLEAN, "job_counts_per_subscription": 2}},
    {"pids": {**PIDS, "beat": [14, 15]}},
    {"left_running": [99]},
    {"drained": False},
], ids=["event lost", "job open", "provider called twice", "extra job", "beat restarted", "stray", "not drained"])
def test_a_run_that_lost_doubled_or_left_something_fails_the_part(change):
    error, met = verdicts(outcome(**change))
    assert error and False in met


def test_faults_come_every_three_minutes_and_three_times_in_a_short_run():
    hour = Config.for_minutes(60)
    assert hour.fault_every == 180 and hour.rounds == 19
    assert Config.for_minutes(2).rounds == 3
