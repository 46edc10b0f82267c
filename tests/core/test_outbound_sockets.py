"""The suite reaches nothing outside the machine: every non-loopback connect is refused (pytest-socket,
configured in pyproject.toml), while loopback fakes and unix sockets keep working."""

import socket
import threading

import pytest
import requests
from pytest_socket import SocketConnectBlockedError

OUTSIDE = ("192.0.2.10", 443)  # TEST-NET-1: documentation addresses, never a real host
refused = pytest.mark.filterwarnings("ignore:A test tried to use socket.socket.connect")


@refused
def test_a_connect_outside_the_machine_is_refused():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)  # were it let through, fail fast rather than wait for the network
        with pytest.raises(SocketConnectBlockedError):
            sock.connect(OUTSIDE)


@refused
def test_an_http_call_outside_the_machine_is_refused():
    with pytest.raises(SocketConnectBlockedError):
        requests.get(f"https://{OUTSIDE[0]}/v1/customers", timeout=2)


def _serve_once(server: socket.socket) -> None:
    conn, _ = server.accept()
    with conn:
        conn.sendall(b"hello")


@pytest.mark.parametrize("family, host", [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET, "127.0.0.2"),
                                          (socket.AF_INET6, "::1")])
def test_loopback_connects_work(family, host):
    try:
        server = socket.socket(family, socket.SOCK_STREAM)
        server.bind((host, 0))
    except OSError as exc:
        pytest.skip(f"no {host} on this machine: {exc}")
    with server:
        server.listen(1)
        threading.Thread(target=_serve_once, args=(server,), daemon=True).start()
        with socket.create_connection(server.getsockname()[:2], timeout=5) as client:
            assert client.recv(5) == b"hello"


def test_unix_sockets_work(tmp_path):
    path = str(tmp_path / "s.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen(1)
        threading.Thread(target=_serve_once, args=(server,), daemon=True).start()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(path)
            assert client.recv(5) == b"hello"
