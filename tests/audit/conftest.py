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
    previous = root.level
    root.setLevel(logging.DEBUG)
    for handler in handlers:
        root.addHandler(handler)
    yield stream
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(previous)
