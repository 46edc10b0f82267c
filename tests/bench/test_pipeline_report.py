"""The pipeline part reports latency over the events that completed, and marks it as a lower
bound ("≥") while any event is still open."""

from datetime import UTC, datetime, timedelta

from bench.pipeline import _completed_event_latencies, completed_figures
from bench.report import at_least

T0 = datetime(2026, 12, 2, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_only_events_with_every_job_confirmed_count_and_an_open_one_is_counted_as_open():
    # (status, received, processed, pk) and (status, finished, received, event pk), as measure() reads them
    events = [("processed", at(0), at(0.1), 1), ("processed", at(0), at(0.2), 2), ("received", at(0), None, 3),
              ("processed", at(0), at(0.3), 4)]
    jobs = [("succeeded", at(0.5), at(0), 1), ("succeeded", at(0.9), at(0), 1),
            ("succeeded", at(0.4), at(0), 2), ("pending", None, at(0), 2),
            ("dead", at(0.6), at(0), 4)]
    assert _completed_event_latencies(events, jobs) == ([0.9], 3)


def test_an_event_without_jobs_completes_when_it_is_applied():
    assert _completed_event_latencies([("processed", at(0), at(0.25), 1)], []) == ([0.25], 0)


def test_figures_are_lower_bounds_while_anything_is_open():
    assert completed_figures((0.5, 0.9, 1.2), completed=10, still_open=0) == (0.5, 0.9, 1.2)
    assert completed_figures((0.5, 0.9, 12.0), completed=10, still_open=1) == ("≥ 0.50", "≥ 0.90", "≥ 12.0")
    assert completed_figures((float("nan"),) * 3, completed=0, still_open=5) == "no event completed"
    assert at_least((83.0,)) == ("≥ 83.0",)


def _result(p95: float, still_open: int = 0) -> dict:
    return {"completed": (p95 / 2, p95, p95), "completed_count": 100, "open_events": still_open}


def test_the_ramp_climbs_with_the_best_layout_and_tries_the_runner_up_where_it_misses():
    from bench.pipeline import Config, Layout, _ramp
    from bench.report import Section

    results = {Layout(2, 1): _result(19.0), Layout(2, 2): _result(0.8), Layout(1, 2): _result(0.6)}
    asked = []

    def run(stack, cfg, layout, section):
        asked.append((cfg.rate, layout))
        return _result(0.7) if cfg.rate < 75 else _result(3.0, still_open=2)

    section = Section("pipeline")
    _ramp(None, Config(rate=50, seconds=60, drain_seconds=45, ramp=(60, 75, 100)), results, section, run=run)
    # 2+1 missed at 50: never tried; at 75 both others miss, so 100 is not tried.
    assert asked == [(60, Layout(1, 2)), (75, Layout(1, 2)), (75, Layout(2, 2))]
    (row,) = section.rows
    assert (row.subject, row.value, row.met) == ("1 job + 2 events processes", 60, False)
    assert "1 job + 2 events processes at 75/s: p95 ≥ 3.00 s, 2 events still open" in section.notes[0]


def test_a_rate_the_best_layout_misses_is_held_by_the_runner_up_which_climbs_alone():
    from bench.pipeline import Config, Layout, _ramp
    from bench.report import Section

    results = {Layout(2, 2): _result(0.8), Layout(1, 2): _result(0.6)}
    asked = []

    def run(stack, cfg, layout, section):
        asked.append((cfg.rate, layout))
        holds = layout == Layout(2, 2) and cfg.rate <= 75
        return _result(0.9) if holds else _result(1.4)

    section = Section("pipeline")
    _ramp(None, Config(rate=50, seconds=60, drain_seconds=45, ramp=(60, 75, 100)), results, section, run=run)
    assert asked == [(60, Layout(1, 2)), (60, Layout(2, 2)), (75, Layout(2, 2)), (100, Layout(2, 2))]
    (row,) = section.rows
    assert (row.subject, row.value, row.met) == ("2 job + 2 events processes", 75, False)


def test_the_full_runs_ramp_reports_the_highest_rate_to_ten_events_a_second():
    from bench.pipeline import FULL, Layout, _ramp
    from bench.report import Section

    asked = []

    def run(stack, cfg, layout, section):
        asked.append(cfg.rate)
        return _result(0.8) if cfg.rate <= 80 else _result(2.0)

    section = Section("pipeline")
    _ramp(None, FULL, {Layout(1, 2): _result(0.5)}, section, run=run)
    assert asked == [60, 70, 80, 90]
    assert section.rows[0].value == 80


def test_no_ramp_when_no_layout_meets_the_target_at_the_base_rate():
    from bench.pipeline import Config, Layout, _ramp
    from bench.report import Section

    section = Section("pipeline")
    _ramp(None, Config(rate=50, seconds=60, drain_seconds=45), {Layout(2, 1): _result(4.0)}, section,
          run=lambda *args: (_ for _ in ()).throw(AssertionError("not to be run")))
    assert section.rows[0].value == "below 50" and section.rows[0].met is False


def test_wake_ups_are_counted_per_job_run_over_every_system_with_each_outcome():
    from bench.pipeline import wakeup_figures

    before = {("crm", "succeeded"): 10.0, ("crm", "not_due"): 4.0}
    after = {("crm", "succeeded"): 30.0, ("crm", "not_due"): 14.0, ("email", "succeeded"): 20.0,
             ("email", "rate_limited"): 5.0, ("email", "dead"): 0.0}
    # 40 runs (20 crm, 20 email); 55 wake-ups: 40 that ran, 10 not due, 5 rate limited
    assert wakeup_figures(before, after) == "1.38 (not_due 10, rate_limited 5, succeeded 40)"
    assert wakeup_figures(after, after) == "no job ran"
