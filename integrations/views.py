"""Screens for a tenant's connections and integrations. Thin: forms and services do the work."""

from __future__ import annotations

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mappings.defaults import integration_setup_defaults
from tenants.access import get_scoped_or_404, scoped, tenant_access_get
from tenants.decorators import can_configure, tenant_view

from .forms import SWITCH_SYSTEM, ConnectionForm, IntegrationForm
from .models import Connection, Integration
from .oauth import (
    ConnectRefused,
    fortnox_connect_start,
    fortnox_connect_state_take,
    fortnox_connection_connect,
    fortnox_denied_message,
)
from .services import connection_probe, connection_save_checked, connection_test
from .systems.fortnox.client import FORTNOX_AUTHORIZE_URL
from .systems.hosts import origin_of

#: The submit button's name that asks to connect through the vendor's consent page instead of saving typed credentials.
CONNECT = "connect"
#: "Connect to Fortnox" submits the connection form and is redirected to Fortnox's consent page: the form's page
#: must allow that origin as a form target (CSP ``form-action`` covers the redirect too).
FORTNOX_CONSENT_ORIGIN = "{}://{}".format(*origin_of(FORTNOX_AUTHORIZE_URL)[:2])


@tenant_view()
@require_safe
def connection_list(request: HttpRequest) -> HttpResponse:
    connections = scoped(Connection, request.tenant)
    return render(request, "integrations/connection_list.html", {"connections": connections})


@tenant_view(allow=can_configure)
@require_http_methods(["GET", "HEAD", "POST"])
@csp_update({"form-action": [FORTNOX_CONSENT_ORIGIN]})
def connection_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and request.POST.get("switch") == SWITCH_SYSTEM:
        # The "System" choice changed: show that system's credential fields; nothing is validated or saved.
        form = ConnectionForm(tenant=request.tenant, system=request.POST.get("system"))
        return render(request, "integrations/connection_form.html", {"form": form, "creating": True})
    connecting = request.method == "POST" and request.POST.get(CONNECT) == "fortnox"
    form = ConnectionForm(request.POST or None, tenant=request.tenant, system=request.GET.get("system"),
                          connecting=connecting)
    if request.method == "POST" and form.is_valid():
        if connecting and form.offers_consent:
            return _fortnox_consent(request, form, connection=None)
        connection = _saved_after_test(request, form)
        if connection is not None:
            return redirect("connection-list", tenant_slug=request.tenant.slug)
    return render(request, "integrations/connection_form.html", {"form": form, "creating": True})


