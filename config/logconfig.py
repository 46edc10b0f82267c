"""Logging for every process: structlog lines, JSON in production and plain text elsewhere, and
the loggers kept quiet because their lines would carry personal data or say nothing useful."""

import structlog


def logging_config(*, level: str, production: bool) -> dict:
    """Configure structlog and return Django's ``LOGGING``."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.stdlib.add_logger_name,
            structlog.stdlib.add_log_level,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processor": structlog.processors.JSONRenderer(),
            },
            "console": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processor": structlog.dev.ConsoleRenderer(colors=False),
            },
        },
        "filters": {"probe_answers": {"()": "config.logfilters.ProbeAnswers"}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "json" if production else "console",
                "filters": ["probe_answers"],
            }
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            # Request lines carry URLs (search terms) and client IPs: keep them out of the logs.
            "django.server": {"level": "WARNING"},
            "django_structlog": {"level": "WARNING"},
            # Refusals (403, 404) are the product working, not errors: no line, no traceback.
            # Server errors still log at ERROR, once (Django's own debug-only console handler is dropped).
            "django": {"handlers": [], "level": "INFO"},
            "django.request": {"level": "ERROR"},
            # The Stripe SDK logs every request URL at INFO; ids in URLs identify customers.
            "stripe": {"level": "WARNING"},
        },
    }
