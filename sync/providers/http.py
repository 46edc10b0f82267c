"""The one way Switchboard talks HTTP to outside systems.

Every call has explicit timeouts, and every failure becomes a ``ProviderError``
that says whether trying again can help. Each exchange is summarised (with
personal data and secrets redacted by ``core.redact``) into the current trace, which the
executor stores on the job's attempt.
"""

import contextlib
import contextvars
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from types import SimpleNamespace
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from requests.cookies import extract_cookies_to_jar
from requests.structures import CaseInsensitiveDict
from requests.utils import get_netrc_auth

from core.redact import TEXT_LIMIT, redact
from sync.providers.errors import ProviderError, ReasonCode

_trace: contextvars.ContextVar[list | None] = contextvars.ContextVar("provider_trace", default=None)
# Inside ``batch_answers``: the answers of the requests sent with ``Client.call_once``, by request.
_answers: contextvars.ContextVar[dict | None] = contextvars.ContextVar("provider_answers", default=None)
# One kept-alive session per tool and credential, for the life of the process: connections are
# reused across jobs and batches, and what one credential's answers set (cookies) never travels
# with another's requests.
_sessions: dict[str, requests.Session] = {}
_sessions_lock = threading.Lock()


class _NoAuth(AuthBase):
    """What ``.netrc`` said for an origin that it has no entry for: send the request as it is."""

    def __call__(self, request):
        return request


class ToolAdapter(HTTPAdapter):
    """An adapter that asks the filesystem about the CA bundle (and a client certificate) once per
    origin, not on every request: requests checks that the files exist and whether they are folders
    each time, system calls that took about 6 % of a jobs worker's profile under load (with the
    look for ``~/.netrc``). A bundle that is missing is still refused, on every request."""

    def __init__(self) -> None:
        super().__init__()
        self._pool_keys: dict[tuple, tuple[dict, dict]] = {}
        self._tls: dict[tuple, dict] = {}

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        parts = urlsplit(request.url)
        key = (parts.scheme.lower(), parts.netloc.lower(), verify, cert)
        if not _hashable(key):
            return super().build_connection_pool_key_attributes(request, verify, cert)
        if key not in self._pool_keys:
            self._pool_keys[key] = super().build_connection_pool_key_attributes(request, verify, cert)
        host, pool = self._pool_keys[key]
        return dict(host), dict(pool)

    def cert_verify(self, conn, url, verify, cert):
        key = (url.lower().startswith("https"), verify, cert)
        if not _hashable(key):
            return super().cert_verify(conn, url, verify, cert)
        if key not in self._tls:
            settled = SimpleNamespace()  # what requests sets on a connection pool for these settings
            super().cert_verify(settled, url, verify, cert)
            self._tls[key] = vars(settled)
        for name, value in self._tls[key].items():
            setattr(conn, name, value)
        return None


def _hashable(key: tuple) -> bool:
    try:
        hash(key)
    except TypeError:
        return False
    return True


