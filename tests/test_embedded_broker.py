"""The embedded broker (config.broker): a consumer never reads a message that is still being written,
and a file it cannot read is dropped and logged by name, never by content, instead of killing it."""

import multiprocessing
import time
import uuid
from pathlib import Path

import kombu

from config.broker import SCHEME, FileTransport as Transport

PAD = 1_000_000
# kombu keeps the declared exchanges per process; a queue name of its own keeps each test's in its folder.
RACE, DROPS = "race", "drops"


def connection(folder: Path) -> kombu.Connection:
    (folder / "control").mkdir(exist_ok=True)
    return kombu.Connection("filesystem://", transport=Transport, transport_options={
        "data_folder_in": str(folder), "data_folder_out": str(folder), "control_folder": str(folder / "control"),
        "polling_interval": 0.01})


def publish(folder: Path, publisher: int, count: int) -> None:
    with connection(folder) as conn:
        queue = conn.SimpleQueue(RACE)
        for n in range(count):
            queue.put({"from": publisher, "n": n, "pad": "x" * PAD})


def test_a_consumer_racing_two_publishers_reads_every_message_whole(tmp_path):
    # Large messages keep each write going long enough that kombu's own transport, which creates the
    # file under its final name and then writes it, hands this consumer an empty file at once.
    count = 15
    fork = multiprocessing.get_context("fork")
    publishers = [fork.Process(target=publish, args=(tmp_path, p, count)) for p in range(2)]
    received = []
    with connection(tmp_path) as conn:
        queue = conn.SimpleQueue(RACE)
        for process in publishers:
            process.start()
        deadline = time.monotonic() + 60
        while len(received) < 2 * count and time.monotonic() < deadline:
            try:
                message = queue.get(timeout=0.5)
            except queue.Empty:
                continue
            received.append(message.payload)
            message.ack()
    for process in publishers:
        process.join(30)
    assert sorted((m["from"], m["n"]) for m in received) == [(p, n) for p in range(2) for n in range(count)]
    assert {len(m["pad"]) for m in received} == {PAD}
    assert not list(tmp_path.rglob("*.msg")), "a message file was left behind"


def test_unreadable_files_are_dropped_and_logged_by_name_never_by_content(tmp_path, caplog):
    unreadable = {"empty": b"", "not_json": b"card 4242424242424242 {", "not_a_message": b'{"body": "s3cret"}',
                  "a_list": b"[1, 2]"}
    # Older than anything published now, so the consumer meets them first.
    for n, content in enumerate(unreadable.values()):
        (tmp_path / f"0{n}_{uuid.uuid4()}.{DROPS}.msg").write_bytes(content)
    with connection(tmp_path) as conn:
        queue = conn.SimpleQueue(DROPS)
        queue.put({"wake": "up"})
        message = queue.get(timeout=10)
        message.ack()
    assert message.payload == {"wake": "up"}
    dropped = [r.msg for r in caplog.records if isinstance(r.msg, dict) and r.msg["event"] == "broker.message_dropped"]
    assert sorted(d["reason"] for d in dropped) == ["empty", "not_a_message", "not_a_message", "not_json"]
    assert all(d["file"].endswith(f".{DROPS}.msg") for d in dropped)
    assert "4242424242424242" not in caplog.text and "s3cret" not in caplog.text
    assert not list(tmp_path.rglob("*.msg")), "an unreadable file was left in the queue"


def test_the_embedded_url_names_this_transport_and_other_urls_keep_their_own():
    with kombu.Connection(f"{SCHEME}://localhost/") as embedded:
        assert isinstance(embedded.transport, Transport)
    with kombu.Connection("redis://127.0.0.1:1/0") as other:  # never connected: no socket opened
        assert type(other.transport).__module__ == "kombu.transport.redis"


def test_the_app_publishes_through_the_embedded_transport_unless_redis_is_configured(settings):
    from config.celery import app

    with app.connection_for_write() as conn:
        expected = "RedisTransport" if settings.REDIS_URL else "FileTransport"
        assert type(conn.transport).__name__ == expected
