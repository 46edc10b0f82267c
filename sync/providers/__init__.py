"""Adapters for the outside systems, all with the same small face.

Each module defines ``NAME``, ``LABEL`` (the tool's name for people),
``CREDENTIALS`` (the settings it cannot run without), ``credential()`` (what the
rate limit is counted against), ``cost(action)`` (requests one job may make),
``preview(job=, customer=)`` (the main request it would send) and
``perform(job=, customer=) -> Result``. A system whose provider has no
credentials runs against ``sandbox``, and the jobs it runs there are marked simulated.
"""

from dataclasses import dataclass
from types import ModuleType

from django.conf import settings

SANDBOX = "sandbox"


@dataclass(frozen=True)
class Result:
    external_id: str = ""
    link: bool = False  # True when external_id is the customer's id in that system


def _modules() -> dict[str, ModuleType]:
    from sync.providers import circle, hubspot, intercom, kit, sandbox, zendesk

    return {m.NAME: m for m in (hubspot, zendesk, intercom, circle, kit, sandbox)}


def configured_provider(system: str) -> ModuleType:
    """The provider the settings name for ``system``, configured or not."""
    name = settings.SYNC_PROVIDERS.get(system, SANDBOX)
    modules = _modules()
    if name not in modules:
        raise ValueError(f"Unknown provider {name!r} for {system}; see SYNC_{system.upper()}_PROVIDER.")
    return modules[name]


def missing_credentials(provider: ModuleType) -> list[str]:
    """The settings ``provider`` needs that are not set."""
    return [name for name in provider.CREDENTIALS if not getattr(settings, name, "")]


def provider_for(system: str) -> ModuleType:
    """The provider that will serve ``system``: the configured one, or sandbox without credentials."""
    provider = configured_provider(system)
    return _modules()[SANDBOX] if missing_credentials(provider) else provider