@tenant_view(allow=can_configure)
@require_http_methods(["GET", "HEAD", "POST"])
@csp_update({"form-action": [FORTNOX_CONSENT_ORIGIN]})
def connection_edit(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = get_scoped_or_404(Connection, request.tenant, pk=connection_id)
    connecting = request.method == "POST" and request.POST.get(CONNECT) == "fortnox"
    form = ConnectionForm(request.POST or None, instance=connection, tenant=request.tenant, connecting=connecting)
    if request.method == "POST" and form.is_valid():
        if connecting and form.offers_consent:
            return _fortnox_consent(request, form, connection=connection)
        if _saved_after_test(request, form) is not None:
            return redirect("connection-list", tenant_slug=request.tenant.slug)
    return render(request, "integrations/connection_form.html",
                  {"form": form, "connection": connection, "creating": False})


def _saved_after_test(request: HttpRequest, form: ConnectionForm) -> Connection | None:
    """Test a valid connection form's credentials against the vendor, then save it; None (and a form error) when
    the vendor refused them. Unchanged credentials and address are saved without a test."""
    changed = form.changed_credentials() if form.instance.pk is not None else []
    connection = form.save(commit=False)
    probe = connection_probe(connection=connection, unsaved=True) if form.needs_test() else None
    if probe is not None and probe.checked and not probe.ok:
        form.add_error(None, f"Not saved: {probe.error}")
        return None
    connection_save_checked(connection=connection, probe=probe)
    note = f" New {', '.join(changed)} stored." if changed else ""
    if probe is None:
        messages.success(request, f"Connection “{connection.name}” saved.{note}")
    elif probe.ok:
        messages.success(request, f"Connection “{connection.name}” saved and working: {probe.detail}.{note}")
    else:
        messages.warning(request, f"Connection “{connection.name}” saved, but it could not be checked: "
                                  f"{probe.error} Test it again later.{note}")
    return connection


def _fortnox_consent(request: HttpRequest, form: ConnectionForm, *, connection: Connection | None) -> HttpResponse:
    """Send the browser to Fortnox's consent page for the connection of ``form`` (saved only when Fortnox says yes)."""
    redirect_uri = f"{settings.PUBLIC_BASE_URL.rstrip('/')}{reverse('fortnox-connect-return')}"
    try:
        address = fortnox_connect_start(
            session=request.session, tenant=request.tenant, user_id=request.user.pk, connection=connection,
            name=form.cleaned_data["name"], base_url=form.cleaned_data.get("base_url") or "",
            redirect_uri=redirect_uri)
    except ConnectRefused as refused:
        form.add_error(None, str(refused))
        return render(request, "integrations/connection_form.html",
                      {"form": form, "connection": connection, "creating": connection is None})
    return HttpResponseRedirect(address)


@login_required
@require_safe
def fortnox_connect_return(request: HttpRequest) -> HttpResponse:
    """Where Fortnox sends the browser back (the app's redirect URI, one for every tenant): ``code`` and ``state``,
    or ``error``. The state in this user's session names the tenant and connection; membership is checked again."""
    try:
        pending = fortnox_connect_state_take(session=request.session, state=request.GET.get("state", ""),
                                             user_id=request.user.pk)
    except ConnectRefused as refused:
        messages.error(request, str(refused))
        return redirect("tenant-picker")
    access = tenant_access_get(user=request.user, slug=pending.tenant_slug)
    if not access.can_configure:
        raise PermissionDenied("Your role in this tenant does not allow this.")
    back = redirect("connection-list", tenant_slug=access.tenant.slug)
    if request.GET.get("error") or not request.GET.get("code"):
        messages.error(request, fortnox_denied_message(error=request.GET.get("error", "") or "no code was given",
                                                       description=request.GET.get("error_description", "")))
        return back
    try:
        connection = fortnox_connection_connect(tenant=access.tenant, pending=pending, code=request.GET["code"])
    except ConnectRefused as refused:
        messages.error(request, str(refused))
        return back
    messages.success(request, f"Fortnox is connected: “{connection.name}” works ({connection.status_detail}).")
    return back


@tenant_view(allow=can_configure)
@require_POST
def connection_delete(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = get_scoped_or_404(Connection, request.tenant, pk=connection_id)
    if connection.integrations_as_crm.exists() or connection.integrations_as_erp.exists():
        messages.error(request, f"“{connection.name}” is used by an integration. Delete the integration first.")
    else:
        connection.delete()
        messages.success(request, f"Connection “{connection.name}” deleted.")
    return redirect("connection-list", tenant_slug=request.tenant.slug)


@tenant_view(allow=lambda access: access.can_configure or access.can_replay)
@require_POST
def connection_check(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = connection_test(connection=get_scoped_or_404(Connection, request.tenant, pk=connection_id))
    if request.htmx:
        return render(request, "integrations/_connection_row.html", {"connection": connection})
    if connection.status == "ok":
        messages.success(request, f"“{connection.name}” works: {connection.status_detail}")
    else:
        messages.error(request, f"“{connection.name}” failed: {connection.last_error}")
    return redirect("connection-list", tenant_slug=request.tenant.slug)


@tenant_view()
@require_safe
def integration_list(request: HttpRequest) -> HttpResponse:
    integrations = scoped(Integration, request.tenant).select_related("crm_connection", "erp_connection")
    return render(request, "integrations/integration_list.html", {"integrations": integrations})


@tenant_view(allow=can_configure)
@require_http_methods(["GET", "HEAD", "POST"])
def integration_create(request: HttpRequest) -> HttpResponse:
    form = IntegrationForm(request.POST or None, tenant=request.tenant, user=request.user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            integration = form.save()
            integration_setup_defaults(integration=integration, user=request.user)
        messages.success(request, f"Integration “{integration.name}” created with default settings. "
                                  "Review what to sync before switching it on.")
        return redirect("integration-detail", tenant_slug=request.tenant.slug, integration_id=integration.pk)
    return render(request, "integrations/integration_form.html", {"form": form, "creating": True})


@tenant_view()
@require_safe
def integration_detail(request: HttpRequest, integration_id: int) -> HttpResponse:
    integration = get_scoped_or_404(
        scoped(Integration, request.tenant).select_related("crm_connection", "erp_connection"),
        request.tenant, pk=integration_id,
    )
    entity_syncs = integration.entity_syncs.all()
    return render(request, "integrations/integration_detail.html",
                  {"integration": integration, "entity_syncs": entity_syncs, "section": "overview"})


@tenant_view(allow=can_configure)
@require_http_methods(["GET", "HEAD", "POST"])
def integration_edit(request: HttpRequest, integration_id: int) -> HttpResponse:
    integration = get_scoped_or_404(Integration, request.tenant, pk=integration_id)
    form = IntegrationForm(request.POST or None, instance=integration, tenant=request.tenant, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Integration “{integration.name}” saved.")
        return redirect("integration-detail", tenant_slug=request.tenant.slug, integration_id=integration.pk)
    return render(request, "integrations/integration_form.html",
                  {"form": form, "integration": integration, "creating": False})


@tenant_view(allow=can_configure)
@require_POST
def integration_delete(request: HttpRequest, integration_id: int) -> HttpResponse:
    integration = get_scoped_or_404(Integration, request.tenant, pk=integration_id)
    integration.delete()
    messages.success(request, f"Integration “{integration.name}” deleted.")
    return redirect("integration-list", tenant_slug=request.tenant.slug)
