"""A loopback fake of Stripe's refunds API, enough for the real ``stripe`` SDK to talk to.

It honours ``Idempotency-Key`` the way Stripe does (same key, same answer; the
refund is created once) and counts the refunds it really created.
"""

import itertools
import json
import threading
import time
from urllib.parse import parse_qsl

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

API_KEY = "sk_test_switchboard_fake_key_0123456789"
_ids = itertools.count(1)

ERRORS = {
    "charge_already_refunded": (400, "invalid_request_error", "Charge {charge} has already been refunded."),
    "charge_disputed": (400, "invalid_request_error", "Charge {charge} has been charged back; cannot issue a refund."),
    "balance_insufficient": (400, "invalid_request_error", "You have insufficient funds in your Stripe account."),
    "amount_too_large": (400, "invalid_request_error", "Refund amount is greater than unrefunded amount on charge."),
    "api_error": (500, "api_error", "An unknown error occurred."),
}


class StripeRefundsFake:
    def __init__(self) -> None:
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.lock = threading.Lock()
        self.refunds: dict[str, dict] = {}
        self.by_key: dict[str, tuple[int, dict]] = {}
        self.requests: list[dict] = []
        self.errors: dict[str, str] = {}  # charge id -> error code above
        self.slow_first: float = 0.0  # seconds to wait before answering the first request (after creating)
        self.refund_status = "succeeded"
        self.fail_auth = False

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    @property
    def created(self) -> int:
        return len(self.refunds)

    def start(self) -> "StripeRefundsFake":
        self.server.expect_request("/v1/refunds", method="POST").respond_with_handler(self._create)
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server.is_running():
            self.server.clear()
            self.server.stop()

    def _create(self, request: Request) -> Response:
        form = dict(parse_qsl(request.get_data(as_text=True)))
        key = request.headers.get("Idempotency-Key", "")
        self.requests.append({"form": form, "key": key, "auth": request.headers.get("Authorization", "")})
        if self.fail_auth or request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return self._error(401, "invalid_request_error", "Invalid API Key provided.", "")
        with self.lock:
            if key and key in self.by_key:
                status, body = self.by_key[key]
                return self._json(status, body, replayed=True)
            status, body = self._answer(form)
            if key and status < 500:
                self.by_key[key] = (status, body)
            first = len(self.requests) == 1
        if first and self.slow_first:
            time.sleep(self.slow_first)  # the refund exists; the client gives up before hearing so
        return self._json(status, body)

    def _answer(self, form: dict) -> tuple[int, dict]:
        charge = form.get("charge", "")
        code = self.errors.get(charge)
        if code:
            status, kind, message = ERRORS[code]
            return status, {"error": {"type": kind, "code": code, "message": message.format(charge=charge)}}
        refund_id = f"re_fake{next(_ids):010d}"
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": int(form.get("amount", 0)),
            "charge": charge,
            "created": int(time.time()),
            "currency": "usd",
            "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
            "reason": form.get("reason"),
            "status": self.refund_status,
            "failure_reason": None,
        }
        self.refunds[refund_id] = refund
        return 200, refund

    def _error(self, status: int, kind: str, message: str, code: str) -> Response:
        return self._json(status, {"error": {"type": kind, "message": message, "code": code or None}})

    @staticmethod
    def _json(status: int, body: dict, replayed: bool = False) -> Response:
        headers = {"Request-Id": f"req_fake{next(_ids)}"}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")


@pytest.fixture
def stripe_fake(settings):
    """A started fake with the settings pointing the SDK at it; no SDK retries unless a test asks."""
    fake = StripeRefundsFake().start()
    settings.STRIPE_API_KEY = API_KEY
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_CONNECT_TIMEOUT = 2
    settings.STRIPE_READ_TIMEOUT = 5
    yield fake
    fake.stop()
