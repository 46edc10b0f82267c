"""Outside the suite Switchboard runs as the product, not a debugger: DEBUG off unless a developer asks,
static files collected with hashed, compressed copies, the product's own error pages, quiet refusals,
and a favicon."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def settings_as_run(tmp_path: Path, expression: str, **env: str) -> str:
    """A settings value as `make run` (DJANGO_ENV=development) sees it, with ``env`` added."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ENV", "DJANGO_SETTINGS_MODULE"}}
    done = subprocess.run(
        [sys.executable, "-c", f"import config.settings as s; print({expression})"], cwd=ROOT,
        env={**clean, "DJANGO_ENV": "development", "SWITCHBOARD_DATA_DIR": str(tmp_path), **env},
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_debug_is_off_unless_a_developer_turns_it_on(tmp_path):
    assert settings_as_run(tmp_path, "s.DEBUG") == "False"
    assert settings_as_run(tmp_path, "s.DEBUG", DEBUG="true") == "True"


def test_static_files_are_served_from_a_collected_manifest_with_compressed_copies(tmp_path):
    backend = settings_as_run(tmp_path, "s.STORAGES['staticfiles']['BACKEND'], s.STATIC_ROOT")
    assert backend == f"whitenoise.storage.CompressedManifestStaticFilesStorage {tmp_path / 'static'}"


@pytest.mark.django_db
def test_a_missing_page_is_the_products_own_404(client):
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert b"There is nothing here" in page.content and b"Back to Needs action now" in page.content


def test_refusals_write_no_log_line(client, support, caplog):
    caplog.set_level(logging.DEBUG)
    client.force_login(support)
    assert client.get("/system/health/").status_code == 403
    assert client.get("/no-such-page/").status_code == 404
    loud = [(r.name, r.getMessage()) for r in caplog.records if r.levelno >= logging.WARNING]
    assert loud == []


def test_the_favicon_is_an_icon_anyone_may_fetch(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/vnd.microsoft.icon"
    assert icon.content.startswith(b"\x00\x00\x01\x00")  # the ICO header
    assert "max-age=86400" in icon["Cache-Control"]
