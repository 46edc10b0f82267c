"""Which addresses may be endpoints, and when a continuously failing endpoint is switched off."""

from datetime import datetime, timedelta, timezone

import time_machine

from webhooks.endpoints import failing_too_long, url_problem


def test_https_only_in_production_and_http_allowed_while_debugging():
    assert url_problem("https://hooks.example.com/sb", allow_http=False) == ""
    assert url_problem("http://hooks.example.com/sb", allow_http=False) == "Endpoints must use https."
    assert url_problem("http://127.0.0.1:9000/sb", allow_http=True) == ""
    assert url_problem("ftp://hooks.example.com", allow_http=True)
    assert url_problem("https://", allow_http=True)
    assert url_problem("https://user:pw@hooks.example.com/", allow_http=False)


def test_an_endpoint_failing_for_the_whole_period_is_switched_off():
    since = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
    with time_machine.travel(since + timedelta(days=4, hours=23), tick=False):
        assert not failing_too_long(since, datetime.now(timezone.utc))
    with time_machine.travel(since + timedelta(days=5), tick=False):
        assert failing_too_long(since, datetime.now(timezone.utc))
        assert not failing_too_long(since, datetime.now(timezone.utc), days=6)
    assert not failing_too_long(None, since)
