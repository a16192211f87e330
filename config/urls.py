from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from integrations.views import fortnox_connect_return
from integrations.webhooks import webhook_receive
from tenants import views as tenant_views
from tenants.login import AdminLoginForm

# The admin's login normalises the username like the site's; both are throttled by django-axes.
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("", tenant_views.tenant_picker, name="tenant-picker"),
    path("accounts/login/", tenant_views.ThrottledLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("t/<slug:tenant_slug>/", include("tenants.urls")),
    path("hooks/<str:system>/<str:token>/", webhook_receive, name="webhook-receive"),
    # The Fortnox app's redirect URI: one address for every tenant (Fortnox compares it with the registered one).
    path("connections/fortnox/return/", fortnox_connect_return, name="fortnox-connect-return"),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file, so no inline script is needed (CSP).
    path("api/docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
    path("admin/", admin.site.urls),
]
