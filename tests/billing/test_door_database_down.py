import json
import os
import subprocess
import sys
from pathlib import Path

from tests import stripe_events as se

ROOT = Path(__file__).resolve().parents[2]


def test_the_door_answers_503_when_the_database_is_unavailable_so_stripe_retries():
    # A real process whose database refuses connections (nothing listens on port 1).
    raw = se.body(se.event("customer.created", se.customer("cus_D1")))
    code = (
        "import django, sys; django.setup();"
        "from django.test import Client;"
        f"r = Client().post('/webhooks/stripe/', data={raw!r}, content_type='application/json',"
        f" HTTP_STRIPE_SIGNATURE={se.sign(raw)!r});"
        "print(r.status_code, r.content.decode())"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DJANGO_SETTINGS_MODULE="config.test_settings",
        DATABASE_URL="postgres://postgres@127.0.0.1:1/none",
        STRIPE_WEBHOOK_SECRETS=se.SECRET,
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    status, _, body = result.stdout.strip().partition(" ")
    assert status == "503", result.stdout + result.stderr
    assert json.loads(body) == {"error": "temporarily unavailable"}