class ToolSession(requests.Session):
    """A session that reads the environment's proxy, CA-bundle and ``.netrc`` settings once per origin.

    requests reads them again for every request (it walks the whole environment looking for
    ``*_proxy`` variables, and looks for ``~/.netrc``): about a seventh of an outbound job's time
    under a backlog. They are still honoured (``HTTPS_PROXY``, ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``,
    ``NETRC``); a process that should see new values is restarted, as for any other setting."""

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[str, str], dict] = {}
        self._netrc: dict[tuple[str, str], AuthBase | tuple | None] = {}
        self.mount("https://", ToolAdapter())
        self.mount("http://", ToolAdapter())

    def prepare_request(self, request):
        if self.trust_env and not request.auth and not self.auth:
            request.auth = self._netrc_auth(request.url)
        return super().prepare_request(request)

    def _netrc_auth(self, url: str) -> AuthBase | tuple:
        origin = urlsplit(url)[:2]
        if origin not in self._netrc:
            self._netrc[origin] = get_netrc_auth(url)
        return self._netrc[origin] or _NoAuth()

    def exchange(self, method: str, url: str, *, headers: dict, json_body=None, params=None,
                 auth: tuple[str, str] | None = None, timeout: tuple[float, float]) -> requests.Response:
        """``request(method, url, ..., allow_redirects=False)`` with its body read, for a tool's API
        call: the same adapter, kept-alive pools, proxy, CA bundle, ``.netrc`` and cookies, and the
        same exceptions, without the session's per-request work that such a call never needs
        (merging every setting and hook again, the redirect and history machinery): about a fifth
        of a call's CPU (0.83 -> 0.67 ms per call against a loopback tool, alternated in one process)."""
        request = requests.PreparedRequest()
        request.prepare_method(method)
        request.prepare_url(url, params)
        # The session's default headers, then the call's, as requests merges them.
        merged = CaseInsensitiveDict(self.headers)
        merged.update(headers)
        request.prepare_headers(merged)
        request.prepare_body(None, None, json_body)
        if self.trust_env and not auth and not self.auth:
            auth = self._netrc_auth(url)
        request.prepare_auth(auth, url)
        if self.cookies:
            request.prepare_cookies(self.cookies)
        found = self.merge_environment_settings(url, {}, None, None, None)
        response = self.get_adapter(url).send(request, stream=False, timeout=timeout, verify=found["verify"],
                                              proxies=found["proxies"], cert=found["cert"])
        if response.cookies:
            extract_cookies_to_jar(self.cookies, request, response.raw)
        response.content  # noqa: B018 - read now, inside the caller's error handling, as a session does
        return response

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        if proxies or stream is not None or verify is not None or cert is not None:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        origin = urlsplit(url)[:2]  # NO_PROXY matches hosts: the answer is the same for an origin
        if origin not in self._environment:
            self._environment[origin] = super().merge_environment_settings(url, {}, None, None, None)
        found = self._environment[origin]
        return {**found, "proxies": dict(found["proxies"])}


def session_for(provider: str, base_url: str, credential: str) -> ToolSession:
    key = hashlib.sha256(f"{provider}\0{base_url}\0{credential}".encode()).hexdigest()
    with _sessions_lock:
        if key not in _sessions:
            _sessions[key] = ToolSession()
        return _sessions[key]


@contextlib.contextmanager
def recording() -> Iterator[list]:
    """Collect a redacted summary of every exchange made inside the block."""
    trace: list = []
    token = _trace.set(trace)
    try:
        yield trace
    finally:
        _trace.reset(token)


@contextlib.contextmanager
def batch_answers() -> Iterator[None]:
    """One batch of a tool's jobs: inside the block, a request sent with ``Client.call_once`` is sent
    once and the same request again gets its answer (an upsert that each of a customer's jobs makes
    first). The threads a batch's calls run in share it through their copies of the context."""
    token = _answers.set({})
    try:
        yield
    finally:
        _answers.reset(token)


def record(entry: dict) -> None:
    trace = _trace.get()
    if trace is not None:
        trace.append(entry)


