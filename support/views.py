"""Support and customer screens: the sync log, replays, dead letters, runs, conflicts, webhooks, the queue.

Thin: reads come from ``selectors``, writes go through ``services``. Every view resolves the tenant first.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from integrations.engine.runs import run_progress, run_state_words
from integrations.models import Integration, LogAction, RunState
from integrations.services import integration_webhooks_register
from mappings.models import SyncEntity
from tenants.access import get_scoped_or_404, row_id, scoped
from tenants.decorators import tenant_view

from . import selectors
from .forms import RunStartForm
from .preview_selectors import run_guard_words
from .services import RunRefused, entity_list_words, replay_entries, replay_events, run_start_now


def can_replay(access) -> bool:
    return access.can_replay


def _filter_query(params: QueryDict) -> str:
    """The filter's query string without the page position."""
    query = params.copy()
    for key in ("after_at", "after_id"):
        query.pop(key, None)
    return query.urlencode()


@tenant_view()
@require_safe
def log_list(request: HttpRequest) -> HttpResponse:
    log_filter = selectors.log_filter(tenant=request.tenant, params=request.GET)
    page = selectors.LogPage(entries=[], next=None)
    if log_filter.is_valid():
        page = selectors.log_page(entries=log_filter.qs, after=selectors.Keyset.from_params(request.GET))
    query = _filter_query(request.GET)
    next_url = ""
    if page.next is not None:
        params = request.GET.copy()
        for key, value in page.next.as_params().items():
            params[key] = value
        next_url = f"{request.path}?{params.urlencode()}"
    return render(request, "support/log_list.html", {
        "filter": log_filter, "page": page, "next_url": next_url, "filter_query": query,
        "first_page": not request.GET.get("after_id"), "section": "log"})


@tenant_view()
@require_safe
def log_detail(request: HttpRequest, entry_id: int) -> HttpResponse:
    from mappings.provenance import settings_in_force

    entry = selectors.log_entry_get(tenant=request.tenant, entry_id=entry_id)
    chain = selectors.log_entry_chain(tenant=request.tenant, entry=entry)
    # the settings the entry was written under (its settings version), beside today's
    provenance = settings_in_force(integration=entry.integration, entity=entry.entity,
                                   version_id=entry.config_version_id)
    return render(request, "support/log_detail.html", {"chain": chain, "entry": entry, "provenance": provenance,
                                                       "section": "log"})


