"""The tenant part of the REST API: tenants the caller may enter, and memberships."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import NotFound

from .access import TenantAccess, row_id, scoped, tenant_access_get, tenants_for_user
from .models import Membership, Role, Tenant


class TenantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["slug", "name", "active"]
        read_only_fields = fields


class TenantViewSet(viewsets.ReadOnlyModelViewSet):
    """Tenants the caller is a member of (all active ones for platform staff)."""

    serializer_class = TenantSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return tenants_for_user(self.request.user)


class TenantScopedMixin:
    """Resolves ``tenant_slug`` from the URL: 404 for non-members, like the screens."""

    tenant_scoped = True
    #: Which access property a write needs ("can_configure", "can_toggle_webhooks", "can_replay").
    write_permission = "can_configure"

    @property
    def access(self) -> TenantAccess:
        if not hasattr(self, "_access"):
            slug = self.kwargs.get("tenant_slug", "")
            self._access = tenant_access_get(user=self.request.user, slug=slug)
        return self._access

    @property
    def tenant(self) -> Tenant:
        return self.access.tenant

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.access  # noqa: B018 - resolve early so non-members get 404 before anything else

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if "tenant_slug" in self.kwargs and self.request.user.is_authenticated:
            context["tenant"] = self.tenant
        return context


class TenantRolePermission(permissions.BasePermission):
    """Reads for every member; writes only where the role allows (see ``write_permission``)."""

    message = "Your role in this tenant does not allow this change."

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(getattr(view.access, view.write_permission))


class MembershipUsernameField(serializers.SlugRelatedField):
    """A username among the users this tenant's admin may name: members of the tenant, and active accounts that
    belong to no tenant yet (made for them by platform staff). Someone else's member, platform staff and a name
    nobody has all get the same answer, so the API does not tell whether a username exists."""

    default_error_messages = {
        "does_not_exist": "No user with this username can be added to this tenant.",
        "invalid": "No user with this username can be added to this tenant.",
    }

    def get_queryset(self):
        tenant = self.context["tenant"]
        users = get_user_model().objects.filter(is_active=True, is_staff=False, is_superuser=False)
        return users.filter(Q(memberships__tenant=tenant) | Q(memberships__isnull=True)).distinct()


class MembershipSerializer(serializers.ModelSerializer):
    username = MembershipUsernameField(
        source="user", slug_field="username", queryset=get_user_model().objects.none(),
        help_text="The username of a member, or of an account that belongs to no tenant yet",
    )
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["id", "username", "role", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_username(self, user):
        tenant = self.context["tenant"]
        clash = Membership.objects.filter(tenant=tenant, user=user)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError("This user is already a member of the tenant.")
        return user


@extend_schema(tags=["tenants"])
class MembershipViewSet(TenantScopedMixin, viewsets.ModelViewSet):
    """Who may enter a tenant, and in which role. Administrators change them."""

    queryset = Membership.objects.none()  # for the schema; get_queryset() gives the tenant's rows
    serializer_class = MembershipSerializer
    permission_classes = [permissions.IsAuthenticated, TenantRolePermission]

    def get_queryset(self):
        return scoped(Membership, self.tenant).select_related("user")

    def get_object(self):
        pk = row_id(self.kwargs.get("pk"))
        if pk is None:
            raise NotFound()
        return get_object_or_404(self.get_queryset(), pk=pk)

    def perform_create(self, serializer):
        serializer.save(tenant=self.tenant)
