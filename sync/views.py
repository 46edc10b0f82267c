"""The job log, a job's attempts, retries (one, selected, all dead of a system) and the pause switches."""

import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.models import Source
from core.http import redirect_after_post
from core.paging import keyset_page, sort_choice
from core.redact import redact
from customers.visibility import customer_visible
from sync import selectors
from sync.errors import SyncError
from sync.forms import JobFilterForm, PauseForm, RetrySelectedForm, SetAsideForm
from sync.models import JobStatus, SyncJob, SystemState
from sync.services import (
    job_retry, job_set_aside, job_set_aside_undo, jobs_replay_simulated, jobs_retry_bulk, simulated_counts,
    system_pause, system_resume, system_states,
)
from sync.services.retry import RETRYABLE, WILL_DO, WOULD_CHANGE

# A dry run reads each job's history; past this many the confirmation shows a sample.
PLAN_PREVIEW = 200
BATCH_SESSION_KEY = "retry_batches"


def get_job_for(request: HttpRequest, pk: int, *, retry: bool = False) -> SyncJob:
    """The job, if this person may see it (and with ``retry``, retry it); else 403."""
    if not request.user.has_perm("sync.view_syncjob"):
        raise PermissionDenied
    job = get_object_or_404(SyncJob.objects.select_related("customer", "source_event"), pk=pk)
    if job.customer is not None and not customer_visible(user=request.user, customer=job.customer):
        raise PermissionDenied
    if retry and not selectors.can_retry(request.user, job):
        raise PermissionDenied
    return job


def _check_system(system: str, *, allow_all: bool = False) -> None:
    if system not in selectors.OUTBOUND_SYSTEMS and not (allow_all and system == SystemState.ALL):
        raise Http404("No such system.")


JOB_SORTS = {"id": "pk", "attempts": "attempts", "updated": "updated_at"}


@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("sync.view_syncjob"):
        raise PermissionDenied
    form = JobFilterForm(request.GET)
    f = form.cleaned_data if form.is_valid() else {}
    qs = selectors.job_list(
        user=request.user,
        status=f.get("status", ""),
        system=f.get("system", ""),
        action=f.get("action", ""),
        customer=f.get("customer", ""),
    )
    _, order = sort_choice(request.GET, JOB_SORTS, default="-pk")  # newest first by id: the primary key
    page = keyset_page(qs, cursor=f.get("cursor", ""), order=order)
    systems = selectors.job_log_systems(user=request.user)
    retryable = selectors.retryable_systems(request.user)
    for job in page.rows:
        job.shown_status = job.display_status(systems)
        job.selectable = job.system in retryable and job.status in RETRYABLE
    context = {
        "form": form,
        "page": page,
        "retryable_systems": retryable,
        # "Retry selected" only where this page has a job this person may tick
        "any_selectable": any(job.selectable for job in page.rows),
        "systems": list(systems.values()),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "sync/job_list.html#results", context)
    return render(request, "sync/job_list.html", context)


def _job_detail_context(request: HttpRequest, job: SyncJob, *, set_aside_form: SetAsideForm | None = None) -> dict:
    attempts = [
        {
            "row": a,
            "request": redact(a.request_summary),
            "response": redact(a.response_summary),
        }
        for a in job.attempt_log.order_by("-number")[:50]
    ]
    may_retry = selectors.can_retry(request.user, job)
    return {
        "job": job,
        "payload": redact(job.payload),
        "attempts": attempts,
        "can_retry": may_retry and job.status in RETRYABLE,
        # whoever may retry a job's system may also decide it will not be fixed
        "can_set_aside": may_retry and job.status in (JobStatus.DEAD, JobStatus.SET_ASIDE),
        "set_aside_form": set_aside_form or SetAsideForm(),
        "shown_status": job.display_status(system_states()),
        "sent_as": job.replays.order_by("pk").first() if job.replayed_at else None,
    }


@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_job_for(request, pk)
    return render(request, "sync/job_detail.html", _job_detail_context(request, job))