@tenant_view(allow=can_replay)
@require_POST
def log_entry_replay(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = selectors.log_entry_get(tenant=request.tenant, entry_id=entry_id)
    outcome = replay_entries(tenant=request.tenant, entries=scoped(type(entry), request.tenant).filter(pk=entry.pk),
                             user=request.user)
    (messages.success if outcome.put_back or outcome.covered else messages.warning)(request, outcome.message)
    return redirect("log-detail", tenant_slug=request.tenant.slug, entry_id=entry.pk)


@tenant_view(allow=can_replay)
@require_POST
def log_replay_matching(request: HttpRequest) -> HttpResponse:
    """Replay every failed entry that matches the filter in the query string."""
    log_filter = selectors.log_filter(tenant=request.tenant, params=request.GET)
    target = f"{reverse('log-list', args=[request.tenant.slug])}?{_filter_query(request.GET)}"
    if not log_filter.is_valid():
        messages.error(request, "The filter is not valid; nothing was replayed.")
        return redirect(target)
    outcome = replay_entries(tenant=request.tenant, entries=log_filter.qs, user=request.user)
    (messages.success if outcome.put_back or outcome.covered else messages.warning)(request, outcome.message)
    return redirect(target)


@tenant_view()
@require_safe
def dead_letter_list(request: HttpRequest) -> HttpResponse:
    events = list(selectors.dead_letters(tenant=request.tenant)[:200])
    resolved = selectors.dead_letters_resolved_count(tenant=request.tenant)
    return render(request, "support/dead_letters.html", {"events": events, "resolved": resolved,
                                                         "section": "dead-letters"})


@tenant_view(allow=can_replay)
@require_POST
def dead_letter_replay(request: HttpRequest, event_id: int) -> HttpResponse:
    event = selectors.dead_letter_get(tenant=request.tenant, event_id=event_id)
    outcome = replay_events(tenant=request.tenant, events=[event], user=request.user)
    messages.success(request, outcome.message)
    return redirect("dead-letter-list", tenant_slug=request.tenant.slug)


@tenant_view(allow=can_replay)
@require_POST
def dead_letters_replay_all(request: HttpRequest) -> HttpResponse:
    events = selectors.dead_letters(tenant=request.tenant).order_by("received_at", "pk")
    outcome = replay_events(tenant=request.tenant, events=events.iterator(), user=request.user)
    messages.success(request, outcome.message)
    return redirect("dead-letter-list", tenant_slug=request.tenant.slug)


def _run_rows(request: HttpRequest, runs: list) -> list[dict]:
    counts = selectors.run_counts(tenant=request.tenant, runs=runs)
    return [{"run": run, "counts": counts.get(run.pk, {}), "guard": run_guard_words(run),
             "state_words": run_state_words(run, failed=counts.get(run.pk, {}).get(LogAction.FAILED, 0)),
             "notes": [(n, key.replace("_", " ")) for key, n in (run.counts or {}).items()]} for run in runs]


@tenant_view()
@require_safe
def run_list(request: HttpRequest) -> HttpResponse:
    runs = [run_progress(run) if run.state == RunState.RUNNING else run
            for run in selectors.runs_recent(tenant=request.tenant)]
    form = RunStartForm(tenant=request.tenant, initial=_run_choice(request))
    return render(request, "support/runs.html", {"rows": _run_rows(request, runs), "form": form, "section": "runs"})


def _run_choice(request: HttpRequest) -> dict[str, object]:
    """The integration and entity last chosen (``?integration=<id>&entity=<entity>``), when they are the tenant's.

    Anything else is left out, so the form falls back to its first choices.
    """
    chosen: dict[str, object] = {}
    integration_id = row_id(request.GET.get("integration", ""))
    if integration_id is not None and scoped(Integration, request.tenant).filter(pk=integration_id).exists():
        chosen["integration"] = integration_id
    if request.GET.get("entity", "") in SyncEntity.values:
        chosen["entity"] = request.GET["entity"]
    return chosen


def _runs_url(request: HttpRequest) -> str:
    """The runs page keeping the integration and entity just chosen in the start form."""
    params = QueryDict(mutable=True)
    for key in ("integration", "entity"):
        if value := request.POST.get(key, ""):
            params[key] = value
    base = reverse("run-list", args=[request.tenant.slug])
    return f"{base}?{params.urlencode()}" if params else base


@tenant_view()
@require_safe
def run_row(request: HttpRequest, run_id: int) -> HttpResponse:
    """One run's row: the runs page polls it every 2 s while the run is going."""
    run = run_progress(selectors.run_get(tenant=request.tenant, run_id=run_id))
    return render(request, "support/_run_row.html", {"row": _run_rows(request, [run])[0]})


@tenant_view(allow=can_replay)
@require_POST
def run_start(request: HttpRequest) -> HttpResponse:
    form = RunStartForm(request.POST, tenant=request.tenant)
    if form.is_valid():
        if form.cleaned_data.get("guard_off") and not request.access.is_admin:
            raise PermissionDenied("Only an admin may switch the guard off.")
        try:
            run = run_start_now(integration=form.cleaned_data["integration"], kind=form.cleaned_data["kind"],
                                entity=form.cleaned_data["entity"], user=request.user,
                                guard_off=form.cleaned_data.get("guard_off", False))
        except RunRefused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, f"{run.get_kind_display()} of {entity_list_words(run.entity)} started.")
    else:
        messages.error(request, "Choose an integration, an entity and what to run.")
    return redirect(_runs_url(request))


@tenant_view()
@require_safe
def conflict_list(request: HttpRequest) -> HttpResponse:
    integration = None
    if given := request.GET.get("integration", ""):
        if (integration_id := row_id(given)) is None:
            raise Http404("No such integration")
        integration = get_scoped_or_404(Integration, request.tenant, pk=integration_id)
    conflicts = selectors.conflicts_recent(tenant=request.tenant, integration=integration)
    return render(request, "support/conflicts.html", {
        "conflicts": conflicts, "integration": integration, "section": "conflicts",
        "integrations": scoped(Integration, request.tenant)})


def _integration(request: HttpRequest, integration_id: int) -> Integration:
    queryset = scoped(Integration, request.tenant).select_related("crm_connection", "erp_connection")
    return get_scoped_or_404(queryset, request.tenant, pk=integration_id)


def _webhook_page(request: HttpRequest, integration: Integration, results=None) -> HttpResponse:
    health = selectors.webhook_health(tenant=request.tenant, integration=integration)
    systems = [{"connection": c, "provider": c.provider, "rows": health.get(c.system, [])}
               for c in (integration.crm_connection, integration.erp_connection)]
    return render(request, "support/webhook_health.html", {
        "integration": integration, "systems": systems, "results": results, "section": "webhook-health"})


@tenant_view()
@require_safe
def webhook_health(request: HttpRequest, integration_id: int) -> HttpResponse:
    return _webhook_page(request, _integration(request, integration_id))


@tenant_view(allow=lambda access: access.can_register_webhooks)
@require_POST
def webhook_register(request: HttpRequest, integration_id: int) -> HttpResponse:
    """Register Synkro's webhook URLs in both systems: configuration written into the vendors', so admins only."""
    integration = _integration(request, integration_id)
    results = integration_webhooks_register(integration=integration)
    return _webhook_page(request, integration, results=results)


@tenant_view(allow=can_replay)
@require_safe
def queue(request: HttpRequest) -> HttpResponse:
    overview = selectors.queue_overview(tenant=request.tenant, staff=request.user.is_staff)
    return render(request, "support/queue.html", {"queue": overview, "section": "queue"})
