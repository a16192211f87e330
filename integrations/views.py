"""Screens for a tenant's connections and integrations. Thin: forms and services do the work."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mappings.defaults import integration_setup_defaults
from tenants.access import get_scoped_or_404, scoped
from tenants.decorators import can_configure, tenant_view

from .forms import SWITCH_SYSTEM, ConnectionForm, IntegrationForm
from .models import Connection, Integration
from .services import connection_test


@tenant_view()
@require_safe
def connection_list(request: HttpRequest) -> HttpResponse:
    connections = scoped(Connection, request.tenant)
    return render(request, "integrations/connection_list.html", {"connections": connections})


@tenant_view(allow=can_configure)
@require_http_methods(["GET", "HEAD", "POST"])
def connection_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and request.POST.get("switch") == SWITCH_SYSTEM:
        # The "System" choice changed: show that system's credential fields; nothing is validated or saved.
        form = ConnectionForm(tenant=request.tenant, system=request.POST.get("system"))
        return render(request, "integrations/connection_form.html", {"form": form, "creating": True})
    form = ConnectionForm(request.POST or None, tenant=request.tenant, system=request.GET.get("system"))
    if request.method == "POST" and form.is_valid():
        connection = form.save()
        messages.success(request, f"Connection “{connection.name}” saved. Test it to check the credentials.")
        return redirect("connection-list", tenant_slug=request.tenant.slug)
    return render(request, "integrations/connection_form.html", {"form": form, "creating": True})


@tenant_view(allow=can_configure)
@require_http_methods(["GET", "HEAD", "POST"])
def connection_edit(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = get_scoped_or_404(Connection, request.tenant, pk=connection_id)
    form = ConnectionForm(request.POST or None, instance=connection, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        form.save()
        changed = form.changed_credentials()
        note = f" New {', '.join(changed)} stored." if changed else ""
        messages.success(request, f"Connection “{connection.name}” saved.{note}")
        return redirect("connection-list", tenant_slug=request.tenant.slug)
    return render(request, "integrations/connection_form.html",
                  {"form": form, "connection": connection, "creating": False})


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
    form = IntegrationForm(request.POST or None, tenant=request.tenant)
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
    form = IntegrationForm(request.POST or None, instance=integration, tenant=request.tenant)
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
