"""The broker transport survives what a Redis restart does to a consumer holding unacknowledged messages."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.redis
ROOT = Path(settings.BASE_DIR)

# What Celery's consumer does when the broker connection breaks under a message it has not
# acknowledged yet (task_acks_late): it collects the connection, which drops the transport's
# connection details and the channel's pool, then closes it, which restores the message.
# The private kombu calls reproduce exactly that state, the one kombu 5.7.0 dies in.
CONSUMER_LOSES_REDIS = """
import sys
from kombu import Connection, Exchange, Queue
from kombu.common import ignore_errors
url, transport = sys.argv[1], sys.argv[2] or None
queue = Queue("q", Exchange("q"), routing_key="q")
with Connection(url, transport=transport) as producer:
    producer.Producer().publish({"n": 1}, exchange=queue.exchange, routing_key="q", declare=[queue])
conn = Connection(url, transport=transport)
channel = conn.channel()
held = []
conn.Consumer([queue], channel=channel, callbacks=[lambda body, message: held.append(message)]).consume()
conn.drain_events(timeout=10)
assert len(held) == 1, "no unacknowledged message"
print("holding", flush=True)
sys.stdin.readline()  # the test stops Redis meanwhile
channel._disconnect_pools()
conn._do_close_transport()
ignore_errors(conn, channel.close)
print("survived")
"""


def lose_redis(redis_server, transport: str) -> subprocess.CompletedProcess:
    proc = subprocess.Popen([sys.executable, "-c", CONSUMER_LOSES_REDIS, redis_server.url, transport], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "holding", proc.stderr.read()
        redis_server.stop()
        proc.stdin.write("\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_the_configured_transport_is_ours(settings):
    if not settings.REDIS_URL:
        pytest.skip("the Redis transport is configured only with REDIS_URL")
    from config.celery import app

    with app.connection_for_write() as conn:
        assert type(conn.transport).__module__ == "config.broker"


def test_closing_a_channel_after_redis_went_away_raises_only_a_connection_error(redis_server):
    result = lose_redis(redis_server, "config.broker:RedisTransport")
    assert result.stdout.strip() == "survived", result.stderr[-2000:]


def test_kombus_own_transport_still_dies_there(redis_server):
    """When this fails, kombu is fixed: config/broker.py can go (use plain redis://)."""
    result = lose_redis(redis_server, "")
    assert "AttributeError" in result.stderr and "hostname" in result.stderr, result.stdout + result.stderr
