"""Screens for looking before a bulk write: start a preview, read a plan, confirm or cancel a held run.

Thin: reads come from ``preview_selectors``, writes go through ``previews``. Admins start previews and decide
on held runs; every member may read a plan. Every view resolves the tenant first (404 for strangers).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from integrations.models import Integration, PlanAction, RunState
from mappings.forms import EntitySettingsForm, MappingRowForm, apply_problems
from mappings.models import EntitySync
from mappings.services import ConfigInvalid
from mappings.views import _entity_sync, _integration, _tab_context
from tenants.access import scoped
from tenants.decorators import tenant_view
from tenants.models import Tenant

from . import preview_selectors, selectors
from .previews import current_rows, preview_start, run_cancel, run_confirm
from .services import RunRefused


def is_admin(access) -> bool:
    return access.is_admin


class PreviewStartForm(forms.Form):
    integration = forms.ModelChoiceField(queryset=Integration.objects.none(), empty_label=None)
    previews = forms.ChoiceField(choices=[("activation", "Activation"), ("reconcile", "Safety reconciliation"),
                                          ("import", "Initial import")])
    entity = forms.CharField(required=False, max_length=30)

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["integration"].queryset = scoped(Integration, tenant)


class PlanFilterForm(forms.Form):
    action = forms.ChoiceField(choices=[("", "Every action"), *PlanAction.choices], required=False)
    after = forms.IntegerField(required=False, min_value=0, max_value=2**62)


def _plan_url(request: HttpRequest, run_id: int) -> str:
    return reverse("run-plan", args=[request.tenant.slug, run_id])


def _go(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect, also for htmx (which would otherwise swap the next page into the form)."""
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@tenant_view(allow=is_admin)
@require_POST
def preview_start_view(request: HttpRequest) -> HttpResponse:
    """Start a preview of an activation, a reconciliation or an import (from the runs and integration pages)."""
    form = PreviewStartForm(request.POST, tenant=request.tenant)
    back = request.POST.get("back") or ""
    if not back.startswith(f"/t/{request.tenant.slug}/"):
        back = reverse("run-list", args=[request.tenant.slug])
    if not form.is_valid():
        messages.error(request, "Choose an integration and what to preview.")
        return redirect(back)
    try:
        run = preview_start(integration=form.cleaned_data["integration"], previews=form.cleaned_data["previews"],
                            entity=form.cleaned_data["entity"], user=request.user)
    except RunRefused as refusal:
        messages.error(request, str(refusal))
        return redirect(back)
    messages.success(request, "Preview started. It reads both systems and writes nothing.")
    return redirect(_plan_url(request, run.pk))


@tenant_view()
@require_safe
def run_plan(request: HttpRequest, run_id: int) -> HttpResponse:
    """A preview's (or a held run's) plan: counts per entity, direction and action, and the sample, paged."""
    run = selectors.run_get(tenant=request.tenant, run_id=run_id)
    if request.htmx and request.GET.get("progress"):
        response = render(request, "support/_preview_progress.html", {"run": run})
        if run.state != RunState.RUNNING:
            response["HX-Refresh"] = "true"
        return response
    filters = PlanFilterForm(request.GET)
    if not filters.is_valid():
        return render(request, "support/preview.html", _plan_context(request, run, filters, [], None), status=400)
    action, after = filters.cleaned_data["action"] or "", filters.cleaned_data["after"] or 0
    rows, next_after = preview_selectors.planned_page(tenant=request.tenant, run=run, action=action, after=after,
                                                      size=preview_selectors.PLAN_PAGE_SIZE)
    return render(request, "support/preview.html", _plan_context(request, run, filters, rows, next_after))


def _plan_context(request: HttpRequest, run, filters: PlanFilterForm, rows: list, next_after: int | None) -> dict:
    query = {"action": filters.data.get("action", "")} if filters.data.get("action") else {}
    next_url = ""
    if next_after is not None:
        params = request.GET.copy()
        params["after"] = str(next_after)
        next_url = f"{request.path}?{params.urlencode()}"
    return {"run": run, "title": preview_selectors.run_title(run), "filters": filters, "changes": rows,
            "next_url": next_url, "first_page": not request.GET.get("after"), "query": query,
            "actions": preview_selectors.plan_actions(), "plan_rows": preview_selectors.plan_rows(run=run),
            "guard_words": preview_selectors.run_guard_words(run), "section": "runs"}


@tenant_view(allow=is_admin)
@require_POST
def run_confirm_view(request: HttpRequest, run_id: int) -> HttpResponse:
    return _held_run_decide(request, run_id, run_confirm, "Confirmed: the {kind} goes on and writes.")


@tenant_view(allow=is_admin)
@require_POST
def run_cancel_view(request: HttpRequest, run_id: int) -> HttpResponse:
    return _held_run_decide(request, run_id, run_cancel, "Cancelled: the {kind} wrote nothing.")


def _held_run_decide(request: HttpRequest, run_id: int, decide, done: str) -> HttpResponse:
    """Confirm or cancel a run the guard holds; the refusal or the outcome is shown on the runs page."""
    run = selectors.run_get(tenant=request.tenant, run_id=run_id)
    try:
        decide(run=run, user=request.user)
    except RunRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, done.format(kind=run.get_kind_display().lower()))
    return redirect("run-list", tenant_slug=request.tenant.slug)


@tenant_view(allow=is_admin)
@require_POST
def entity_settings_preview(request: HttpRequest, integration_id: int, entity: str) -> HttpResponse:
    """Preview the entity settings form (or a new mapping row) as it would be saved; nothing is saved.

    The form is checked like a save; a problem shows beside its field, as on the settings page.
    """
    integration = _integration(request, integration_id)
    entity_sync = _entity_sync(request, integration, entity)
    from_row = request.POST.get("preview") == "row"
    form = EntitySettingsForm(None if from_row else request.POST, instance=EntitySync.objects.get(pk=entity_sync.pk))
    row_form = MappingRowForm(request.POST if from_row else None, entity_sync=entity_sync)
    settings: dict = {}
    rows = current_rows(entity_sync=entity_sync)
    checked = form if not from_row else row_form
    if checked.is_valid():
        if from_row:
            data = row_form.cleaned_data
            rows.append({"erp_field": data["erp_field"], "crm_field": data["crm_field"],
                         "direction": data.get("direction") or "", "value_map": data.get("value_map") or {},
                         "required": data.get("required", False), "overflow": data.get("overflow") or "shorten"})
        else:
            settings = form.changes()
        try:
            run = preview_start(integration=integration, previews="mapping", entity=entity_sync.entity,
                                config={"settings": settings, "rows": rows}, user=request.user)
        except ConfigInvalid as error:
            apply_problems(checked, error)
        except RunRefused as refusal:
            checked.add_error(None, str(refusal))
        else:
            return _go(request, _plan_url(request, run.pk))
    context = _tab_context(request, integration, entity_sync, form=form, row_form=row_form)
    if request.htmx and from_row:
        return render(request, "mappings/_mapping_table.html", context, status=400)
    return render(request, "mappings/entity_settings.html", context, status=400)
