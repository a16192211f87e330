"""The tenant's "Alerts and data" settings screen. Everyone in the tenant reads it; administrators change it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tenants.decorators import tenant_view

from .forms import AlertSettingsForm
from .selectors import alert_settings_get
from .services import SETTINGS_FIELDS, alert_settings_update


@tenant_view()
@require_http_methods(["GET", "HEAD", "POST"])
def tenant_settings(request: HttpRequest) -> HttpResponse:
    """GET: the alert settings (read-only for customers and support). POST (admins only, else 403): save them;
    invalid input answers 400 with the form's errors and saves nothing."""
    current = alert_settings_get(tenant=request.tenant)
    form = AlertSettingsForm(request.POST or None, instance=current)
    status = 200
    if request.method == "POST":
        if not request.access.can_configure:
            raise PermissionDenied("Only administrators change the alert settings.")
        if form.is_valid():
            alert_settings_update(tenant=request.tenant, user=request.user,
                                  changes={name: form.cleaned_data[name] for name in SETTINGS_FIELDS})
            messages.success(request, "Alert settings saved.")
            return redirect("tenant-settings", tenant_slug=request.tenant.slug)
        status = 400
    return render(request, "alerts/settings.html", {"form": form, "section": "tenant-settings"}, status=status)
