"""Previews and held runs through the REST API: start a preview, list a plan's records, confirm or cancel.

The actions live on the runs endpoint (``RunViewSet`` takes :class:`RunPreviewActions`): a preview and a
held run are runs. Admins start previews and decide on held runs; every member may read a plan.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from integrations.models import Integration, PlanAction, PlannedChange
from mappings.api import EntitySyncSerializer
from mappings.models import ConflictOwner, EntitySync, Overflow
from mappings.services import ConfigInvalid
from tenants.access import scoped
from tenants.pagination import KeysetPages

from . import preview_selectors
from .previews import preview_start, run_cancel, run_confirm
from .services import RunRefused


class PlannedChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlannedChange
        fields = ["id", "entity", "direction", "action", "crm_id", "erp_id", "label", "changes", "identity", "reason"]
        read_only_fields = fields


class MappingRowSerializer(serializers.Serializer):
    erp_field = serializers.CharField(max_length=120)
    crm_field = serializers.CharField(max_length=120)
    direction = serializers.ChoiceField(choices=["", "to_erp", "to_crm"], required=False, default="")
    value_map = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=200), required=False,
                                      default=dict)
    required = serializers.BooleanField(required=False, default=False)
    conflict_owner = serializers.ChoiceField(choices=ConflictOwner.choices, required=False, allow_blank=True,
                                             default="")
    overflow = serializers.ChoiceField(choices=Overflow.choices, required=False, default=Overflow.SHORTEN)


class ProposedConfigSerializer(serializers.Serializer):
    settings = serializers.DictField(required=False, default=dict,
                                     help_text="Entity settings as on the entity-syncs endpoint; left out: unchanged")
    rows = MappingRowSerializer(many=True, required=False, allow_null=True, default=None,
                                help_text="Every mapping row as it would be; left out: the current rows")


class PreviewStartSerializer(serializers.Serializer):
    integration = serializers.PrimaryKeyRelatedField(queryset=Integration.objects.none())
    previews = serializers.ChoiceField(choices=["activation", "reconcile", "import", "mapping"])
    entity = serializers.CharField(required=False, allow_blank=True, default="", max_length=30,
                                   help_text="organisation, person, item or user; not needed for an activation")
    config = ProposedConfigSerializer(required=False, allow_null=True, default=None,
                                      help_text="For a mapping preview: the proposed configuration")

    def get_fields(self):
        fields = super().get_fields()
        if "tenant" in self.context:
            fields["integration"].queryset = scoped(Integration, self.context["tenant"])
        return fields

    def validate(self, attrs):
        config = attrs.get("config")
        if attrs["previews"] == "mapping":
            if not attrs.get("entity"):
                raise serializers.ValidationError({"entity": ["Choose the entity whose settings change."]})
            entity_sync = EntitySync.objects.filter(integration=attrs["integration"], entity=attrs["entity"]).first()
            if entity_sync is None:
                raise serializers.ValidationError({"entity": ["This integration has no such entity."]})
            settings = EntitySyncSerializer(entity_sync, data=(config or {}).get("settings") or {}, partial=True)
            settings.is_valid(raise_exception=True)
            attrs["config"] = {"settings": dict(settings.validated_data), "rows": (config or {}).get("rows")}
        elif config:
            raise serializers.ValidationError({"config": ["Only a mapping preview takes a proposed configuration."]})
        return attrs


class PlanPages(KeysetPages):
    """Keyset pages over a plan's records, in the order they were planned."""

    ordering = ("id",)
    page_size = 50


class RunPreviewActions:
    """Actions of the runs endpoint for previews and for runs held by the blast-radius guard.

    The viewset provides ``run_data(run)`` (the run as the API shows it) and documents the answers.
    """

    def _admin_only(self, request) -> None:
        if not self.access.is_admin:
            self.permission_denied(request, message="Only an admin may do this.")

    @extend_schema(request=PreviewStartSerializer)
    @action(detail=False, methods=["post"], url_path="preview", url_name="preview")
    def preview(self, request, tenant_slug: str):
        """Start a preview (activation, reconciliation, import, or a proposed mapping change); it writes nothing."""
        self._admin_only(request)
        body = PreviewStartSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            run = preview_start(integration=data["integration"], previews=data["previews"], entity=data["entity"],
                                config=data.get("config"), user=request.user)
        except ConfigInvalid as error:
            raise serializers.ValidationError(error.by_field()) from None
        except RunRefused as refusal:
            raise serializers.ValidationError({"previews": [str(refusal)]}) from None
        return Response(self.run_data(run), status=status.HTTP_201_CREATED)

    @extend_schema(responses=PlannedChangeSerializer(many=True), parameters=[
        OpenApiParameter("action", str, enum=PlanAction.values, description="Only records with this planned action")])
    @action(detail=True, methods=["get"], url_path="planned-changes", url_name="changes",
            pagination_class=PlanPages, filter_backends=[])
    def planned_changes(self, request, tenant_slug: str, pk: str):
        """The records of a preview's (or a held run's) plan, with their changes before → after."""
        run = self.get_object()
        wanted = request.query_params.get("action", "")
        if wanted and wanted not in PlanAction.values:
            raise serializers.ValidationError({"action": [f"Choose one of: {', '.join(PlanAction.values)}."]})
        changes = preview_selectors.planned_changes(tenant=self.tenant, run=run, action=wanted)
        page = self.paginate_queryset(changes)
        return self.get_paginated_response(PlannedChangeSerializer(page, many=True).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def confirm(self, request, tenant_slug: str, pk: str):
        """Let a run held by the guard go on and write."""
        self._admin_only(request)
        run = self.get_object()
        try:
            run = run_confirm(run=run, user=request.user)
        except RunRefused as refusal:
            raise serializers.ValidationError({"state": [str(refusal)]}) from None
        return Response(self.run_data(run))

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def cancel(self, request, tenant_slug: str, pk: str):
        """Finish a run held by the guard without writing anything."""
        self._admin_only(request)
        run = self.get_object()
        try:
            run = run_cancel(run=run, user=request.user)
        except RunRefused as refusal:
            raise serializers.ValidationError({"state": [str(refusal)]}) from None
        return Response(self.run_data(run))