@require_POST
def job_set_aside_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A dead job that will not be fixed leaves the alerts and the queue, with a note saying why."""
    job = get_job_for(request, pk, retry=True)
    form = SetAsideForm(request.POST)
    if not form.is_valid():
        context = _job_detail_context(request, job, set_aside_form=form)
        template = "sync/job_detail.html#set-aside" if request.htmx else "sync/job_detail.html"
        return render(request, template, context, status=422)
    set_aside = partial(job_set_aside, note=form.cleaned_data["note"])
    return _act_on_job(request, job, set_aside, "Set aside: it no longer raises alerts or appears in the queue.")


@require_POST
def job_set_aside_undo_view(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_job_for(request, pk, retry=True)
    return _act_on_job(request, job, job_set_aside_undo, "Put back as dead: it is in the action queue again.")


@require_POST
def job_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_job_for(request, pk, retry=True)
    return _act_on_job(request, job, job_retry, "Queued again; it runs in a moment.")


def _act_on_job(request: HttpRequest, job: SyncJob, service: Callable[..., SyncJob], done: str) -> HttpResponse:
    """Call one job service as this person; say how it went on the job's page."""
    try:
        service(job=job, actor=request.user, source=Source.UI)
    except SyncError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect_after_post(request, reverse("job_detail", args=[job.pk]))


def start_batch(request: HttpRequest, lines, title: str, *, ids: list[int] | None = None) -> str:
    """The key of the progress page of a bulk retry (or of a replay, whose ``ids`` are the jobs it wrote).

    The jobs are those the action's audit entry records, so anyone allowed to see sync jobs can
    follow the link from another browser; this session keeps only what was left out, for the
    person who did it.
    """
    entry = selectors.batch_entry_of_request(actor=request.user)
    key = str(entry.pk) if entry is not None else secrets.token_urlsafe(8)
    batches = request.session.get(BATCH_SESSION_KEY, {})
    batches = dict(list(batches.items())[-4:])  # keep the session small: the last few batches
    batches[key] = {
        "title": title,
        "ids": ids if ids is not None else [line.job_id for line in lines if line.verdict in (WILL_DO, WOULD_CHANGE)],
        "skipped": [str(line) for line in lines if line.verdict not in (WILL_DO, WOULD_CHANGE)][:50],
    }
    request.session[BATCH_SESSION_KEY] = batches
    return key


