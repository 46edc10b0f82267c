"""`make run` on this checkout: web server, real worker and scheduler under the supervisor, the product's
own pages (no debugger), demo logins once everything is up, a killed worker replaced, clean Ctrl-C."""

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from bench.embedded import alive, processes_using
from bench.infra import free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.process
LOGIN_LINE = re.compile(r"owner\s+owner@demo\.switchboard\.test")
STARTED = re.compile(r"supervise\s*\| (\w+) (started|restarted) \(pid (\d+)")


class MakeRun:
    """`make run` in its own process group; its output read as it comes. The moment the demo logins
    appear, /readyz is asked once: they must not be printed before the product is up."""

    def __init__(self, env: dict, base: str) -> None:
        self.base = base
        self.lines: list[str] = []
        self.ready_when_logins_printed: int | None = None
        self.proc = subprocess.Popen(["make", "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            if self.ready_when_logins_printed is None and LOGIN_LINE.search(line):
                self.ready_when_logins_printed = _status(f"{self.base}/readyz")
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def pids(self) -> list[tuple[str, str, int]]:
        return [(name, how, int(pid)) for name, how, pid in STARTED.findall(self.output)]

    def wait_for(self, check, what: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert self.proc.poll() is None, f"make run exited:\n{self.output}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{self.output}"
            time.sleep(0.5)

    def ctrl_c(self) -> str:
        os.killpg(self.proc.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
        self.proc.wait(timeout=60)
        self.reader.join(10)
        return self.output


def _status(url: str) -> int:
    try:
        return requests.get(url, timeout=10).status_code
    except requests.RequestException:
        return 0


def sign_in(base: str, email: str, password: str) -> tuple[requests.Session, requests.Response]:
    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=5)
    token = session.cookies["csrftoken"]
    home = session.post(
        f"{base}/accounts/login/",
        data={"username": email, "password": password, "csrfmiddlewaretoken": token},
        timeout=5,
    )
    return session, home


def check_the_product_answers(run: MakeRun, base: str) -> None:
    login_page = requests.get(f"{base}/accounts/login/", timeout=5)
    assert login_page.status_code == 200 and "Sign in to Switchboard" in login_page.text
    for role in ("owner", "finance", "support"):
        session, home = sign_in(base, f"{role}@demo.switchboard.test", "switchboard-demo")
        assert home.status_code == 200 and "Needs action now" in home.text, role
        # Django's debug mode adds django-htmx's script, which puts a failed action's raw body in place of the page.
        assert "django-htmx.js" not in home.text and "js/app." in home.text
    # Not a debugger: the product's own 404 page, its own 403, a favicon, static files compressed.
    missing = requests.get(f"{base}/no-such-page/", timeout=5)
    assert missing.status_code == 404 and "There is nothing here" in missing.text
    assert "URLconf" not in missing.text and "DEBUG = True" not in missing.text
    refused = session.get(f"{base}/system/health/", timeout=5)  # support may not see system health
    assert refused.status_code == 403 and "You do not have permission" in refused.text
    icon = requests.get(f"{base}/favicon.ico", timeout=5)
    assert icon.status_code == 200 and icon.headers["Content-Type"].startswith("image/")
    stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', login_page.text)
    assert stylesheet, "static URLs carry a content hash (collected, manifest storage)"
    css = requests.get(base + stylesheet[1], headers={"Accept-Encoding": "gzip"}, timeout=5)
    assert css.status_code == 200 and css.headers.get("Content-Encoding") == "gzip"


def test_make_run_serves_the_product_keeps_running_when_the_worker_dies_and_stops_cleanly(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ENV", "DEBUG", "LOG_LEVEL"}}
    env.update(PORT=str(port), SWITCHBOARD_DATA_DIR=str(tmp_path))

    for run_number in (1, 2):  # the second run finds everything in place
        run = MakeRun(env, base)
        try:
            run.wait_for(lambda: "Switchboard is running at" in run.output, "the banner after the demo logins")
            ping = subprocess.run(
                [str(ROOT / ".venv/bin/celery"), "-A", "config", "inspect", "ping", "--timeout", "10"],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
            )
            assert "pong" in ping.stdout, ping.stdout + ping.stderr
            check_the_product_answers(run, base)
            if run_number == 1:
                first = {name: pid for name, _, pid in run.pids()}
                os.kill(first["worker"], signal.SIGKILL)
                run.wait_for(lambda: any(how == "restarted" for _, how, _ in run.pids()), "the worker's restart")
                assert [(n, h) for n, h, _ in run.pids()] == [
                    ("web", "started"), ("worker", "started"), ("events", "started"), ("beat", "started"),
                    ("worker", "restarted")]
                assert alive(first["web"]) and alive(first["beat"])
                assert _status(f"{base}/accounts/login/") == 200
        finally:
            output = run.ctrl_c() if run.proc.poll() is None else run.output
        assert run.ready_when_logins_printed == 200, output
        banner = output.index(f"Switchboard is running at http://127.0.0.1:{port}")
        logins = LOGIN_LINE.search(output).start()
        assert output.index("supervise | beat started") < logins < banner
        assert "Traceback" not in output and "Forbidden" not in output and "Not Found" not in output, output
        if run_number == 1:
            assert "worker exited (killed by SIGKILL)" in output
        deadline = time.monotonic() + 15
        while processes_using(str(tmp_path)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert processes_using(str(tmp_path)) == [], f"stray processes after Ctrl-C (run {run_number})"
