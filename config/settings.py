"""Switchboard settings, read from the environment (see .env.example).

With no environment at all Switchboard runs embedded: a SQLite file and a
file-backed Celery broker under ./var, demo logins allowed. DEBUG is off
everywhere unless a developer sets DEBUG=true.
DJANGO_ENV=production turns every safety on and refuses to start while a
required variable is missing.
"""

import logging
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF

from config.logconfig import logging_config
from config.metrics_dir import metrics_dir_prepare
from core.keys import INSECURE_SECRET_KEY, is_live_key
from sync.providers import settings_from_env as sync_tool_settings

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise SystemExit(
        f"Switchboard cannot start: DJANGO_ENV must be development, test or production (got {DJANGO_ENV!r})."
    )
PRODUCTION = DJANGO_ENV == "production"
TESTING = DJANGO_ENV == "test"


def required(name: str, *, insecure: tuple[str, ...] = ()) -> str:
    """Return a variable that production cannot run without, or stop start-up."""
    value = env.str(name, default="").strip()
    if PRODUCTION and (not value or value in insecure):
        state = "has an insecure default value" if value else "is not set"
        raise SystemExit(
            f"Switchboard cannot start in production: {name} {state}; see .env.example."
        )
    return value


VAR_DIR = Path(env.str("SWITCHBOARD_DATA_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)
# Before anything imports prometheus-client: every process of this machine adds its samples there.
PROMETHEUS_MULTIPROC_DIR = metrics_dir_prepare(VAR_DIR)

SECRET_KEY = required("SECRET_KEY", insecure=(INSECURE_SECRET_KEY,)) or INSECURE_SECRET_KEY
# Off unless asked for: `make run` shows the product (its own error pages, friendly htmx errors).
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[]) if PRODUCTION else ["*"]
if PRODUCTION and not ALLOWED_HOSTS:
    required("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
DEMO_LOGINS = env.bool("DEMO_LOGINS", default=not PRODUCTION)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "guardian",
    "auditlog",
    "axes",
    "django_structlog",
    "accounts",
    "action_queue",
    "customers",
    "billing",
    "sync",
    "support",
    "audit",
    "monitoring",
    "demo",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Stripe's POSTs are answered here, past everything below (none of it serves the door).
    "billing.webhooks.StripeDoorMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages shrink ~10x (the queue's 58 kB to 6 kB); Django pads each answer against BREACH. Static
    # files never get here: WhiteNoise above serves its own compressed copies.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "accounts.middleware.RoleRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "axes.middleware.AxesMiddleware",
    "core.toasts.HtmxMessagesMiddleware",  # after MessageMiddleware: it hands htmx answers their messages
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'switchboard.sqlite3'}"
    )
}
if PRODUCTION:
    required("DATABASE_URL")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and scheduler write to one file: take the write lock at BEGIN
    # (no upgrade deadlocks) and let readers run beside the writer (WAL).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, inserting rows with JSON its older way (config/postgresql/compiler.py).
        DATABASES["default"]["ENGINE"] = "config.postgresql"
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        # Parameters sent apart from the SQL, and a statement a connection has run 5 times (psycopg's
        # threshold) prepared: PostgreSQL then parses and plans each of the few statements every event
        # and job repeats once per connection, not on every run. Off for a pooler that cannot keep
        # prepared statements (PgBouncer in transaction mode before 1.21).
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker and cache (embedded mode runs without it) --------------------
REDIS_URL = required("REDIS_URL")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        }
    }
elif TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
else:
    # Embedded mode: web processes, worker and scheduler share counters and rate limits
    # through files (approximate under contention, which is fine on one laptop).
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache")}
    }
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# --- Celery -------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # kombu's Redis transport, except that a Redis restart cannot kill a worker (see config/broker.py).
    CELERY_BROKER_TRANSPORT = "config.broker:RedisTransport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
