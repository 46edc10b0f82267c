"""The door's baseline: a bare Django view (CSRF-exempt, answers 200, touches nothing) behind the
same middleware as every other page, served beside Switchboard's own URLs by the bench only."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import urlpatterns as site

BARE_PATH = "/bench/bare/"


@csrf_exempt
@login_not_required
def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [path(BARE_PATH.strip("/") + "/", bare), *site]
