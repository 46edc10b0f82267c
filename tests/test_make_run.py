"""`make run` on this checkout: web server, real worker and scheduler, demo logins, clean Ctrl-C."""

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_using(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def start(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        ["make", "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        try:
            if requests.get(f"{base}/readyz", timeout=10).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or still starting up
            pass
        time.sleep(0.5)
    raise AssertionError("make run did not become ready")


def ctrl_c(proc: subprocess.Popen) -> str:
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
    output, _ = proc.communicate(timeout=60)
    return output


def sign_in(base: str, email: str, password: str) -> requests.Response:
    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=5)
    token = session.cookies["csrftoken"]
    return session.post(
        f"{base}/accounts/login/",
        data={"username": email, "password": password, "csrfmiddlewaretoken": token},
        timeout=5,
    )


def test_make_run_serves_every_demo_login_runs_a_worker_and_stops_cleanly(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ENV"}}
    env.update(PORT=str(port), SWITCHBOARD_DATA_DIR=str(tmp_path))

    for run in (1, 2):  # the second run finds everything in place
        proc = start(env)
        try:
            wait_ready(base, proc)
            login_page = requests.get(f"{base}/accounts/login/", timeout=5)
            assert login_page.status_code == 200 and "Sign in to Switchboard" in login_page.text
            ping = subprocess.run(
                [str(ROOT / ".venv/bin/celery"), "-A", "config", "inspect", "ping", "--timeout", "10"],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
            )
            assert "pong" in ping.stdout, ping.stdout + ping.stderr
            for role in ("owner", "finance", "support"):
                home = sign_in(base, f"{role}@demo.switchboard.test", "switchboard-demo")
                assert home.status_code == 200 and "Needs action now" in home.text, role
        finally:
            output = ctrl_c(proc) if proc.poll() is None else proc.stdout.read()
        assert f"http://127.0.0.1:{port}" in output
        assert re.search(r"owner\s+owner@demo\.switchboard\.test", output)
        deadline = time.monotonic() + 15
        while processes_using(str(tmp_path)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert processes_using(str(tmp_path)) == [], f"stray processes after Ctrl-C (run {run})"
