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
    connections = scoped(Connection, request.tenant)
    integrations = scoped(Integration, request.tenant).select_related("crm_connection", "erp_connection")
    return render(request, "tenants/home.html", {"connections": connections, "integrations": integrations})