else:
    BROKER_DIR.mkdir(parents=True, exist_ok=True)
    # kombu's file-system transport, publishing atomically and dropping unreadable files (config/broker.py).
    CELERY_BROKER_URL = "switchboard-files://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # The file queue is polled; kombu's default of once a second caps a worker near 1 job/s.
        "polling_interval": 0.1,
    }
    (BROKER_DIR / "control").mkdir(exist_ok=True)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 10
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task running when the broker connection drops finishes its work (the row records it; the
# lost ack only brings back a message that then does nothing) rather than being killed halfway.
# Celery 6 turns this on by default; stated here so an upgrade does not change it unnoticed.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# A publish that cannot reach the broker gives up quickly: the row in the
# database is the record and the sweeper sends it again.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=TESTING)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# How often the scheduler re-sends events whose wake-up was lost, and how old a still-unprocessed
# event must be before its wake-up counts as lost.
STRIPE_EVENT_SWEEP_SECONDS = env.int("STRIPE_EVENT_SWEEP_SECONDS", default=30)
STRIPE_EVENT_SWEEP_GRACE_SECONDS = env.int("STRIPE_EVENT_SWEEP_GRACE_SECONDS", default=60)
CELERY_BEAT_SCHEDULE: dict = {
    "billing-sweep-events": {"task": "billing.sweep_events", "schedule": float(STRIPE_EVENT_SWEEP_SECONDS)},
    "billing-resend-refunds": {"task": "billing.resend_unconfirmed_refunds", "schedule": 120.0},
    "billing-resend-subscription-changes": {"task": "billing.resend_subscription_changes", "schedule": 120.0},
}
DJANGO_STRUCTLOG_CELERY_ENABLED = True
# Request lines name the client by a keyed hash (audit/request_logging.py), never by its address;
# 4xx answers go below the logger's WARNING threshold (expected refusals print nothing).
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False
DJANGO_STRUCTLOG_STATUS_4XX_LOG_LEVEL = logging.INFO
# Workers log through Django's LOGGING (JSON lines in production), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Stripe -------------------------------------------------------------------
STRIPE_WEBHOOK_SECRETS = [
    s.strip()
    for s in (required("STRIPE_WEBHOOK_SECRETS") or "").split(",")
    if s.strip()
]
STRIPE_API_KEY = env.str("STRIPE_API_KEY", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_CONNECT_TIMEOUT = env.float("STRIPE_CONNECT_TIMEOUT", default=5)
STRIPE_READ_TIMEOUT = env.float("STRIPE_READ_TIMEOUT", default=30)
# The SDK retries timeouts and 5xx with the same idempotency key, so a retry never refunds twice.
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# Refunds above this amount (minor units, any currency) wait for an owner's approval.
REFUND_APPROVAL_THRESHOLD = env.int("REFUND_APPROVAL_THRESHOLD", default=50000)
# Per currency, in its own minor units ("jpy=80000,kwd=150000"); others scale the one above by their exponent.
REFUND_APPROVAL_THRESHOLDS = {
    code.lower(): int(value) for code, value in env.dict("REFUND_APPROVAL_THRESHOLDS", default={}).items()
}
# Which Stripe mode this install serves; events of the other mode are stored, flagged, not applied.
STRIPE_LIVEMODE = env.bool("STRIPE_LIVEMODE", default=is_live_key(STRIPE_API_KEY))

STRIPE_WEBHOOK_RATE_LIMIT = env.str("STRIPE_WEBHOOK_RATE_LIMIT", default="6000/m")  # per address, per web process
# Workers that take the events queue look for new events this often and send them in batches.
STRIPE_EVENT_WATCH_SECONDS = env.float("STRIPE_EVENT_WATCH_SECONDS", default=0.1)
STRIPE_EVENT_BATCH_SIZE = env.int("STRIPE_EVENT_BATCH_SIZE", default=20)
STRIPE_EVENT_MAX_ATTEMPTS = env.int("STRIPE_EVENT_MAX_ATTEMPTS", default=8)
STRIPE_EVENT_RETRY_BASE_SECONDS = env.int("STRIPE_EVENT_RETRY_BASE_SECONDS", default=30)
STRIPE_EVENT_RETRY_MAX_SECONDS = env.int("STRIPE_EVENT_RETRY_MAX_SECONDS", default=3600)

# --- Support (support/; the desk's webhook is Zendesk's: sync/providers/zendesk/) ------------
# Per client address, on the public form at /support/new.
SUPPORT_FORM_RATE_LIMIT = env.str("SUPPORT_FORM_RATE_LIMIT", default="10/h")
# Per API key, on the product apps' ticket intake at /support/intake/tickets.
SUPPORT_INTAKE_RATE_LIMIT = env.str("SUPPORT_INTAKE_RATE_LIMIT", default="60/m")

# --- Outbound sync (sync/) ----------------------------------------------------------
# Each outside tool's folder (sync/providers/<tool>/conf.py) names the variables it reads, their
# defaults and its published rate limit. Read here: the tools' settings (HUBSPOT_ACCESS_TOKEN...),
# which tool serves each system (SYNC_<SYSTEM>_PROVIDER, into SYNC_PROVIDERS; a tool without
# credentials runs as "sandbox") and SYNC_RATE_LIMITS, as (requests, per seconds).
globals().update(sync_tool_settings(env))
SYNC_MAX_ATTEMPTS = env.int("SYNC_MAX_ATTEMPTS", default=8)
SYNC_RETRY_BASE_SECONDS = env.float("SYNC_RETRY_BASE_SECONDS", default=15)
SYNC_RETRY_MAX_SECONDS = env.float("SYNC_RETRY_MAX_SECONDS", default=3600)
# Longer than CELERY_TASK_TIME_LIMIT, so a live worker never loses its lease.
SYNC_LEASE_SECONDS = env.int("SYNC_LEASE_SECONDS", default=120)
SYNC_HTTP_CONNECT_TIMEOUT = env.float("SYNC_HTTP_CONNECT_TIMEOUT", default=5)
SYNC_HTTP_READ_TIMEOUT = env.float("SYNC_HTTP_READ_TIMEOUT", default=20)
# Calls of one batch in flight at once, for a tool without a batch endpoint (one customer's jobs
# still go one after another): a batch then waits on its slowest calls, not on their sum.
SYNC_CALLS_IN_FLIGHT = env.int("SYNC_CALLS_IN_FLIGHT", default=4)
SYNC_BREAKER_THRESHOLD = env.int("SYNC_BREAKER_THRESHOLD", default=5)
SYNC_BREAKER_COOLDOWN = env.int("SYNC_BREAKER_COOLDOWN", default=60)
SYNC_SWEEP_INTERVAL = env.int("SYNC_SWEEP_INTERVAL", default=20)
SYNC_SWEEP_BATCH = env.int("SYNC_SWEEP_BATCH", default=500)
# A published wake-up older than this, for a job still waiting, is assumed lost and sent again.
SYNC_REDELIVER_AFTER = env.int("SYNC_REDELIVER_AFTER", default=60)
CELERY_BEAT_SCHEDULE["sync-sweep-jobs"] = {"task": "sync.sweep_jobs", "schedule": float(SYNC_SWEEP_INTERVAL)}
# Drift: each tool read back and compared with billing truth (manage.py reconcile_tools). Reads take
# at most this share of each tool's published budget, so a full pass never starves live work.
DRIFT_READ_SHARE = env.float("DRIFT_READ_SHARE", default=0.25)
# The daily pass, at this hour (UTC); -1 turns it off. It skips itself while every system runs in sandbox.
DRIFT_DAILY_HOUR = env.int("DRIFT_DAILY_HOUR", default=4)
# What the sandbox tools hold (their own small file, not Switchboard's database).
SANDBOX_STATE_PATH = env.str("SANDBOX_STATE_PATH", default=str(VAR_DIR / "sandbox-tools.sqlite3"))
if DRIFT_DAILY_HOUR >= 0:
    CELERY_BEAT_SCHEDULE["sync-reconcile-tools-daily"] = {
        "task": "sync.reconcile_tools", "schedule": crontab(hour=DRIFT_DAILY_HOUR, minute=17),
    }

# --- Outbound webhooks and Slack notices (webhooks/) -----------------------------------
# Each endpoint is its own outbox system ("webhook:<id>"): this many deliveries a second, each.
WEBHOOK_RATE_LIMIT = env.int("WEBHOOK_RATE_LIMIT", default=10)
SYNC_RATE_LIMITS["webhook"] = (WEBHOOK_RATE_LIMIT, 1)  # noqa: F821 - set above by the tools' settings
# An endpoint whose every delivery failed for this many days is switched off, with an incident.
WEBHOOK_FAILING_DAYS = env.int("WEBHOOK_FAILING_DAYS", default=5)
# After a rotation the old secret signs too, for this long, so receivers can switch over.
WEBHOOK_SECRET_OVERLAP_HOURS = env.int("WEBHOOK_SECRET_OVERLAP_HOURS", default=24)
CELERY_BEAT_SCHEDULE["webhooks-disable-failing"] = {"task": "webhooks.disable_failing", "schedule": 3600.0}

# --- Monitoring and alerts (monitoring/) ---------------------------------------------
# The scheduler writes its own heartbeat and evaluates alert rules itself, so an alert
# never waits on the worker (or on any system being watched); each worker's watchdog
# thread writes the worker's heartbeat and stands in for a silent scheduler.
CELERY_BEAT_SCHEDULER = "monitoring.scheduler:WatchfulScheduler"
CELERY_BEAT_SCHEDULE["billing-reconcile-daily"] = {"task": "billing.reconcile_stripe", "schedule": 24 * 3600.0}
HEARTBEAT_STALE_SECONDS = env.int("HEARTBEAT_STALE_SECONDS", default=120)
# How often the scheduler evaluates the rules and each worker's watchdog looks (and beats).
ALERT_EVALUATE_SECONDS = env.float("ALERT_EVALUATE_SECONDS", default=15)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
ALERT_EMAILS = env.list("ALERT_EMAILS", default=[])
ALERT_SLACK_WEBHOOK_URL = env.str("ALERT_SLACK_WEBHOOK_URL", default="")
ALERT_QUIET_MINUTES = env.int("ALERT_QUIET_MINUTES", default=30)
ALERT_FAILURE_RATE = env.float("ALERT_FAILURE_RATE", default=0.02)
ALERT_FAILURE_WINDOW_MINUTES = env.int("ALERT_FAILURE_WINDOW_MINUTES", default=15)
# ... and at least this many failures: one retried call, or one scanner at the door, is not an incident.
ALERT_FAILURE_MIN_COUNT = env.int("ALERT_FAILURE_MIN_COUNT", default=3)
ALERT_SYSTEM_DOWN_MINUTES = env.int("ALERT_SYSTEM_DOWN_MINUTES", default=5)
ALERT_BACKLOG_MINUTES = env.int("ALERT_BACKLOG_MINUTES", default=10)
# Silence on the webhook for this long is an incident (0 turns the rule off).
ALERT_NO_WEBHOOK_MINUTES = env.int("ALERT_NO_WEBHOOK_MINUTES", default=360)
ALERT_SIGNATURE_FAILURES = env.int("ALERT_SIGNATURE_FAILURES", default=10)
ALERT_SIGNATURE_WINDOW_MINUTES = env.int("ALERT_SIGNATURE_WINDOW_MINUTES", default=10)
ALERT_SIGNIN_FAILURE_RATE = env.float("ALERT_SIGNIN_FAILURE_RATE", default=0.03)
ALERT_SIGNIN_WINDOW_MINUTES = env.int("ALERT_SIGNIN_WINDOW_MINUTES", default=10)
# Fewer failed sign-ins than this are never an incident, whatever the rate (a typo among three).
ALERT_SIGNIN_MIN_FAILURES = env.int("ALERT_SIGNIN_MIN_FAILURES", default=10)

# --- Auth ---------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Hashing cost is irrelevant to what the suite checks; argon2 stays the production hasher.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
ANONYMOUS_USER_NAME = None  # guardian: no anonymous object permissions
# django-auditlog's field changes carry the same correlation id as our audit entries and logs.
AUDITLOG_CID_GETTER = "audit.context.current_correlation_id"
GUARDIAN_RAISE_403 = True

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The login form posts the email in the field Django calls "username".
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
PROXY_COUNT = env.int("PROXY_COUNT", default=0)
# The client address every per-IP rule uses (lockouts, rate limits): REMOTE_ADDR when no proxy
# is declared, so a forged X-Forwarded-For cannot dodge a limit; behind N proxies, the
# address the outermost of them saw.
AXES_IPWARE_PROXY_COUNT = PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if PROXY_COUNT else ("REMOTE_ADDR",)
RATELIMIT_IP_META_KEY = "core.client_ip.client_ip"
AXES_VERBOSE = False
# Lockout log lines name the client and the email by hashes.
AXES_CLIENT_STR_CALLABLE = "core.client_ip.client_log_str"

# --- Security -----------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^healthz/deep$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# --- Static files ---------------------------------------------------------------
STATIC_URL = "/static/"
# `collectstatic` fills it (a deploy's build step; `make run` every time, into its own data dir, so
# two checkouts' runs never share one); WhiteNoise serves it, compressed, with cache-busting names.
STATIC_ROOT = BASE_DIR / "staticfiles" if PRODUCTION else VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            # The suite renders pages without collecting first.
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = False
USE_TZ = True

# --- Email (alerts, staff invitations) ------------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="switchboard@localhost")
# Seconds before an unanswering mail server gives up: alerts are sent from the scheduler and
# the worker's watchdog, which must not hang on it (Django's default is to wait forever).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- Logging: structlog, JSON lines in production (config/logconfig.py) -------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = logging_config(level=LOG_LEVEL, production=PRODUCTION)

# Where the shared real-payload fixtures live (optional; tests that replay them skip without it).
SHARED_FIXTURES_DIR = Path(env.str("SHARED_FIXTURES_DIR", default=str(BASE_DIR.parent / "shared" / "fixtures")))
