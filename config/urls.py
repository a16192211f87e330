from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from integrations.webhooks import webhook_receive
from tenants import views as tenant_views

urlpatterns = [
    path("", tenant_views.tenant_picker, name="tenant-picker"),
    path("accounts/login/", tenant_views.ThrottledLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("t/<slug:tenant_slug>/", include("tenants.urls")),
    path("hooks/<str:system>/<str:token>/", webhook_receive, name="webhook-receive"),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
