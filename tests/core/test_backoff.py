"""The one retry delay, checked as a pure function: no database, no settings."""

from hypothesis import given
from hypothesis import strategies as st

from core.backoff import backoff_seconds

attempts = st.integers(min_value=1, max_value=60)
bases = st.floats(min_value=0.1, max_value=120)
caps = st.floats(min_value=1, max_value=7200)


def test_the_delay_doubles_per_failed_try_until_the_cap():
    # The upper half of each ceiling: 10-20 s after the second failure, 20-40 s after the third.
    assert 5 <= backoff_seconds(attempt=1, base=10, cap=1000) <= 10
    assert 10 <= backoff_seconds(attempt=2, base=10, cap=1000) <= 20
    assert 20 <= backoff_seconds(attempt=3, base=10, cap=1000) <= 40
    assert 500 <= backoff_seconds(attempt=30, base=10, cap=1000) <= 1000


@given(attempt=attempts, base=bases, cap=caps)
def test_it_stays_in_the_upper_half_of_its_capped_ceiling(attempt, base, cap):
    ceiling = min(cap, base * 2 ** (attempt - 1))
    assert ceiling / 2 <= backoff_seconds(attempt=attempt, base=base, cap=cap) <= ceiling


def test_many_failures_at_once_do_not_all_retry_at_the_same_moment():
    delays = {backoff_seconds(attempt=4, base=15, cap=3600) for _ in range(50)}
    assert len(delays) > 40


@given(attempt=attempts, base=bases, cap=caps, retry_after=st.floats(min_value=0.01, max_value=100_000))
def test_it_is_never_sooner_than_retry_after_and_never_past_the_cap(attempt, base, cap, retry_after):
    delay = backoff_seconds(attempt=attempt, base=base, cap=cap, retry_after=retry_after)
    assert delay >= min(retry_after, cap)
    assert delay <= cap


def test_a_retry_after_longer_than_the_exponential_delay_wins():
    assert backoff_seconds(attempt=1, base=1, cap=3600, retry_after=120) == 120
