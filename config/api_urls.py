"""The REST API under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from integrations.api import ConnectionViewSet, IntegrationViewSet
from tenants.api import MembershipViewSet, TenantViewSet

root = DefaultRouter()
root.register("tenants", TenantViewSet, basename="api-tenant")

tenant_router = DefaultRouter(trailing_slash=True)
tenant_router.include_root_view = False
tenant_router.register("memberships", MembershipViewSet, basename="api-membership")
tenant_router.register("connections", ConnectionViewSet, basename="api-connection")
tenant_router.register("integrations", IntegrationViewSet, basename="api-integration")

urlpatterns = [
    path("", include(root.urls)),
    path("t/<slug:tenant_slug>/", include(tenant_router.urls)),
]
