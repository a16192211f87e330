from django.urls import path

from . import views

urlpatterns = [
    path("settings/", views.tenant_settings, name="tenant-settings"),
]
