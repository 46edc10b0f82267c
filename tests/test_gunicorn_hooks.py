"""A real gunicorn with the production settings and Switchboard's hooks, spoken to over raw sockets:
an oversized request ends its connection, and an invalid request is logged without the client's address."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVER_HOST, CLIENT_HOST = "127.0.0.2", "127.0.0.3"  # the client's address appears in no startup line


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gunicorn")
    config = tmp / "gunicorn_test.py"
    config.write_text(
        "from config.gunicorn import *  # noqa: F401,F403 - the production settings, hooks included\n"
        f"bind = '{SERVER_HOST}:0'\n"
        "workers = 1\n"
        "threads = 2\n"
    )
    log = tmp / "gunicorn.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_URL", "DATABASE_URL"))}
    env.update(DJANGO_ENV="development", SWITCHBOARD_DATA_DIR=str(tmp / "var"), PYTHONPATH=str(ROOT),
               STRIPE_WEBHOOK_SECRETS="whsec_gunicorn_test")
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "config.wsgi", "--config", str(config)],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        port = _listening_port(log, proc)
        yield port, log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _listening_port(log: Path, proc: subprocess.Popen) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(rf"Listening at: http://{re.escape(SERVER_HOST)}:(\d+)", log.read_text(errors="replace"))
        if found and "Booting worker" in log.read_text(errors="replace"):
            return int(found.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"gunicorn did not start:\n{log.read_text(errors='replace')}")


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection((SERVER_HOST, port), timeout=10, source_address=(CLIENT_HOST, 0))
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while True:
        chunk = sock.recv(65536)  # a timeout here fails the test: the server kept the connection
        if not chunk:
            return data
        data += chunk


@pytest.mark.parametrize(("path", "length"), [("/webhooks/stripe/", 2 * 1024 * 1024), ("/webhooks/support/", 300 * 1024)])
def test_an_oversized_request_is_answered_413_and_its_connection_closed(gunicorn, path, length):
    port, _ = gunicorn
    oversized = (
        f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n".encode() + b"{" * 4096
    )
    # The next request follows on the same connection while most of the declared body was never sent.
    following = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
    with _connect(port) as sock:
        sock.sendall(oversized + following)
        answer = _read_until_closed(sock)
    head = answer.split(b"\r\n\r\n", 1)[0].decode()
    assert head.startswith("HTTP/1.1 413"), head
    assert "Connection: close" in head.splitlines(), head
    assert answer.count(b"HTTP/1.1 ") == 1, "nothing in the unread body was answered as a request"

    with _connect(port) as sock:  # the server itself is fine: a new connection is served
        sock.sendall(following)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")


def test_an_invalid_request_is_logged_without_the_client_address(gunicorn):
    port, log = gunicorn
    with _connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nBad Header: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 400")
    deadline = time.monotonic() + 10
    while "Invalid request" not in log.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.1)
    text = log.read_text(errors="replace")
    assert "Invalid request" in text, "gunicorn logged the invalid request (so the check below means something)"
    assert CLIENT_HOST not in text
