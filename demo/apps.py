from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo a new install seeds by running the product itself; above every domain app."""

    name = "demo"