def _retry_after(response: requests.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:
            with contextlib.suppress(TypeError, ValueError):
                return max(0.0, parsedate_to_datetime(raw).timestamp() - time.time())
    reset = response.headers.get("X-RateLimit-Reset")  # Intercom: unix seconds
    if reset and reset.isdigit():
        return max(0.0, int(reset) - time.time())
    return None


PERMANENT_REASONS = {
    400: ReasonCode.VALIDATION,
    401: ReasonCode.AUTH_FAILED,
    403: ReasonCode.AUTH_FAILED,
    404: ReasonCode.NOT_FOUND,
    409: ReasonCode.CONFLICT,
    422: ReasonCode.VALIDATION,
}


def error_for(response: requests.Response, provider: str) -> ProviderError:
    code = response.status_code
    what = f"{provider} answered {code}"
    if code == 429:
        return ProviderError(f"{what}: rate limited", permanent=False, reason_code=ReasonCode.RATE_LIMITED,
                             status_code=code, retry_after=_retry_after(response))
    if code >= 500:
        return ProviderError(f"{what}: unavailable", permanent=False, reason_code=ReasonCode.UNAVAILABLE,
                             status_code=code, retry_after=_retry_after(response))
    reason = PERMANENT_REASONS.get(code, ReasonCode.UNKNOWN)
    return ProviderError(f"{what}: {ReasonCode(reason).label.lower()}", permanent=True, reason_code=reason,
                         status_code=code)


class Client:
    """HTTP to one provider: base URL, auth headers, timeouts, error classification."""

    def __init__(self, *, provider: str, base_url: str, headers: dict | None = None,
                 auth: tuple[str, str] | None = None) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.headers = {"Accept": "application/json", **(headers or {})}
        self.auth = auth
        self.session = session_for(provider, self.base_url, repr((auth, sorted(self.headers.items()))))

    def call(self, method: str, path: str, *, json_body=None, params=None, headers=None,
             accept: tuple[int, ...] = ()) -> tuple[int, dict]:
        """Send one request; return (status, parsed body) for 2xx and ``accept`` codes, else raise."""
        started = time.monotonic()
        entry = {"provider": self.provider, "method": method, "path": path.split("?")[0]}
        if json_body is not None:
            entry["request"] = redact(json_body, cut=True)
        if headers and "Idempotency-Key" in headers:
            entry["idempotency_key"] = headers["Idempotency-Key"]
        try:
            response = self.session.exchange(
                method, self.base_url + path, json_body=json_body, params=params, auth=self.auth,
                headers={**self.headers, **(headers or {})},
                timeout=(settings.SYNC_HTTP_CONNECT_TIMEOUT, settings.SYNC_HTTP_READ_TIMEOUT),
            )
        except requests.Timeout as exc:
            record({**entry, "error": "timeout", "ms": _ms(started)})
            raise ProviderError(f"{self.provider} did not answer in time", permanent=False,
                                reason_code=ReasonCode.TIMEOUT) from exc
        except requests.RequestException as exc:
            record({**entry, "error": type(exc).__name__, "ms": _ms(started)})
            raise ProviderError(f"{self.provider} could not be reached ({type(exc).__name__})",
                                permanent=False, reason_code=ReasonCode.UNAVAILABLE) from exc
        body = _parse(response)
        shown = "[unreadable]" if body is _UNREADABLE else redact(body, cut=True)
        record({**entry, "status": response.status_code, "ms": _ms(started), "response": shown})
        if response.ok and body is _UNREADABLE:
            raise ProviderError(f"{self.provider} sent an unreadable answer", permanent=False,
                                reason_code=ReasonCode.BAD_RESPONSE, status_code=response.status_code)
        if response.ok or response.status_code in accept:
            return response.status_code, body if isinstance(body, dict) else {}
        raise error_for(response, self.provider)

    def call_once(self, method: str, path: str, *, json_body) -> tuple[int, dict]:
        """``call`` for a request whose repeat would get the same answer (an upsert with the same
        body): inside ``batch_answers`` it is sent once, and a repeat is answered from the first
        (its trace says so). A failed request keeps no answer: the next one is sent."""
        answers = _answers.get()
        if answers is None:
            return self.call(method, path, json_body=json_body)
        key = (id(self.session), self.base_url, method, path,
               json.dumps(json_body, sort_keys=True, default=str))
        if key in answers:
            record({"provider": self.provider, "method": method, "path": path.split("?")[0],
                    "request": redact(json_body, cut=True), "answered_earlier_in_batch": True,
                    "status": answers[key][0]})
            return answers[key]
        answers[key] = self.call(method, path, json_body=json_body)
        return answers[key]


_UNREADABLE = object()


def pick(body: dict, *path: str, provider: str):
    """``body[path...]``, or a transient error when the answer lacks it (a garbled success)."""
    value = body
    for key in path:
        if not isinstance(value, dict) or value.get(key) in (None, ""):
            raise ProviderError(f"{provider} answered without {'.'.join(path)}", permanent=False,
                                reason_code=ReasonCode.BAD_RESPONSE)
        value = value[key]
    return value


def _parse(response: requests.Response):
    if not response.content:
        return {}
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        return _UNREADABLE if response.ok else {"text": response.text[:TEXT_LIMIT]}


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
