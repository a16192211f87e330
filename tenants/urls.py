from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.tenant_home, name="tenant-home"),
    path("settings/retention/", views.retention_update, name="tenant-retention"),
    path("", include("integrations.urls")),
    path("", include("mappings.urls")),
    path("", include("support.urls")),
    path("", include("alerts.urls")),
]
