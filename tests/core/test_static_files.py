"""What the browser downloads: a favicon, and every script and style sheet also stored compressed."""

import gzip
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse


def test_the_favicon_is_named_by_every_page_and_served(client, owner):
    client.force_login(owner)
    page = client.get(reverse("home")).content.decode()
    assert '<link rel="icon" href="/static/favicon.ico">' in page
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and len(response.content) > 100


def test_collected_static_files_have_compressed_copies_and_hashed_names(tmp_path: Path, settings):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    call_command("collectstatic", "--noinput", verbosity=0)
    for name in ("css/app.css", "js/app.js", "vendor/bootstrap/bootstrap.min.css"):
        original = tmp_path / name
        assert original.is_file() and Path(f"{original}.gz").is_file(), name
        assert Path(f"{original}.gz").stat().st_size < original.stat().st_size / 2, name
        hashed = list(original.parent.glob(f"{original.stem}.*{original.suffix}"))
        assert any(p.name != original.name for p in hashed), name
    assert (tmp_path / "favicon.ico").is_file()


pytestmark = pytest.mark.django_db


def test_pages_are_sent_compressed_to_browsers_that_accept_it(client, owner):
    client.force_login(owner)
    plain = client.get(reverse("home"))
    packed = client.get(reverse("home"), headers={"accept-encoding": "gzip"})
    assert packed["Content-Encoding"] == "gzip"
    assert len(packed.content) < len(plain.content) / 2
    assert gzip.decompress(packed.content).startswith(b"<!doctype html>")


def test_only_staff_screens_load_htmx_the_public_support_form_does_not(client, owner):
    public = client.get(reverse("support_request_new")).content.decode()
    assert "htmx-2" not in public and "htmx-config" not in public and "js/app.js" in public
    client.force_login(owner)
    assert "django_htmx/htmx-2.min.js" in client.get(reverse("home")).content.decode()


def test_hashed_static_files_are_cached_for_good_and_their_plain_names_briefly(tmp_path: Path, settings):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    call_command("collectstatic", "--noinput", verbosity=0)
    hashed = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]["vendor/bootstrap/bootstrap.trimmed.css"]
    client = Client()  # a new handler: WhiteNoise reads the collected files when it starts
    forever = client.get(f"/static/{hashed}")
    assert forever.status_code == 200
    assert "immutable" in forever["Cache-Control"] and "max-age=315360000" in forever["Cache-Control"]
    assert "immutable" not in client.get("/static/vendor/bootstrap/bootstrap.trimmed.css")["Cache-Control"]
