"""A loopback receiver that verifies every delivery with the standardwebhooks reference verifier.

``answers`` is the queue of replies to give, in order (status, headers, delay seconds); once it is
empty every delivery gets 204. Each delivery is kept with its headers and whether it verified.
"""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


class Receiver:
    def __init__(self, *secrets: str) -> None:
        self.secrets = list(secrets)
        self.answers: list[tuple[int, dict, float]] = []
        self.deliveries: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def verified_by(self, secret: str, delivery: dict) -> bool:
        try:
            Webhook(secret).verify(delivery["body"], delivery["headers"])
            return True
        except WebhookVerificationError:
            return False

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                delivery = {"body": body, "headers": {k.lower(): v for k, v in self.headers.items()}}
                delivery["verified"] = [receiver.verified_by(s, delivery) for s in receiver.secrets]
                receiver.deliveries.append(delivery)
                status, headers, delay = receiver.answers.pop(0) if receiver.answers else (204, {}, 0.0)
                time.sleep(delay)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler
