"""A loopback fake of Stripe's subscription endpoints (update, cancel, invoice preview), enough for the real
``stripe`` SDK to talk to. Like Stripe, it answers the same ``Idempotency-Key`` with the same reply and acts once."""

import json
import re
import threading
import time
from urllib.parse import parse_qsl

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests import stripe_events as se
from tests.billing.stripe_fake import API_KEY, StripeRefundsFake


class StripeSubscriptionsFake:
    def __init__(self) -> None:
        self.refunds = StripeRefundsFake()  # the same loopback Stripe answers refunds too
        self.server: HTTPServer = self.refunds.server
        self.lock = threading.Lock()
        self.subscriptions: dict[str, dict] = {}
        self.prices: dict[str, dict] = {}
        self.by_key: dict[str, tuple[int, dict]] = {}
        self.requests: list[dict] = []
        self.acted = 0  # changes really made (replays excluded)
        self.slow_first = 0.0  # seconds to wait before answering the first change (after making it)
        self.error: tuple[int, str, str] | None = None  # (status, code, message) for the next changes
        self.proration = 1200  # the preview's proration line

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def add(self, sub: dict) -> dict:
        self.subscriptions[sub["id"]] = sub
        return sub

    def start(self) -> "StripeSubscriptionsFake":
        self.server.expect_request(re.compile(r"^/v1/subscriptions/[^/]+$")).respond_with_handler(self._handle)
        self.server.expect_request("/v1/invoices/create_preview", method="POST").respond_with_handler(self._preview)
        self.refunds.start()
        return self

    def stop(self) -> None:
        self.refunds.stop()

    def _handle(self, request: Request) -> Response:
        form = dict(parse_qsl(request.get_data(as_text=True), keep_blank_values=True))
        key = request.headers.get("Idempotency-Key", "")
        sid = request.path.rsplit("/", 1)[1]
        self.requests.append({"method": request.method, "path": request.path, "form": form, "key": key})
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return _json(401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}})
        with self.lock:
            if key and key in self.by_key:
                return _json(*self.by_key[key], replayed=True)
            status, body = self._act(request.method, sid, form)
            if key and status < 500:
                self.by_key[key] = (status, body)
            first = self.acted == 1 and status == 200
        if first and self.slow_first:
            time.sleep(self.slow_first)  # the change is made; the client gives up before hearing so
        return _json(status, body)

    def _act(self, method: str, sid: str, form: dict) -> tuple[int, dict]:
        if self.error:
            status, code, message = self.error
            return status, {"error": {"type": "invalid_request_error", "code": code, "message": message}}
        sub = self.subscriptions.get(sid)
        if sub is None:
            return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                   "message": f"No such subscription: '{sid}'"}}
        self.acted += 1
        if method == "DELETE":
            sub.update(status="canceled", canceled_at=int(time.time()), ended_at=int(time.time()))
            return 200, sub
        if "cancel_at_period_end" in form:
            sub["cancel_at_period_end"] = form["cancel_at_period_end"] == "true"
        if "trial_end" in form:
            sub["trial_end"] = int(form["trial_end"])
        if form.get("pause_collection[behavior]"):
            sub["pause_collection"] = {"behavior": form["pause_collection[behavior]"],
                                       "resumes_at": int(form["pause_collection[resumes_at]"])}
        elif "pause_collection" in form:
            sub["pause_collection"] = None
        if form.get("items[0][price]"):
            new = self.prices[form["items[0][price]"]]
            item = sub["items"]["data"][0]
            item["price"] = new
            item["plan"] = {**item["plan"], "id": new["id"], "amount": new["unit_amount"], "nickname": new["nickname"]}
            sub["plan"] = item["plan"]
        return 200, sub

    def _preview(self, request: Request) -> Response:
        form = dict(parse_qsl(request.get_data(as_text=True)))
        self.requests.append({"method": "POST", "path": request.path, "form": form, "key": ""})
        new = self.prices[form["subscription_details[items][0][price]"]]
        lines = [
            {"amount": self.proration, "parent": {"subscription_item_details": {"proration": True}}},
            {"amount": new["unit_amount"], "parent": {"subscription_item_details": {"proration": False}}},
        ]
        body = {"object": "invoice", "currency": "usd", "amount_due": self.proration + new["unit_amount"],
                "lines": {"object": "list", "data": lines}}
        return _json(200, body)


def _json(status: int, body: dict, replayed: bool = False) -> Response:
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")


@pytest.fixture
def subs_fake(settings):
    """A started fake with the settings pointing the SDK at it; no SDK retries unless a test asks."""
    fake = StripeSubscriptionsFake().start()
    settings.STRIPE_API_KEY = API_KEY
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_CONNECT_TIMEOUT = 2
    settings.STRIPE_READ_TIMEOUT = 5
    yield fake
    fake.stop()


def enterprise_price() -> dict:
    return se.price(amount=9900, nickname="Enterprise")
