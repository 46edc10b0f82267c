"""gunicorn settings; every value can be overridden from the environment."""

import multiprocessing
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
# Django is imported once in the master and workers are forked from it: a worker recycled by
# max_requests starts in milliseconds instead of spending a second of CPU importing everything
# again (on a 2-core machine that second stalls every request in flight). Nothing opens a
# database, Redis or broker connection at import time, so no socket is shared across the fork.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() not in ("0", "false", "no")
accesslog = "-"
# No client IPs or query strings (search terms can be emails) in the access log.
access_log_format = '"%(m)s %(U)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
