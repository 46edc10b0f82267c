"""Switchboard's settings plus the bench's baseline view (bench/door_urls.py): used only by the door
part's gunicorn, never by Switchboard itself."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.door_urls"
