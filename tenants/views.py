"""Login, the tenant picker, the tenant home page and how long the tenant keeps its sync history."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from integrations.models import Connection, Integration

from .access import scoped, tenants_for_user
from .decorators import can_configure, tenant_view
from .forms import RetentionForm
from .login import LoginForm
from .retention import tenant_retention_set


class ThrottledLoginView(auth_views.LoginView):
    """Django's login with the username normalised. Failed logins are counted by django-axes (per client
    address and per username, in the database); a locked-out client gets the lockout page with 429."""

    template_name = "registration/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True


@login_required
@require_safe
def tenant_picker(request: HttpRequest) -> HttpResponse:
    tenants = list(tenants_for_user(request.user))
    if len(tenants) == 1:
        return redirect("tenant-home", tenant_slug=tenants[0].slug)
    return render(request, "tenants/picker.html", {"tenants": tenants})


@tenant_view()
@require_safe
def tenant_home(request: HttpRequest) -> HttpResponse:
    """Each integration's health at a glance, and syncs and failures per hour over the last 7 days."""
    from support.charts import activity_chart
    from support.selectors import dashboard, hourly_activity

    connections = scoped(Connection, request.tenant)
    integrations = scoped(Integration, request.tenant).select_related("crm_connection", "erp_connection")
    context = {"connections": connections, "integrations": integrations, "section": "dashboard"}
    if integrations:
        context["health"] = dashboard(tenant=request.tenant)
        context["open_matches"] = sum(h.open_matches for h in context["health"])
        context["chart"] = activity_chart(hourly_activity(tenant=request.tenant))
        context["runs_in_progress"] = _runs_in_progress(request)
    _alerts_add(request, context)
    return render(request, "tenants/home.html", context)


def _alerts_add(request: HttpRequest, context: dict) -> None:
    """The banner's firing alerts and the webhook-miss rates of the last 4 weeks (a few grouped queries)."""
    from django.utils import timezone

    from alerts.rules import alerts_firing
    from alerts.selectors import webhook_miss_rates

    now = timezone.now()
    context["alerts"] = alerts_firing(tenant=request.tenant, now=now)
    context["miss_rates"] = webhook_miss_rates(tenant=request.tenant, now=now)


def _runs_in_progress(request: HttpRequest) -> list:
    """Imports, reconciliations and replays still running (at most 10, newest first), their progress brought up to
    date as the runs screen does; the demo's first imports show here from the first start."""
    from integrations.engine.runs import run_progress
    from integrations.models import RunKind, RunState, SyncRun

    running = (scoped(SyncRun, request.tenant).filter(state=RunState.RUNNING).exclude(kind=RunKind.PREVIEW)
               .select_related("integration")[:10])
    return [run for run in (run_progress(run) for run in running) if run.state == RunState.RUNNING]


@tenant_view(allow=can_configure)
@require_POST
def retention_update(request: HttpRequest) -> HttpResponse:
    """How long the tenant keeps its sync history (administrators only); back to the settings screen with a message."""
    form = RetentionForm(request.POST)
    if form.is_valid():
        days = form.cleaned_data["retention_days"]
        tenant_retention_set(tenant=request.tenant, days=days)
        messages.success(request, f"Sync history is now kept for {days} days; the next daily clean-up applies it.")
        return redirect(reverse("tenant-settings", args=[request.tenant.slug]) + "#retention")
    problems = " ".join(error for errors in form.errors.values() for error in errors)
    messages.error(request, f"The history setting was not changed. {problems}")
    # the page's top, where the message stands: a jump to the section would hide it on a phone
    return redirect(reverse("tenant-settings", args=[request.tenant.slug]))
