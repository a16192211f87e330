"""Connections and integrations through the REST API. Credentials are write-only here too."""

from __future__ import annotations

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from mappings.defaults import integration_setup_defaults
from tenants.access import scoped
from tenants.api import TenantRolePermission, TenantScopedMixin

from .models import Connection, Integration, integration_pair_errors
from .services import (
    ActivationRefused,
    connection_probe,
    connection_save_checked,
    connection_test,
    integration_activation_refusals,
    integration_save,
    integration_switched_on,
    secrets_to_enter_again,
)
from .systems.base import CREDENTIAL_MAX_LENGTH
from .systems.hosts import base_url_problem
from .systems.registry import get_system, system_choices


class ConnectionSerializer(serializers.ModelSerializer):
    system = serializers.ChoiceField(choices=system_choices())
    credentials = serializers.DictField(
        child=serializers.CharField(allow_blank=False, max_length=CREDENTIAL_MAX_LENGTH), write_only=True,
        required=False,
        help_text="Credential values by name (see the system's credential fields). Write-only; "
                  "on update only the names given are replaced.",
    )
    credentials_set = serializers.SerializerMethodField(help_text="Names of the credentials stored (never values)")
    public_credentials = serializers.SerializerMethodField(help_text="Credential values that are not secret")

    class Meta:
        model = Connection
        fields = ["id", "system", "name", "base_url", "credentials", "credentials_set", "public_credentials",
                  "status", "status_detail", "last_error", "last_checked_at", "last_success_at", "failing_since",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "status", "status_detail", "last_error", "last_checked_at", "last_success_at",
                            "failing_since", "created_at", "updated_at"]

    def get_credentials_set(self, obj: Connection) -> list[str]:
        return obj.credential_names_set()

    def get_public_credentials(self, obj: Connection) -> dict[str, str]:
        return obj.public_credentials()

    def validate_name(self, name: str) -> str:
        clash = scoped(Connection, self.context["tenant"]).filter(name=name)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError("Another connection of this tenant already has this name.")
        return name

    def validate(self, attrs):
        if self.instance is not None and "system" in attrs and attrs["system"] != self.instance.system:
            raise serializers.ValidationError({"system": "The system of a connection cannot change."})
        system = attrs.get("system") or self.instance.system
        provider = get_system(system)
        known = {f.name for f in provider.credential_fields}
        given = attrs.get("credentials", {})
        unknown = sorted(set(given) - known)
        if unknown:
            raise serializers.ValidationError(
                {"credentials": f"{provider.name} takes no credential named {', '.join(unknown)}; "
                                f"it takes {', '.join(sorted(known))}."})
        stored = self.instance.credentials if self.instance is not None else {}
        missing = [f.name for f in provider.credential_fields if f.required and not (given.get(f.name)
                                                                                       or stored.get(f.name))]
        if missing:
            raise serializers.ValidationError({"credentials": f"Missing: {', '.join(missing)}."})
        base_url = attrs.get("base_url", self.instance.base_url if self.instance else "")
        problem = base_url_problem(base_url or provider.default_base_url, provider=provider)
        if problem:
            raise serializers.ValidationError({"base_url": problem})
        if self.instance is not None:
            again = secrets_to_enter_again(connection=self.instance, base_url=base_url,
                                           given={k for k, v in given.items() if v})
            if again:
                raise serializers.ValidationError({"credentials": (
                    "Stored secrets are sent only to the host they were entered for. To move this connection to "
                    f"another host, give again: {', '.join(again)}.")})
        return attrs

    def create(self, validated_data):
        credentials = validated_data.pop("credentials", {})
        return self._saved_after_test(Connection(tenant=self.context["tenant"], credentials=credentials,
                                                 **validated_data), test=True)

    def update(self, instance: Connection, validated_data):
        credentials = validated_data.pop("credentials", None)
        test = bool(credentials)
        if credentials:
            instance.credentials = {**instance.credentials, **credentials}
            instance.status = "untested"
        if "base_url" in validated_data and validated_data["base_url"] != instance.base_url:
            instance.status, instance.status_detail, instance.last_error = "untested", "", ""
            test = True
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return self._saved_after_test(instance, test=test)

    @staticmethod
    def _saved_after_test(connection: Connection, *, test: bool) -> Connection:
        """Test new credentials or a new address with the vendor before saving, as the screen does: a refusal is a
        400 naming the vendor's reason and nothing is saved; an unreachable vendor saves it as not tested."""
        probe = connection_probe(connection=connection, unsaved=True) if test else None
        if probe is not None and probe.checked and not probe.ok:
            raise serializers.ValidationError({"credentials": [f"Not saved: {probe.error}"]})
        return connection_save_checked(connection=connection, probe=probe)


