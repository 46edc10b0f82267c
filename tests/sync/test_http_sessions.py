"""One kept-alive HTTP session per tool and credential: connections are reused from job to job,
and what a tool's answers set for one credential (a cookie) is never sent with another's."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sync.providers.http import Client


class Tool(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        Tool.seen.append((self.headers.get("Authorization"), self.headers.get("Cookie"), self.client_address[1]))
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", f"session={self.headers.get('Authorization')[-1]}; Path=/")
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def tool():
    Tool.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Tool)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _client(url: str, token: str) -> Client:
    return Client(provider="toy", base_url=url, headers={"Authorization": f"Bearer {token}"})


def test_calls_with_one_credential_share_a_kept_alive_connection(tool):
    for _ in range(3):  # a new Client per job, as every adapter makes one
        _client(tool, "a").call("GET", "/ping")
    assert len({port for _, _, port in Tool.seen}) == 1


def test_a_cookie_set_for_one_credential_is_not_sent_with_another(tool):
    _client(tool, "a").call("GET", "/ping")
    _client(tool, "b").call("GET", "/ping")
    _client(tool, "a").call("GET", "/ping")
    assert [(auth, cookie) for auth, cookie, _ in Tool.seen] == [
        ("Bearer a", None), ("Bearer b", None), ("Bearer a", "session=a")]
