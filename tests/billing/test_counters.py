"""Counters: every increment is readable per label, in total, per hour and per minute, on the
cache this run is configured with (Redis with REDIS_URL, the local-memory cache without)."""

from datetime import datetime, timedelta, timezone

import pytest
from django.core.cache import cache

from billing import counters


def test_increments_are_counted_per_label_and_in_total():
    counters.incr("door", "invoice.paid")
    counters.incr("door", "invoice.paid")
    counters.incr("door", "customer.created")

    assert counters.total("door", "invoice.paid") == 2
    assert counters.total("door", "customer.created") == 1
    assert counters.total("door") == 3
    assert counters.total_minutes("door", minutes=5) == 3
    assert counters.total_minutes("door", "invoice.paid", minutes=5) == 2
    assert counters.hourly("door", hours=3)[-1] == 3
    assert counters.total("other") == 0


def test_an_unlabelled_increment_counts_once():
    counters.incr("door")
    assert counters.total("door") == 1


def test_old_buckets_fall_out_of_the_window():
    counters.incr("door", "x")
    later = datetime.now(timezone.utc) + timedelta(hours=2)
    assert counters.total("door", hours=1, now=later) == 0
    assert counters.total("door", hours=3, now=later) == 1
    assert counters.total_minutes("door", minutes=15, now=later) == 0


def test_buckets_expire_on_redis():
    client = counters._redis()
    if client is None:
        pytest.skip("the cache is not Redis in this run (no REDIS_URL); expiry is the local cache's own")
    counters.incr("door", "x")
    now = datetime.now(timezone.utc)
    hour_ttl = client.ttl(cache.client.make_key(counters._hour_key("door", "x", now)))
    minute_ttl = client.ttl(cache.client.make_key(counters._minute_key("door", counters.TOTAL, now)))
    assert 0 < hour_ttl <= counters.HOURLY_RETENTION.total_seconds()
    assert 0 < minute_ttl <= counters.MINUTE_RETENTION.total_seconds()