@require_POST
def jobs_retry_selected(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("sync.view_syncjob"):
        raise PermissionDenied
    form = RetrySelectedForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Select at least one job to retry.")
        return redirect_after_post(request, reverse("job_list"))
    ids = form.cleaned_data["job"]
    jobs = list(selectors.jobs_visible_to(user=request.user).filter(pk__in=ids).select_related("customer"))
    allowed = selectors.retryable_systems(request.user)
    if len(jobs) != len(set(ids)) or any(job.system not in allowed for job in jobs):
        raise PermissionDenied
    try:
        lines = jobs_retry_bulk(jobs=jobs, actor=request.user, source=Source.UI)
    except SyncError as exc:
        messages.error(request, str(exc))
        return redirect_after_post(request, reverse("job_list"))
    key = start_batch(request, lines, f"Retry of {len(jobs)} selected job{'s' if len(jobs) != 1 else ''}")
    return redirect_after_post(request, reverse("retry_batch", args=[key]))


@require_http_methods(["GET", "POST"])
def system_retry_dead(request: HttpRequest, system: str) -> HttpResponse:
    """GET: what a retry of every dead job of ``system`` would do. POST: do it."""
    _check_system(system)
    if not request.user.has_perm("sync.view_syncjob") or system not in selectors.retryable_systems(request.user):
        raise PermissionDenied
    if request.method == "POST":
        return _retry_every_dead(request, system, refused=reverse("system_retry_dead", args=[system]))
    dead = selectors.dead_jobs_to_retry(user=request.user, system=system)
    total = dead.count()
    lines = jobs_retry_bulk(jobs=dead[:PLAN_PREVIEW], actor=request.user, source=Source.UI, dry_run=True)
    return render(
        request,
        "sync/retry_confirm.html",
        {
            "system": system,
            "total": total,
            "lines": lines,
            "verdicts": sorted(Counter(line.verdict for line in lines).items()),
            "sampled": total > PLAN_PREVIEW,
        },
    )


@require_POST
def queue_retry_all(request: HttpRequest, system: str) -> HttpResponse:
    """"Retry all" on the queue's group of a system's dead jobs; a refusal is told on the queue."""
    if system not in selectors.retryable_systems(request.user):
        raise PermissionDenied
    return _retry_every_dead(request, system, refused=reverse("home"))


def _retry_every_dead(request: HttpRequest, system: str, *, refused: str) -> HttpResponse:
    """Requeue every dead job of ``system`` this person sees and follow the batch (or go back to ``refused``)."""
    dead = selectors.dead_jobs_to_retry(user=request.user, system=system)
    try:
        lines = jobs_retry_bulk(jobs=dead, actor=request.user, source=Source.UI)
    except SyncError as exc:
        messages.error(request, str(exc))
        return redirect_after_post(request, refused)
    key = start_batch(request, lines, f"Retry of every dead {system} job")
    return redirect_after_post(request, reverse("retry_batch", args=[key]))


@require_http_methods(["GET", "POST"])
def system_send_simulated(request: HttpRequest, system: str) -> HttpResponse:
    """GET: what sending ``system``'s simulated jobs to its now real tool would do. POST: send them."""
    _check_system(system)
    if not request.user.has_perm("sync.replay_simulated"):
        raise PermissionDenied
    if request.method == "POST":
        try:
            replay = jobs_replay_simulated(system=system, actor=request.user, source=Source.UI)
        except SyncError as exc:
            messages.error(request, str(exc))
            return redirect_after_post(request, reverse("system_list"))
        title = f"Sending {len(replay.sent)} simulated {system} job{'s' if len(replay.sent) != 1 else ''} to {replay.tool}"
        key = start_batch(request, replay.lines, title, ids=replay.sent)
        return redirect_after_post(request, reverse("retry_batch", args=[key]))
    try:
        replay, refused = jobs_replay_simulated(system=system, actor=request.user, dry_run=True, limit=PLAN_PREVIEW), ""
    except SyncError as exc:
        replay, refused = None, str(exc)
    lines = replay.lines if replay else []
    return render(
        request,
        "sync/send_simulated.html",
        {
            "system": system,
            "replay": replay,
            "refused": refused,
            "verdicts": sorted(Counter(line.verdict for line in lines).items()),
            "sampled": replay is not None and replay.total > len(lines),
        },
    )


@require_GET
def retry_batch(request: HttpRequest, key: str) -> HttpResponse:
    """Progress of a bulk retry: how many of its jobs are waiting, running, done or dead again."""
    if not request.user.has_perm("sync.view_syncjob"):
        raise PermissionDenied
    batch = request.session.get(BATCH_SESSION_KEY, {}).get(key) or selectors.batch_from_audit(key)
    if batch is None:
        raise Http404("There is no such retry.")
    jobs = selectors.jobs_visible_to(user=request.user).filter(pk__in=batch["ids"])
    rows = jobs.order_by().values("status").annotate(n=Count("id"))
    counts = Counter({row["status"]: row["n"] for row in rows})
    total = sum(counts.values())
    finished = counts[JobStatus.SUCCEEDED] + counts[JobStatus.DEAD] + counts[JobStatus.SET_ASIDE]
    context = {
        "key": key,
        "batch": batch,
        "counts": counts,
        "total": total,
        "finished": finished,
        "percent": int(finished * 100 / total) if total else 100,
        "done": finished >= total,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "sync/retry_batch.html#progress", context)
    return render(request, "sync/retry_batch.html", context)


@require_GET
def system_list(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("sync.view_syncjob"):
        raise PermissionDenied
    views = selectors.system_states_for(user=request.user)
    simulated = simulated_counts(jobs=selectors.jobs_visible_to(user=request.user))
    return render(
        request,
        "sync/system_list.html",
        {
            "systems": [replace(v, simulated_jobs=simulated.get(name, 0)) for name, v in views.items()
                        if name != SystemState.ALL],
            "can_replay": request.user.has_perm("sync.replay_simulated"),
            "everything": views.get(SystemState.ALL),
            "can_pause": request.user.has_perm("sync.pause_system"),
            "retryable_systems": selectors.retryable_systems(request.user),
            "pause_form": PauseForm(),
        },
    )


@require_POST
def system_pause_view(request: HttpRequest, system: str) -> HttpResponse:
    if not request.user.has_perm("sync.pause_system"):
        raise PermissionDenied
    _check_system(system, allow_all=True)
    form = PauseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why you are pausing, so the team knows when it is safe to resume.")
    else:
        try:
            system_pause(system=system, actor=request.user, reason=form.cleaned_data["reason"], source=Source.UI)
        except SyncError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Paused {system}. Its jobs wait as pending until you resume.")
    return redirect_after_post(request, reverse("system_list"))


@require_POST
def system_resume_view(request: HttpRequest, system: str) -> HttpResponse:
    if not request.user.has_perm("sync.pause_system"):
        raise PermissionDenied
    _check_system(system, allow_all=True)
    try:
        system_resume(system=system, actor=request.user, source=Source.UI)
    except SyncError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Resumed {system}; waiting work starts now.")
    return redirect_after_post(request, reverse("system_list"))
