"""What apps above sync do when one of their jobs succeeds; sync imports none of them.

An app registers a hook for an action in its ``AppConfig.ready()`` (support: a created
desk ticket moves our copy from pending to new). The executor runs the action's hooks
inside the transaction that records the success, so the job and what the hook writes
commit together; a hook that raises rolls the success back, and the job's lease running
out hands it to the sweeper like any crashed run.
"""

from collections.abc import Callable

from sync.models import SyncJob

SuccessHook = Callable[..., None]  # called as hook(job=..., external_id=...)

_hooks: dict[str, dict[str, SuccessHook]] = {}


def success_hook_register(*, action: str, name: str, hook: SuccessHook) -> None:
    """Run ``hook`` after each success of ``action``; registering the same name again replaces it."""
    _hooks.setdefault(action, {})[name] = hook


def success_hook_unregister(*, action: str, name: str) -> None:
    _hooks.get(action, {}).pop(name, None)


def success_hooks(*, action: str) -> list[str]:
    """The names registered for ``action``, in the order they run."""
    return list(_hooks.get(action, {}))


def success_hooks_run(*, job: SyncJob, external_id: str) -> None:
    for hook in list(_hooks.get(job.action, {}).values()):
        hook(job=job, external_id=external_id)

