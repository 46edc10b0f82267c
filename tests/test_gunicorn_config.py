"""The web server's settings file: workers are forked from an imported app unless told otherwise."""

import runpy
from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parent.parent / "config" / "gunicorn.py"


@pytest.mark.parametrize(("value", "expected"), [(None, True), ("true", True), ("false", False), ("0", False)])
def test_preload_follows_the_environment(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("GUNICORN_PRELOAD", raising=False)
    else:
        monkeypatch.setenv("GUNICORN_PRELOAD", value)
    settings = runpy.run_path(str(CONFIG))
    assert settings["preload_app"] is expected
    assert settings["max_requests"] > 0  # recycled workers are what preloading makes cheap
