"""Outside tools on 127.0.0.1 that fail the way the real ones do, for the few demo jobs that show it.

Started by the seeding and stopped when it ends. It answers HubSpot, Circle and Kit requests at
one address (their paths do not overlap):

- HubSpot: 401 with HubSpot's error body, as for a revoked private-app token;
- Circle: no member by that email (404), then 422 on creating one, because it knows no space
  with the ids asked for;
- Kit: 429 with its plain-text body, and a Retry-After header.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.conf import settings

# Kit documents no Retry-After (its window is a minute); the fake sends one, long enough that the
# demo keeps a job waiting for its retry while someone looks around, and the executor's honouring
# of the header shows on the job.
KIT_RETRY_AFTER = 600


def _hubspot_revoked(sent: dict) -> tuple[int, dict, object]:
    return 401, {}, {
        "status": "error", "category": "INVALID_AUTHENTICATION", "correlationId": "5a3f8e0e-0d2c-4c1b-9f0a-7d1e2b3c4d5e",
        "message": "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
                   "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
    }


def _circle_no_member(sent: dict) -> tuple[int, dict, object]:
    return 404, {}, {"message": "Community member not found"}


def _circle_unknown_space(sent: dict) -> tuple[int, dict, object]:
    wanted = sent.get("space_ids") or [sent.get("space_id")]  # creating a member, or adding one to a space
    spaces = ", ".join(str(s) for s in wanted if s is not None) or "(none)"
    return 422, {}, {"success": False, "message": f"Space not found: {spaces}"}


def _kit_busy(sent: dict) -> tuple[int, dict, object]:
    return 429, {"Retry-After": str(KIT_RETRY_AFTER)}, "Retry later"


# (method or "*", path or path prefix ending in "/") -> answer
ROUTES = {
    ("*", "/crm/"): _hubspot_revoked,
    ("GET", "/community_members/search"): _circle_no_member,
    ("POST", "/community_members"): _circle_unknown_space,
    ("POST", "/space_members"): _circle_unknown_space,
    ("*", "/v4/"): _kit_busy,
}


def _route(method: str, path: str):
    for (want_method, want_path), answer in ROUTES.items():
        if want_method in ("*", method) and (path == want_path or (want_path.endswith("/") and path.startswith(want_path))):
            return answer
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # requests carry customers' emails: nothing is printed
        pass

    def _answer(self) -> None:
        raw_in = self.rfile.read(int(self.headers.get("Content-Length") or 0))  # always read: the connection is kept
        try:
            sent = json.loads(raw_in) if raw_in else {}
        except ValueError:
            sent = {}
        answer = _route(self.command, self.path.split("?")[0])
        status, headers, content = answer(sent if isinstance(sent, dict) else {}) if answer else (404, {}, {"message": "Not found"})
        raw = content.encode() if isinstance(content, str) else json.dumps(content).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if isinstance(content, str) else "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = do_PUT = do_DELETE = _answer


class FailingTools:
    """``with FailingTools() as tools:`` serves on a free port until the block ends."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "FailingTools":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def settings_for(self, tool: str) -> dict:
        """The settings that send one system's jobs to this fake as ``tool``, with a credential it refuses."""
        system, credential, base_url = FAULTY_TOOLS[tool]
        return {"SYNC_PROVIDERS": {**settings.SYNC_PROVIDERS, system: tool}, credential: "demo-credential",
                base_url: self.url}


# tool -> (the system it serves, its credential setting, its base-URL setting)
FAULTY_TOOLS = {
    "hubspot": ("crm", "HUBSPOT_ACCESS_TOKEN", "HUBSPOT_BASE_URL"),
    "circle": ("community", "CIRCLE_API_TOKEN", "CIRCLE_BASE_URL"),
    "kit": ("email", "KIT_API_KEY", "KIT_BASE_URL"),
}
