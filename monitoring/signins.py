"""Staff sign-ins counted for the sign-in failure alert, from Django's auth signals.

Django sends ``user_login_failed`` for a wrong password and also when django-axes refuses
a locked-out sign-in, so lockouts count as failures too. Counted in the cache's minute
buckets (``billing.counters``), like the webhook door's rejections: no row per attempt; and in
the Prometheus counter ``/metrics`` exports.
"""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from prometheus_client import Counter

from billing import counters

SIGNIN = "signin"
signins = Counter("switchboard_signins", "Staff sign-in attempts by result", ["outcome"])
for _outcome in ("success", "failure"):
    signins.labels(_outcome)


def _succeeded(sender, **kwargs) -> None:
    counters.incr(SIGNIN, "ok")
    signins.labels("success").inc()


def _failed(sender, **kwargs) -> None:
    counters.incr(SIGNIN, "failed")
    signins.labels("failure").inc()


def connect() -> None:
    user_logged_in.connect(_succeeded, dispatch_uid="monitoring.signin_ok")
    user_login_failed.connect(_failed, dispatch_uid="monitoring.signin_failed")
