"""The REST API under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from integrations.api import ConnectionViewSet, IntegrationViewSet
from mappings.api import (
    ConfigChangeViewSet,
    EntitySyncViewSet,
    FieldMappingViewSet,
    PosRegisterViewSet,
    PosSettingsViewSet,
    WebhookToggleViewSet,
)
from support.api import ConflictViewSet, DeadLetterViewSet, LogEntryViewSet, RunViewSet
from support.review_api import PossibleMatchViewSet
from tenants.api import MembershipViewSet, TenantViewSet

root = DefaultRouter()
root.register("tenants", TenantViewSet, basename="api-tenant")

tenant_router = DefaultRouter(trailing_slash=True)
tenant_router.include_root_view = False
tenant_router.register("memberships", MembershipViewSet, basename="api-membership")
tenant_router.register("connections", ConnectionViewSet, basename="api-connection")
tenant_router.register("integrations", IntegrationViewSet, basename="api-integration")
tenant_router.register("entity-syncs", EntitySyncViewSet, basename="api-entity-sync")
tenant_router.register("field-mappings", FieldMappingViewSet, basename="api-field-mapping")
tenant_router.register("webhook-toggles", WebhookToggleViewSet, basename="api-webhook-toggle")
tenant_router.register("pos-settings", PosSettingsViewSet, basename="api-pos-settings")
tenant_router.register("pos-registers", PosRegisterViewSet, basename="api-pos-register")
tenant_router.register("config-changes", ConfigChangeViewSet, basename="api-config-change")
tenant_router.register("log-entries", LogEntryViewSet, basename="api-log-entry")
tenant_router.register("runs", RunViewSet, basename="api-run")
tenant_router.register("conflicts", ConflictViewSet, basename="api-conflict")
tenant_router.register("dead-letters", DeadLetterViewSet, basename="api-dead-letter")
tenant_router.register("possible-matches", PossibleMatchViewSet, basename="api-possible-match")

urlpatterns = [
    path("", include(root.urls)),
    path("t/<slug:tenant_slug>/", include(tenant_router.urls)),
]
