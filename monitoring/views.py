import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from monitoring.health import broker_ok
from monitoring.metrics import scrape
from monitoring.selectors import health_overview


@require_GET
@permission_required("monitoring.view_health", raise_exception=True)
def system_health(request: HttpRequest) -> HttpResponse:
    return render(request, "monitoring/health.html", {**health_overview(), "broker_ok": broker_ok()})


@require_GET
@never_cache
@login_not_required
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus scrape endpoint; needs ``Authorization: Bearer $METRICS_TOKEN``."""
    expected = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not expected:
        return HttpResponse("metrics are disabled: set METRICS_TOKEN\n", status=403, content_type="text/plain")
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        response = HttpResponse("a valid bearer token is required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST)
