from django.urls import path

from . import views

urlpatterns = [
    path("connections/", views.connection_list, name="connection-list"),
    path("connections/new/", views.connection_create, name="connection-create"),
    path("connections/<int:connection_id>/edit/", views.connection_edit, name="connection-edit"),
    path("connections/<int:connection_id>/delete/", views.connection_delete, name="connection-delete"),
    path("connections/<int:connection_id>/test/", views.connection_check, name="connection-test"),
    path("integrations/", views.integration_list, name="integration-list"),
    path("integrations/new/", views.integration_create, name="integration-create"),
    path("integrations/<int:integration_id>/", views.integration_detail, name="integration-detail"),
    path("integrations/<int:integration_id>/edit/", views.integration_edit, name="integration-edit"),
    path("integrations/<int:integration_id>/delete/", views.integration_delete, name="integration-delete"),
]
