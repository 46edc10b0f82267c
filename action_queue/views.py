"""The "needs action now" queue: everything, my queue, take an item, resolve it, and each kind's row actions."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from action_queue import registry, selectors
from action_queue.forms import ResolveForm
from action_queue.items import ActionItem, dom_id
from action_queue.services import action_item_assign, action_item_resolve
from audit.models import Source

QUEUE_REFRESH_SECONDS = 5


def get_action_item_for(request: HttpRequest, kind: str, object_id) -> ActionItem | None:
    """The open queue item, or None when it is gone; 403 when this person may not act on it."""
    object_id = str(object_id)
    if not selectors.action_object_allowed(user=request.user, kind=kind, object_id=object_id):
        raise PermissionDenied
    return selectors.action_item_for(user=request.user, kind=kind, object_id=object_id)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    mine = request.GET.get("mine") == "1"
    context = {
        "queue": selectors.action_items_for(user=request.user, mine=mine),
        "mine": mine,
        "last_event_at": registry.last_event_at(),
        "checked_at": timezone.now(),
        "refresh_seconds": QUEUE_REFRESH_SECONDS,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "action_queue/home.html#queue", context)
    return render(request, "action_queue/home.html", context)


def _row(request: HttpRequest, kind: str, object_id: str, *, done: str = "", error: str = "", status: int = 200):
    """The queue row after an action: the open item again, or a line saying what happened to it."""
    item = None if done else selectors.action_item_for(user=request.user, kind=kind, object_id=object_id)
    group_key = request.POST.get("group", "")[:100]
    context = {
        "item": item,
        "kind": kind,
        "object_id": object_id,
        "dom_id": dom_id(kind, object_id),
        "done": done or ("" if item else "This item is no longer open."),
        "error": error,
        "group_key": group_key,
        "counts": _counts(request, group_key) if request.htmx and group_key and not item else None,
    }
    return render(request, "action_queue/_row.html", context, status=status)


def _counts(request: HttpRequest, group_key: str) -> dict:
    """The counts the page shows after an item left its group: the group's and the total."""
    queue = selectors.action_items_for(user=request.user)
    found = next((g for g in queue.groups if g.key == group_key), None)
    return {"group": group_key, "group_count": found.count if found else 0, "total": queue.total}


@require_POST
def queue_assign(request: HttpRequest, kind: str, object_id: str) -> HttpResponse:
    item = get_action_item_for(request, kind, object_id)
    if item is None:
        return _row(request, kind, object_id)
    action_item_assign(kind=kind, object_id=object_id, assignee=request.user, actor=request.user, source=Source.UI)
    return _row(request, kind, object_id)


@require_POST
def queue_resolve(request: HttpRequest, kind: str, object_id: str) -> HttpResponse:
    item = get_action_item_for(request, kind, object_id)
    if item is None:
        return _row(request, kind, object_id)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        return _row(request, kind, object_id, error="Write a short note saying what you did.", status=422)
    action_item_resolve(
        kind=kind, object_id=object_id, note=form.cleaned_data["note"], actor=request.user, source=Source.UI
    )
    return _row(request, kind, object_id, done=f"Resolved by you: {form.cleaned_data['note']}")


@require_POST
def queue_act(request: HttpRequest, kind: str, object_id: int, action: str) -> HttpResponse:
    """One of a kind's own actions (retry, replay, resume), done by the service of the app that owns the kind."""
    found = registry.get(kind)
    row_action = found.action(action) if found else None
    if row_action is None:
        raise Http404("No such action.")
    object_id = str(object_id)
    item = get_action_item_for(request, kind, object_id)
    if item is None:
        return _row(request, kind, object_id)
    outcome = row_action.run(item=item, actor=request.user, source=Source.UI)
    return _row(request, kind, object_id, done=outcome.done, error=outcome.error)
