"""Sandbox needs no settings; it may serve any system (the registry offers it for every one)."""

import environ

__all__ = ["CREDENTIALS", "LABEL", "NAME", "RATE_LIMIT", "SYSTEMS", "record_url", "settings_from_env"]

NAME = "sandbox"
LABEL = "sandbox"  # a way of running, not a product: written as the screens and alerts write it
SYSTEMS = ()
CREDENTIALS = ()  # settings that must all be set
RATE_LIMIT = ("", 1000, 1)  # nothing is sent: only keeps a runaway loop from spinning


def settings_from_env(env: environ.Env) -> dict:
    return {}


def record_url(external_id: str) -> str:
    return ""  # nothing to open: the record exists nowhere
