"""Part 6, Lighthouse: performance and accessibility scores of the home page, a customer 360 and the
public support form, with the desktop and the mobile preset.

The app runs as `make run` serves it (DEBUG off, static files collected and compressed by
WhiteNoise, gunicorn) on a temp SQLite data dir seeded with the demo, on 127.0.0.1 only. Lighthouse
is npm's ``lighthouse`` (installed on first use under var/tools/), driving Debian's chromium; the
signed-in pages get the owner's session cookie.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from bench.embedded import embedded_env
from bench.infra import BIN, ROOT, free_port
from bench.report import Section

VERSION = "12.2.3"  # 13 needs Node 22
TOOLS = ROOT / "var" / "tools" / "lighthouse"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
TARGETS = {"performance": 95, "accessibility": 98}
PRESETS = ("desktop", "mobile")
METRICS = ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift",
           "server-response-time", "total-byte-weight", "unused-css-rules", "unused-javascript",
           "mainthread-work-breakdown")


def lighthouse_bin() -> Path:
    binary = TOOLS / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        if not shutil.which("npm"):
            raise RuntimeError("npm is not installed (Debian package 'npm'); Lighthouse is an npm package")
        TOOLS.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(TOOLS), "--no-audit", "--no-fund", "--loglevel=error",
                        f"lighthouse@{VERSION}"], check=True, timeout=600)
    return binary


def _manage(env: dict, *args: str) -> None:
    subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=600,
                   stdout=subprocess.DEVNULL)


def _wait(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


def _demo_password() -> str:
    # Read, not imported: demo.logins needs Django set up, and this process talks to the app over HTTP.
    source = (ROOT / "demo" / "logins.py").read_text()
    return re.search(r'^DEMO_PASSWORD = "([^"]+)"', source, re.MULTILINE).group(1)


def _session_cookie(base: str) -> str:
    with requests.Session() as s:
        s.get(f"{base}/accounts/login/", timeout=10)
        s.post(f"{base}/accounts/login/", timeout=10, headers={"Referer": f"{base}/accounts/login/"},
               data={"username": "owner@demo.switchboard.test", "password": _demo_password(),
                     "csrfmiddlewaretoken": s.cookies["csrftoken"]})
        if "sessionid" not in s.cookies:
            raise RuntimeError("the owner's demo login was refused")
        return f"sessionid={s.cookies['sessionid']}; csrftoken={s.cookies['csrftoken']}"


def _a_customer_360(base: str, cookie: str) -> str:
    page = requests.get(f"{base}/customers/?status=past_due", headers={"Cookie": cookie}, timeout=10).text
    start = page.index('href="/customers/sw_') + len('href="')
    return page[start:page.index('"', start)]


def score(binary: Path, url: str, preset: str, cookie: str, out: Path) -> dict:
    cmd = [str(binary), url, "--quiet", "--output=json", f"--output-path={out}",
           "--only-categories=performance,accessibility",
           "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"]
    if preset == "desktop":
        cmd.append("--preset=desktop")
    if cookie:
        cmd.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    subprocess.run(cmd, check=True, timeout=300, env={**os.environ, "CHROME_PATH": CHROME},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    report = json.loads(out.read_text())
    scores = {name: round(cat["score"] * 100) for name, cat in report["categories"].items() if cat["score"] is not None}
    # What a missed performance score is made of, for whoever improves it.
    shown = {audit: report["audits"].get(audit, {}).get("displayValue", "") for audit in METRICS}
    scores["metrics"] = ", ".join(f"{audit} {value}" for audit, value in shown.items() if value)
    return scores


def run(section: Section) -> dict[str, dict]:
    binary = lighthouse_bin()
    data = Path(tempfile.mkdtemp(prefix="switchboard-lighthouse-"))
    port = free_port()
    env = embedded_env(data, port)
    base = f"http://127.0.0.1:{port}"
    web = None
    try:
        _manage(env, "migrate", "--noinput", "-v0")
        _manage(env, "collectstatic", "--noinput", "-v0")
        _manage(env, "seed_demo")
        web = subprocess.Popen([str(BIN / "gunicorn"), "config.wsgi", "--config", "config/gunicorn.py", "--bind",
                                f"127.0.0.1:{port}", "--workers", "2", "--log-level", "warning"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(f"{base}/healthz")
        cookie = _session_cookie(base)
        pages = {"home page": ("/", cookie), "customer 360": (_a_customer_360(base, cookie), cookie),
                 "public support form": ("/support/new", "")}
        scores: dict[str, dict] = {}
        for name, (path, with_cookie) in pages.items():
            for preset in PRESETS:
                got = score(binary, base + path, preset, with_cookie, data / f"{name}-{preset}.json".replace(" ", "-"))
                scores[f"{name} ({preset})"] = got
                for category, target in TARGETS.items():
                    value = got.get(category)
                    section.row(f"{name}, {preset}", category, value if value is not None else "n/a",
                                target=f">= {target}", met=None if value is None else value >= target)
                section.note(f"{name}, {preset}: {got['metrics']}")
                print(f"  {name} ({preset}): {got}", flush=True)
        section.note(f"Lighthouse {VERSION} with {CHROME}, headless; the app as `make run` serves it (gunicorn, "
                     "DEBUG off, WhiteNoise compressed static files), demo data, signed in as the owner.")
        return scores
    finally:
        if web is not None:
            web.terminate()
            try:
                web.wait(timeout=10)
            except subprocess.TimeoutExpired:
                web.kill()
        shutil.rmtree(data, ignore_errors=True)
