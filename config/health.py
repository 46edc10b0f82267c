"""Liveness and readiness probes for load balancers and process managers."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app


@require_GET
@never_cache
@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return False
    return True


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0)
    except Exception:
        return False
    return True


def _heartbeats_ok() -> dict[str, bool]:
    from monitoring.heartbeats import heartbeats_stale

    try:
        stale = heartbeats_stale()
    except Exception:  # noqa: BLE001 - the database check already reports why
        stale = ["worker", "scheduler"]
    return {"worker": "worker" not in stale, "scheduler": "scheduler" not in stale}


def readiness() -> dict[str, bool]:
    """Database and broker answer, and a worker and the scheduler have shown life recently."""
    database = _database_ok()
    checks = {"database": database, "broker": _broker_ok()}
    checks.update(_heartbeats_ok() if database else {"worker": False, "scheduler": False})
    return checks


@require_GET
@never_cache
@login_not_required
def readyz(request: HttpRequest) -> JsonResponse:
    checks = readiness()
    down = sorted(name for name, ok in checks.items() if not ok)
    if down:
        return JsonResponse({"status": "unavailable", "down": down, "checks": checks}, status=503)
    return JsonResponse({"status": "ok", "checks": checks})
