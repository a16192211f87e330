from django.urls import path

from . import views

urlpatterns = [
    path("integrations/<int:integration_id>/settings/", views.entity_settings_index, name="entity-settings-index"),
    path("integrations/<int:integration_id>/settings/<slug:entity>/", views.entity_settings, name="entity-settings"),
    path("integrations/<int:integration_id>/settings/<slug:entity>/mappings/", views.mapping_add, name="mapping-add"),
    path("integrations/<int:integration_id>/settings/<slug:entity>/trigger-values/", views.trigger_values_refresh,
         name="trigger-values-refresh"),
    path("integrations/<int:integration_id>/mappings/<int:mapping_id>/remove/", views.mapping_remove,
         name="mapping-remove"),
    path("integrations/<int:integration_id>/webhooks/", views.webhook_settings, name="webhook-settings"),
    path("integrations/<int:integration_id>/webhooks/<int:toggle_id>/", views.webhook_toggle, name="webhook-toggle"),
    path("integrations/<int:integration_id>/schedules/", views.schedules, name="schedules"),
    path("integrations/<int:integration_id>/pos/", views.pos_settings, name="pos-settings"),
    path("integrations/<int:integration_id>/pos/registers/", views.pos_register_create, name="pos-register-create"),
    path("integrations/<int:integration_id>/pos/registers/<int:register_id>/delete/", views.pos_register_delete,
         name="pos-register-delete"),
    path("integrations/<int:integration_id>/audit/", views.audit_log, name="audit-log"),
]
