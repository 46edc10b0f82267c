"""One kept-alive HTTP session per tool and credential: connections are reused from job to job,
and what a tool's answers set for one credential (a cookie) is never sent with another's. The
environment's proxy settings are honoured, read once per tool rather than on every request."""

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sync.providers.http import Client


class Tool(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list = []
    paths: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        Tool.seen.append((self.headers.get("Authorization"), self.headers.get("Cookie"), self.client_address[1]))
        Tool.paths.append(self.path)  # a proxied request names the whole URL
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", f"session={self.headers.get('Authorization')[-1]}; Path=/")
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def _serving(handler: type[BaseHTTPRequestHandler]):
    """A toy server answering with ``handler`` on a free loopback port: yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def tool():
    Tool.seen, Tool.paths = [], []
    with _serving(Tool) as url:
        yield url


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


def test_the_environments_proxy_is_used_and_read_once_per_tool(tool, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", tool)  # the toy server stands in for the proxy
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    crm = _client("http://crm.invalid", "proxied")
    crm.call("GET", "/ping")
    monkeypatch.delenv("HTTP_PROXY")
    crm.call("GET", "/again")  # read once: the process keeps the proxy it started with
    assert Tool.paths == ["http://crm.invalid/ping", "http://crm.invalid/again"]


def test_no_proxy_still_sends_a_tool_directly(tool, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    _client(tool, "direct").call("GET", "/ping")
    assert Tool.paths == ["/ping"]


def test_netrc_credentials_are_still_sent_and_read_once_per_tool(tool, tmp_path, monkeypatch):
    import base64

    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login ada password s3cret\n")
    monkeypatch.setenv("NETRC", str(netrc))
    client = Client(provider="toy-netrc", base_url=tool)
    client.call("GET", "/ping")
    netrc.unlink()
    client.call("GET", "/again")  # read once: the process keeps what it found
    basic = "Basic " + base64.b64encode(b"ada:s3cret").decode()
    assert [auth for auth, _, _ in Tool.seen] == [basic, basic]


def test_without_a_netrc_entry_a_call_carries_only_its_own_headers(tool, tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine elsewhere.invalid login bob password other\n")
    monkeypatch.setenv("NETRC", str(netrc))
    for _ in range(2):
        _client(tool, "own").call("GET", "/ping")
    assert [auth for auth, _, _ in Tool.seen] == ["Bearer own", "Bearer own"]


def test_the_ca_bundle_is_checked_on_the_filesystem_once_per_tool_and_still_used(tmp_path, monkeypatch):
    """requests asks whether the bundle exists and is a folder on every request; a tool session asks once."""
    import os.path

    from sync.providers.errors import ProviderError

    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate: nothing listens, so it is never read\n")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    asked: list[str] = []
    for name in ("exists", "isdir"):
        real = getattr(os.path, name)
        monkeypatch.setattr(os.path, name, lambda path, real=real: asked.append(str(path)) or real(path))
    client = _client("https://127.0.0.1:9", "tls")  # nothing listens on port 9
    for _ in range(3):
        with pytest.raises(ProviderError):
            client.call("GET", "/ping")
    assert 0 < asked.count(str(bundle)) <= 3  # once per question, not once per request
    pools = client.session.get_adapter("https://127.0.0.1:9").poolmanager.pools
    settled = [(pool.host, pool.port, pool.cert_reqs, pool.ca_certs) for pool in map(pools.get, pools.keys())]
    assert settled == [("127.0.0.1", 9, "CERT_REQUIRED", str(bundle))]  # the bundle still verifies the tool
    netrc_looks = [path for path in asked if path.endswith("netrc")]
    assert len(netrc_looks) <= 2  # ~/.netrc and ~/_netrc, looked for once


def test_a_missing_ca_bundle_refuses_every_call(monkeypatch, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "gone.pem"))
    client = _client("https://127.0.0.1:9", "missing-bundle")
    for _ in range(2):  # not remembered as fine after the first refusal
        with pytest.raises(OSError, match="CA certificate bundle"):
            client.call("GET", "/ping")


class CutOff(BaseHTTPRequestHandler):
    """Promises a longer body than it sends, then hangs up: a tool (or a proxy) dropping mid-answer."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "100")
        self.end_headers()
        self.wfile.write(b'{"id": ')
        self.wfile.flush()
        self.close_connection = True


def test_an_answer_cut_off_mid_body_is_a_transient_failure_not_a_crash():
    from sync.providers.errors import ProviderError, ReasonCode

    with _serving(CutOff) as url, pytest.raises(ProviderError) as failed:
        _client(url, "cut").call("GET", "/ping")
    assert not failed.value.permanent
    assert failed.value.reason_code == ReasonCode.UNAVAILABLE
