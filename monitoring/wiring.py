"""What monitoring sets up once its models are loaded: the launch checks, its queue kinds, and the
sign-in counts the sign-in failure alert reads."""

from monitoring import checks  # noqa: F401 - its launch checks register with Django's as it loads
from monitoring import queue_items, signins


def register() -> None:
    signins.connect()  # counts sign-ins for the sign-in failure alert
    queue_items.register()
