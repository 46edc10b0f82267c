"""Celery beat's scheduler keeps its own duties on time: its heartbeat and the alert rules."""

from celery.beat import PersistentScheduler

from config.celery import app
from monitoring.heartbeats import heartbeat_ages
from monitoring.scheduler import WatchfulScheduler


def test_a_tick_beats_and_sleeps_no_longer_than_until_the_next_evaluation(transactional_db, settings, tmp_path):
    settings.ALERT_EVALUATE_SECONDS = 5  # shorter than any periodic task's interval
    settings.ALERT_NO_WEBHOOK_MINUTES = 0
    scheduler = WatchfulScheduler(app=app, schedule_filename=str(tmp_path / "beat"))
    try:
        assert isinstance(scheduler, PersistentScheduler)
        first = scheduler.tick()
        assert heartbeat_ages()["scheduler"] is not None  # the first tick evaluated and beat
        second = scheduler.tick()  # a moment later, e.g. woken for a periodic task
    finally:
        scheduler.close()
    assert first <= settings.ALERT_EVALUATE_SECONDS
    # the next evaluation is due in less than a whole interval now: beat must wake for it then
    assert second < settings.ALERT_EVALUATE_SECONDS
