"""The door depends on the database alone: with Redis (cache and broker) gone it still stores and answers 200."""

import socket
import threading

import pytest

from billing.models import EventStatus, StripeEvent
from tests import stripe_events as se

pytestmark = pytest.mark.django_db


def an_event() -> dict:
    return se.event("customer.created", se.customer(se.new_id("cus")))


def test_with_the_cache_down_the_door_verifies_stores_and_answers_200(client, cache_down, deliver):
    evt = an_event()
    response = deliver(evt)
    assert response.status_code == 200, response.content
    assert StripeEvent.objects.get(stripe_id=evt["id"]).status == EventStatus.PROCESSED


def test_with_the_cache_down_a_bad_signature_is_still_refused(client, cache_down):
    response = se.post(client, an_event(), secret="whsec_someone_else")
    assert response.status_code == 400 and not StripeEvent.objects.exists()


def test_with_the_cache_down_the_rate_limit_counts_in_the_process(client, cache_down):
    cache_down.STRIPE_WEBHOOK_RATE_LIMIT = "3/m"
    statuses = [se.post(client, an_event()).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert StripeEvent.objects.count() == 3


class SilentRedis:
    """Accepts connections and never answers: a Redis host that hangs rather than refuses."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def test_a_hanging_cache_is_asked_once_then_left_alone_for_a_while(client, cache_down):
    silent = SilentRedis()
    cache_down.CACHES["default"]["LOCATION"] = f"redis://127.0.0.1:{silent.port}/0"
    cache_down.CACHES = dict(cache_down.CACHES)  # a new value: Django drops its cache connections
    try:
        # A refusal is counted in the cache (a stored event is counted by its row, never there).
        assert se.post(client, an_event(), secret="whsec_someone_else").status_code == 400
        after_first = len(silent.accepted)
        assert [se.post(client, an_event()).status_code for _ in range(5)] == [200] * 5
        assert se.post(client, an_event(), secret="whsec_someone_else").status_code == 400
        assert after_first >= 1 and len(silent.accepted) == after_first
    finally:
        silent.close()
    assert StripeEvent.objects.count() == 5
