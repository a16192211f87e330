"""The sync configuration through the REST API, with the screens' validation and role rules."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as DRFValidationError

from tenants.access import row_id, scoped
from tenants.api import TenantRolePermission, TenantScopedMixin
from tenants.filters import RowIdFilter

from .models import (
    ConfigChange,
    EntitySync,
    FieldDirection,
    FieldMapping,
    Overflow,
    PosRegister,
    PosSettings,
    WebhookToggle,
)
from .selectors import allowed_directions
from .services import (
    ENTITY_SETTINGS_FIELDS,
    ConfigInvalid,
    entity_length_warnings,
    entity_sync_update,
    field_mapping_add,
    field_mapping_remove,
    field_mapping_update,
    pos_register_add,
    pos_register_remove,
    pos_settings_update,
    webhook_toggle_set,
)
from .validation import MAX_LIST_VALUE_LENGTH, MAX_ORDER_TYPES, MAX_TRIGGER_VALUES, MAX_VALUE_MAP_TEXT


def _invalid(error: ConfigInvalid) -> DRFValidationError:
    return DRFValidationError(error.by_field())


class TenantObjectMixin(TenantScopedMixin):
    permission_classes = [permissions.IsAuthenticated, TenantRolePermission]
    model: type

    def get_queryset(self):
        return scoped(self.model, self.tenant)

    def get_object(self):
        pk = row_id(self.kwargs.get("pk"))
        if pk is None:
            raise NotFound()
        obj = get_object_or_404(self.filter_queryset(self.get_queryset()), pk=pk)
        self.check_object_permissions(self.request, obj)
        return obj


class StringListField(serializers.ListField):
    child = serializers.CharField(max_length=MAX_LIST_VALUE_LENGTH)


class EntitySyncSerializer(serializers.ModelSerializer):
    trigger_values = StringListField(required=False, max_length=MAX_TRIGGER_VALUES)
    accepted_order_types = StringListField(required=False, max_length=MAX_ORDER_TYPES)

    class Meta:
        model = EntitySync
        fields = ["id", "integration", "entity", *ENTITY_SETTINGS_FIELDS, "updated_at"]
        read_only_fields = ["id", "integration", "entity", "updated_at"]

    def validate_polling_interval_seconds(self, value: int) -> int:
        if value < 10:
            raise serializers.ValidationError("Poll at most every 10 seconds, to stay within the vendors' limits.")
        return value

    def validate(self, attrs):
        interval = attrs.get("polling_interval_seconds", getattr(self.instance, "polling_interval_seconds", 60))
        offset = attrs.get("polling_offset_seconds", getattr(self.instance, "polling_offset_seconds", 0))
        if offset >= interval:
            raise serializers.ValidationError(
                {"polling_offset_seconds": "The offset must be shorter than the interval."})
        direction = attrs.get("direction")
        if direction and self.instance and direction not in allowed_directions(self.instance.integration,
                                                                                self.instance.entity):
            raise serializers.ValidationError({"direction": f"{self.instance.get_entity_display()} cannot sync "
                                                            f"that way."})
        return attrs

    def update(self, instance, validated_data):
        try:
            entity_sync_update(entity_sync=instance, user=self.context["request"].user, changes=validated_data)
        except ConfigInvalid as error:
            raise _invalid(error) from None
        instance.refresh_from_db()
        return instance


# The lists' filters name rows by id with RowIdFilter: the list is already the tenant's own rows, so another
# tenant's id matches nothing — the same answer as an id that does not exist.

class EntitySyncFilter(filters.FilterSet):
    integration = RowIdFilter(field_name="integration")

    class Meta:
        model = EntitySync
        fields = ["integration", "entity", "direction"]


class EntitySyncViewSet(TenantObjectMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """How each entity of an integration syncs. Created with the integration; changed, never added."""

    model = EntitySync
    queryset = EntitySync.objects.none()  # for the schema; get_queryset() gives the tenant's rows
    serializer_class = EntitySyncSerializer
    filterset_class = EntitySyncFilter


class FieldMappingSerializer(serializers.ModelSerializer):
    entity_sync = serializers.PrimaryKeyRelatedField(queryset=EntitySync.objects.none())
    direction = serializers.ChoiceField(choices=FieldDirection.choices, required=False, allow_blank=True)
    value_map = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=MAX_VALUE_MAP_TEXT),
                                      required=False)
    overflow = serializers.ChoiceField(choices=Overflow.choices, required=False,
                                       help_text="A value longer than the target holds: shorten (at a word boundary, "
                                                 "noted in the log) or refuse (the record waits, nothing written)")
    warnings = serializers.SerializerMethodField(
        help_text="What to know about this row that does not stop it from being saved, e.g. a source that can be "
                  "longer than its target")

    class Meta:
        model = FieldMapping
        fields = ["id", "entity_sync", "erp_field", "crm_field", "direction", "value_map", "required",
                  "conflict_owner", "overflow", "position", "warnings"]
        read_only_fields = ["id"]

    def get_fields(self):
        fields = super().get_fields()
        tenant = self.context.get("tenant")
        if tenant is not None:
            fields["entity_sync"].queryset = scoped(EntitySync, tenant)
        return fields

    def get_warnings(self, mapping: FieldMapping) -> list[str]:
        return entity_length_warnings(entity_sync=mapping.entity_sync).get(mapping.pk, [])

    def validate_entity_sync(self, value):
        if self.instance is not None and value.pk != self.instance.entity_sync_id:
            raise serializers.ValidationError("A mapping row cannot move to another entity.")
        return value

    def create(self, validated_data):
        validated_data.pop("position", None)
        try:
            return field_mapping_add(user=self.context["request"].user, **validated_data)
        except ConfigInvalid as error:
            raise _invalid(error) from None

    def update(self, instance, validated_data):
        validated_data.pop("entity_sync", None)
        try:
            return field_mapping_update(mapping=instance, user=self.context["request"].user, changes=validated_data)
        except ConfigInvalid as error:
            raise _invalid(error) from None


class FieldMappingFilter(filters.FilterSet):
    entity_sync = RowIdFilter(field_name="entity_sync")
    integration = RowIdFilter(field_name="entity_sync__integration")
    entity = filters.CharFilter(field_name="entity_sync__entity")

    class Meta:
        model = FieldMapping
        fields = ["entity_sync", "integration", "entity"]


class FieldMappingViewSet(TenantObjectMixin, viewsets.ModelViewSet):
    """Rows of the mapping tables. Every write is validated against both systems' catalogs."""

    model = FieldMapping
    queryset = FieldMapping.objects.none()  # for the schema; get_queryset() gives the tenant's rows
    serializer_class = FieldMappingSerializer
    filterset_class = FieldMappingFilter

    def get_queryset(self):
        return super().get_queryset().select_related("entity_sync__integration")

    def perform_destroy(self, instance):
        try:
            field_mapping_remove(mapping=instance, user=self.request.user)
        except ConfigInvalid as error:
            raise _invalid(error) from None


class WebhookToggleSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookToggle
        fields = ["id", "integration", "system", "entity", "action", "enabled"]
        read_only_fields = ["id", "integration", "system", "entity", "action"]

    def update(self, instance, validated_data):
        if "enabled" in validated_data:
            webhook_toggle_set(toggle=instance, user=self.context["request"].user, enabled=validated_data["enabled"])
        return instance


class WebhookToggleFilter(filters.FilterSet):
    integration = RowIdFilter(field_name="integration")

    class Meta:
        model = WebhookToggle
        fields = ["integration", "system", "entity", "action", "enabled"]


class WebhookToggleViewSet(TenantObjectMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Which events of which system are acted upon. Customers may change these."""

    model = WebhookToggle
    queryset = WebhookToggle.objects.none()  # for the schema; get_queryset() gives the tenant's rows
    serializer_class = WebhookToggleSerializer
    write_permission = "can_toggle_webhooks"
    filterset_class = WebhookToggleFilter


class PosSettingsSerializer(serializers.ModelSerializer):
    variant_fields = serializers.DictField(child=serializers.RegexField(r"^x[A-Za-z0-9_]+$", max_length=60),
                                           required=False)

    class Meta:
        model = PosSettings
        fields = ["id", "integration", "default_debtor_group", "default_pos_debtor", "default_item_group",
                  "auto_invoice_cash_sales", "auto_invoice_debtor_sales", "pos_journal", "cash_gl_account",
                  "difference_gl_account", "cash_payment_name", "debtor_payment_name", "daily_report_time",
                  "variant_fields", "updated_at"]
        read_only_fields = ["id", "integration", "updated_at"]

    def validate_variant_fields(self, value: dict) -> dict:
        known = set(self.instance.variant_fields) if self.instance else set(value)
        unknown = sorted(set(value) - known)
        if unknown:
            raise serializers.ValidationError(f"Unknown variant fields: {', '.join(unknown)}; "
                                              f"known: {', '.join(sorted(known))}.")
        return {**(self.instance.variant_fields if self.instance else {}), **value}

    def update(self, instance, validated_data):
        pos_settings_update(pos_settings=instance, user=self.context["request"].user, changes=validated_data)
        instance.refresh_from_db()
        return instance


class PosSettingsFilter(filters.FilterSet):
    integration = RowIdFilter(field_name="integration")

    class Meta:
        model = PosSettings
        fields = ["integration"]


class PosSettingsViewSet(TenantObjectMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Customers 1st → Uniconta bookkeeping settings (one per POS integration)."""

    model = PosSettings
    queryset = PosSettings.objects.none()  # for the schema; get_queryset() gives the tenant's rows
    serializer_class = PosSettingsSerializer
    filterset_class = PosSettingsFilter


class PosRegisterSerializer(serializers.ModelSerializer):
    pos_settings = serializers.PrimaryKeyRelatedField(queryset=PosSettings.objects.none())

    class Meta:
        model = PosRegister
        fields = ["id", "pos_settings", "register_id", "name", "cash_gl_account"]
        read_only_fields = ["id"]

    def get_fields(self):
        fields = super().get_fields()
        if self.context.get("tenant") is not None:
            fields["pos_settings"].queryset = scoped(PosSettings, self.context["tenant"])
        return fields

    def validate(self, attrs):
        pos = attrs.get("pos_settings") or getattr(self.instance, "pos_settings", None)
        register_id = attrs.get("register_id") or getattr(self.instance, "register_id", None)
        clash = PosRegister.objects.filter(pos_settings=pos, register_id=register_id)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError({"register_id": "This register is already listed."})
        return attrs

    def create(self, validated_data):
        return pos_register_add(user=self.context["request"].user, **validated_data)


class PosRegisterFilter(filters.FilterSet):
    pos_settings = RowIdFilter(field_name="pos_settings")

    class Meta:
        model = PosRegister
        fields = ["pos_settings"]


class PosRegisterViewSet(TenantObjectMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The shop's registers; each gets its own daily report."""

    model = PosRegister
    queryset = PosRegister.objects.none()  # for the schema; get_queryset() gives the tenant's rows
    serializer_class = PosRegisterSerializer
    filterset_class = PosRegisterFilter

    def perform_destroy(self, instance):
        pos_register_remove(register=instance, user=self.request.user)


class ConfigChangeSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ConfigChange
        fields = ["id", "integration", "user", "at", "action", "subject", "changes"]
        read_only_fields = fields


class ConfigChangeFilter(filters.FilterSet):
    integration = RowIdFilter(field_name="integration")

    class Meta:
        model = ConfigChange
        fields = ["integration", "action"]


class ConfigChangeViewSet(TenantObjectMixin, viewsets.ReadOnlyModelViewSet):
    """The configuration audit trail, newest first."""

    model = ConfigChange
    queryset = ConfigChange.objects.none()  # for the schema; get_queryset() gives the tenant's rows
    serializer_class = ConfigChangeSerializer
    filterset_class = ConfigChangeFilter

    def get_queryset(self):
        return super().get_queryset().select_related("user")
