import io
import logging

import pytest
from django.conf import settings as django_settings


@pytest.fixture
def captured():
    """Every log record, rendered by the project's own formatters (console and JSON), at DEBUG and up."""
    stream = io.StringIO()
    handlers = []
    for name in ("console", "json"):
        handler = logging.StreamHandler(stream)
        formatter_config = django_settings.LOGGING["formatters"][name]
        handler.setFormatter(formatter_config["()"](processor=formatter_config["processor"]))
        handlers.append(handler)
    root = logging.getLogger()
    # The loggers settings.LOGGING quiets are turned up to INFO (request lines of refusals): what a
    # deployment turns up must be as clean as what it shows by default.
    quieted = [logging.getLogger(name) for name in django_settings.LOGGING["loggers"]]
    previous = {logger: logger.level for logger in [root, *quieted]}
    root.setLevel(logging.DEBUG)
    for logger in quieted:
        logger.setLevel(min(logger.level, logging.INFO))
    for handler in handlers:
        root.addHandler(handler)
    yield stream
    for handler in handlers:
        root.removeHandler(handler)
    for logger, level in previous.items():
        logger.setLevel(level)
