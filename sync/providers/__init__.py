"""The outside tools Switchboard syncs to: one folder each, listed once in ``TOOLS``.

Each tool package has the same small face, from its ``conf.py``:

- ``NAME``, ``LABEL`` (the tool's name for people) and ``SYSTEMS`` (the systems it can serve);
- ``settings_from_env(env)`` (the settings it reads, with their defaults), ``CREDENTIALS`` (those
  it cannot run without) and ``RATE_LIMIT`` (its published limit: variable, requests, per seconds);
- ``record_url(external_id)``: where a person opens the customer's record in the tool ("" if nowhere);
- optionally ``WEBHOOK_SECRET``: the setting its inbound webhook cannot verify deliveries without;

and from its ``client.py``:

- ``credential()`` (what the rate limit is counted against) and ``cost(action)`` (requests one job
  may make);
- ``preview(payload)`` (the main request it would send) and ``perform(payload) -> Result``;
- optionally ``batch_key(payload)``, ``BATCH_LIMIT`` and ``perform_batch(payloads)``: jobs whose
  keys differ share one request (a batch endpoint), each with its own Result (None: send it alone);
- optionally ``CONCURRENT_CALLS = True``: different customers' jobs of a batch may call at the same
  time (``SYNC_CALLS_IN_FLIGHT``), from other threads: ``perform`` then touches no database.

Adapters are given a frozen ``Payload`` and import nothing of the domain. A system whose tool has
no credentials runs against ``sandbox``, and the jobs it runs there are marked simulated.

An app above sync may serve a family of systems itself (``webhook:<endpoint>``: one system per
outbound webhook endpoint, so each has its own breaker, rate limit and pause): it registers, in its
``AppConfig.ready()``, a factory that gives the provider of one system of the family, with the same face.
"""

import functools
import importlib
from collections.abc import Callable
from types import ModuleType

import environ
from django.conf import settings

from sync.providers.payload import Payload, Result

__all__ = [
    "SANDBOX", "TOOLS", "Payload", "Result", "configured_provider", "missing_credentials", "provider_for",
    "record_url", "settings_from_env", "system_family", "system_family_register", "systems", "tools",
]

SANDBOX = "sandbox"
# In order of preference: a system's default tool is the first one here that can serve it.
TOOLS = [
    "sync.providers.hubspot",
    "sync.providers.zendesk",
    "sync.providers.intercom",
    "sync.providers.circle",
    "sync.providers.kit",
    "sync.providers.sandbox",
]


# Families of systems served by an app above sync, by prefix: the factory gives one system's provider.
_FAMILIES: dict[str, Callable[[str], ModuleType]] = {}


def system_family_register(*, prefix: str, factory: Callable[[str], ModuleType]) -> None:
    """Serve every system named ``<prefix><anything>`` with ``factory(system)``."""
    _FAMILIES[prefix] = factory


def system_family(system: str) -> Callable[[str], ModuleType] | None:
    """The factory serving ``system`` when it belongs to a registered family, else None."""
    return next((factory for prefix, factory in _FAMILIES.items() if system.startswith(prefix)), None)


def tools() -> dict[str, ModuleType]:
    """Every registered tool, by name."""
    return _load(tuple(TOOLS))


@functools.cache
def _load(paths: tuple[str, ...]) -> dict[str, ModuleType]:
    return {module.NAME: module for module in map(importlib.import_module, paths)}


def systems() -> dict[str, list[str]]:
    """Each system and the tools that can serve it, its default first; sandbox can serve any."""
    served: dict[str, list[str]] = {}
    for name, tool in tools().items():
        for system in tool.SYSTEMS:
            served.setdefault(system, []).append(name)
    return {system: [*names, SANDBOX] for system, names in served.items()}


def settings_from_env(env: environ.Env) -> dict:
    """Every tool's settings, which tool serves each system (``SYNC_PROVIDERS``) and the tools'
    published limits (``SYNC_RATE_LIMITS``), read from the environment; ``config/settings.py``
    takes them in. A tool that cannot serve the system it is chosen for stops start-up."""
    values: dict = {}
    for tool in tools().values():
        values.update(tool.settings_from_env(env))
    chosen = {}
    for system, names in systems().items():
        variable = f"SYNC_{system.upper()}_PROVIDER"
        chosen[system] = env.str(variable, default="") or names[0]
        if chosen[system] not in names:
            raise SystemExit(f"Switchboard cannot start: {variable} must be one of {', '.join(names)} "
                             f"(got {chosen[system]!r}).")
    values["SYNC_PROVIDERS"] = chosen
    values["SYNC_RATE_LIMITS"] = {name: _rate_limit(tool, env) for name, tool in tools().items()}
    return values


def _rate_limit(tool: ModuleType, env: environ.Env) -> tuple[int, int]:
    variable, requests, seconds = tool.RATE_LIMIT
    return (env.int(variable, default=requests) if variable else requests), seconds


def configured_provider(system: str) -> ModuleType:
    """The provider the settings name for ``system``, configured or not."""
    if factory := system_family(system):
        return factory(system)
    name = settings.SYNC_PROVIDERS.get(system, SANDBOX)
    registered = tools()
    if name not in registered:
        raise ValueError(f"Unknown provider {name!r} for {system}; see SYNC_{system.upper()}_PROVIDER.")
    return registered[name]


def missing_credentials(provider: ModuleType) -> list[str]:
    """The settings ``provider`` needs that are not set."""
    return [name for name in provider.CREDENTIALS if not getattr(settings, name, "")]


def provider_for(system: str) -> ModuleType:
    """The provider that will serve ``system``: the configured one, or sandbox without credentials."""
    provider = configured_provider(system)
    return tools()[SANDBOX] if missing_credentials(provider) and not system_family(system) else provider


def record_url(tool: str, external_id: str) -> str:
    """Where a person opens a record ``tool`` knows by ``external_id``; "" for an unknown tool."""
    provider = tools().get(tool)
    return provider.record_url(external_id) if provider else ""
