"""The embedded stack (SQLite, the file broker, web + worker + beat under the supervisor) keeps every
event while its worker is SIGKILLed twice and unreadable messages land in its queue folder.

Runs in well under three minutes: the repairs (lost wake-ups re-sent, a dead worker's leases taken
back) are set to seconds instead of minutes through the environment (``bench.embedded.FAST``).
"""

import re
import time

import pytest

from bench.embedded import EmbeddedStack, EventStream, alive, counts, settled, wait_until

pytestmark = pytest.mark.process


def test_killing_the_worker_loses_nothing_doubles_nothing_and_never_stops_web_or_beat(tmp_path):
    stack = EmbeddedStack(tmp_path)
    left_running = None
    try:
        stack.start()
        first = stack.pids()
        stream = EventStream(stack.url, per_second=3).start()
        time.sleep(6)
        stack.kill_worker()
        time.sleep(4)
        dropped = stack.drop_unreadable_messages()
        time.sleep(6)
        stack.kill_worker()
        time.sleep(8)
        stream.stop()
        wait_until(lambda: settled(counts(stack.db_path), stream.sent),
                   "every event processed and every job settled", timeout=120, every=1)
        result, pids, output = counts(stack.db_path), stack.pids(), stack.output()
        still_up = {name: alive(pids[name][-1]) for name in ("web", "beat")}
    finally:
        left_running = stack.stop()

    # Web and scheduler: one pid each, from start to finish; the worker came back after each kill.
    assert pids["web"] == first["web"] and pids["beat"] == first["beat"], output[-3000:]
    assert still_up == {"web": True, "beat": True}
    assert len(pids["worker"]) == 3 and len(set(pids["worker"])) == 3, output[-3000:]
    assert output.count("worker exited (killed by SIGKILL)") == 2
    assert left_running == [], "processes left after Ctrl-C"

    # The unreadable files were dropped and logged by name, without their content.
    assert not any((stack.broker_dir / name).exists() for name in dropped)
    assert sorted(re.findall(r"broker\.message_dropped .*reason=(\w+)", output)) == ["empty", "not_json"]
    assert "{not json" not in output

    # Every event stored once and applied once; every job succeeded once, against the sandbox.
    assert stream.sent > 20 and result["events_stored"] == stream.sent == result["events_processed"]
    assert result["events_with_failed_tries"] == 0
    assert result["jobs_written"] > 0 and result["jobs_succeeded"] == result["jobs_written"]
    assert result["jobs_dead"] == result["jobs_open"] == 0
    assert result["job_counts_per_subscription"] == 1 and result["subscriptions_without_jobs"] == 0
    assert result["duplicate_effects"] == 0 and result["jobs_with_unexpected_attempts"] == 0
    # A kill loses the tries of the jobs its pool held then (a batch per process), and no other.
    assert len(stack.jobs_running_at_kills) == 2
    assert result["attempts_lost"] <= sum(stack.jobs_running_at_kills)