class ConnectionViewSet(TenantScopedMixin, viewsets.ModelViewSet):
    """A tenant's connections to external systems."""

    queryset = Connection.objects.none()  # for the schema; get_queryset() gives the tenant's rows
    serializer_class = ConnectionSerializer
    permission_classes = [permissions.IsAuthenticated, TenantRolePermission]

    def get_queryset(self):
        return scoped(Connection, self.tenant)

    def get_object(self):
        try:
            return get_object_or_404(self.get_queryset(), pk=int(self.kwargs["pk"]))
        except ValueError:
            raise NotFound() from None

    def perform_destroy(self, instance: Connection):
        if instance.integrations_as_crm.exists() or instance.integrations_as_erp.exists():
            raise serializers.ValidationError("This connection is used by an integration; delete that first.")
        instance.delete()

    @extend_schema(request=None, responses=ConnectionSerializer)
    # Not a configuration change: admins and support may test (checked below), like on the screen.
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def test(self, request, tenant_slug: str, pk: str):
        """Make one authenticated call to the system and store the outcome (admins and support)."""
        if not (self.access.can_configure or self.access.can_replay):
            self.permission_denied(request, message="Your role in this tenant does not allow this.")
        connection = connection_test(connection=self.get_object())
        return Response(self.get_serializer(connection).data)


class IntegrationSerializer(serializers.ModelSerializer):
    crm_connection = serializers.PrimaryKeyRelatedField(queryset=Connection.objects.none())
    erp_connection = serializers.PrimaryKeyRelatedField(queryset=Connection.objects.none())

    class Meta:
        model = Integration
        fields = ["id", "name", "crm_connection", "erp_connection", "active", "guard_share", "guard_minimum",
                  "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"guard_share": {"min_value": 1, "max_value": 100},
                        "guard_minimum": {"min_value": 1, "max_value": 1_000_000}}

    def get_fields(self):
        fields = super().get_fields()
        tenant = self.context.get("tenant")
        if tenant is not None:
            fields["crm_connection"].queryset = scoped(Connection, tenant)
            fields["erp_connection"].queryset = scoped(Connection, tenant)
        return fields

    def validate_name(self, name: str) -> str:
        clash = scoped(Integration, self.context["tenant"]).filter(name=name)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError("Another integration of this tenant already has this name.")
        return name

    def validate(self, attrs):
        crm = attrs.get("crm_connection") or getattr(self.instance, "crm_connection", None)
        erp = attrs.get("erp_connection") or getattr(self.instance, "erp_connection", None)
        errors = integration_pair_errors(tenant_id=self.context["tenant"].pk, crm=crm, erp=erp)
        if errors:
            raise serializers.ValidationError(errors)
        candidate = self._candidate(attrs)
        if integration_switched_on(candidate):
            refusals = integration_activation_refusals(integration=candidate)
            if refusals:
                raise serializers.ValidationError({"active": refusals})
        return attrs

    def _candidate(self, attrs) -> Integration:
        """The integration as it would be saved (unsaved, for the checks)."""
        if self.instance is None:
            return Integration(tenant=self.context["tenant"], **{k: v for k, v in attrs.items() if k != "id"})
        candidate = Integration.objects.get(pk=self.instance.pk)
        for name, value in attrs.items():
            setattr(candidate, name, value)
        return candidate

    def create(self, validated_data):
        with transaction.atomic():
            try:
                integration = integration_save(integration=Integration(tenant=self.context["tenant"],
                                                                       **validated_data),
                                               user=self.context["request"].user)
            except ActivationRefused as refused:
                raise serializers.ValidationError({"active": refused.reasons}) from None
            integration_setup_defaults(integration=integration, user=self.context["request"].user)
        return integration

    def update(self, instance: Integration, validated_data):
        for name, value in validated_data.items():
            setattr(instance, name, value)
        try:
            return integration_save(integration=instance, user=self.context["request"].user)
        except ActivationRefused as refused:
            raise serializers.ValidationError({"active": refused.reasons}) from None


class IntegrationViewSet(TenantScopedMixin, viewsets.ModelViewSet):
    """Pairs of connections kept in sync."""

    queryset = Integration.objects.none()  # for the schema; get_queryset() gives the tenant's rows
    serializer_class = IntegrationSerializer
    permission_classes = [permissions.IsAuthenticated, TenantRolePermission]

    def get_queryset(self):
        return scoped(Integration, self.tenant)

    def get_object(self):
        try:
            return get_object_or_404(self.get_queryset(), pk=int(self.kwargs["pk"]))
        except ValueError:
            raise NotFound() from None
