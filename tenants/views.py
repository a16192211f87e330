"""Login, the tenant picker and the tenant home page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django_ratelimit.decorators import ratelimit

from integrations.models import Connection, Integration

from .access import scoped, tenants_for_user
from .decorators import tenant_view


@method_decorator(ratelimit(key="ip", rate=settings.LOGIN_RATE, method="POST", block=False), name="dispatch")
@method_decorator(ratelimit(key="post:username", rate=settings.LOGIN_RATE, method="POST", block=False),
                  name="dispatch")
class ThrottledLoginView(auth_views.LoginView):
    """Django's login, answering 429 once an address or a username makes too many attempts."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if getattr(request, "limited", False):
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, "Too many login attempts. Wait a minute and try again.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)


@login_required
def tenant_picker(request: HttpRequest) -> HttpResponse:
    tenants = list(tenants_for_user(request.user))
    if len(tenants) == 1:
        return redirect("tenant-home", tenant_slug=tenants[0].slug)
    return render(request, "tenants/picker.html", {"tenants": tenants})


@tenant_view()
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
    return render(request, "tenants/home.html", context)
