"""Probes: liveness, readiness (for load balancers) and deep health (for uptime monitors).

Readiness asks one thing: can this web process serve? The webhook door needs only the
database, so a load balancer following /readyz keeps sending Stripe's deliveries while a
worker, the scheduler or Redis is down; those belong to /healthz/deep, the health screen and
the alerts, so someone is told without the door closing.
"""

# The project's app (config.celery): Celery's Django fixup makes it the default in every thread.
from celery import current_app as celery_app
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from monitoring.heartbeats import heartbeats_stale


@require_GET
@never_cache
@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return False
    return True


def broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0)
    except Exception:
        return False
    return True


def _heartbeats_ok() -> dict[str, bool]:
    try:
        stale = heartbeats_stale()
    except Exception:  # noqa: BLE001 - the database check already reports why
        stale = ["worker", "scheduler"]
    return {"worker": "worker" not in stale, "scheduler": "scheduler" not in stale}


def deep_health() -> dict[str, bool]:
    """Database and broker answer, and a worker and the scheduler have shown life recently."""
    database = database_ok()
    checks = {"database": database, "broker": broker_ok()}
    checks.update(_heartbeats_ok() if database else {"worker": False, "scheduler": False})
    return checks


def _answer(checks: dict[str, bool]) -> JsonResponse:
    down = sorted(name for name, ok in checks.items() if not ok)
    if down:
        return JsonResponse({"status": "unavailable", "down": down, "checks": checks}, status=503)
    return JsonResponse({"status": "ok", "checks": checks})


@require_GET
@never_cache
@login_not_required
def readyz(request: HttpRequest) -> JsonResponse:
    """For load balancers: 503 only when this process cannot reach its database."""
    return _answer({"database": database_ok()})


@require_GET
@never_cache
@login_not_required
def healthz_deep(request: HttpRequest) -> JsonResponse:
    """For uptime monitors: 503 naming whatever background part is down.

    Public on purpose, like /healthz: an outside monitor should need no secret (and a leaked one
    would also open /metrics), and the answer is four booleans, no counts, names or versions.
    """
    return _answer(deep_health())
