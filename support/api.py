"""The support part of the REST API: the sync log, runs, conflicts, dead letters; replays and runs started by hand."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from integrations.engine.runs import run_progress
from integrations.models import Conflict, InboundEvent, Integration, SyncLogEntry, SyncRun
from mappings.models import SyncEntity
from tenants.access import row_id, scoped
from tenants.api import TenantRolePermission, TenantScopedMixin
from tenants.pagination import KeysetPages

from . import selectors
from .filters import DIRECTIONS, LogEntryFilter
from .forms import STARTABLE_KINDS
from .preview_api import RunPreviewActions
from .services import ReplayOutcome, RunRefused, replay_entries, replay_events, run_start_now


class NewestFirst(KeysetPages):
    """Keyset pages over (at, id), newest first: as fast on page 10 000 as on page one."""

    ordering = ("-at", "-id")
    page_size = 50


class TenantFilterBackend(DjangoFilterBackend):
    """django-filter, with the tenant handed to the filter (its integration choices are the tenant's own)."""

    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        kwargs["tenant"] = view.tenant
        return kwargs


class SupportViewSetMixin(TenantScopedMixin):
    permission_classes = [permissions.IsAuthenticated, TenantRolePermission]
    write_permission = "can_replay"

    def get_object(self):
        pk = row_id(self.kwargs.get("pk"))
        if pk is None:
            raise NotFound()
        return get_object_or_404(self.get_queryset(), pk=pk)


# -- serializers ----------------------------------------------------------------------------------------------

class LogEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncLogEntry
        fields = ["id", "at", "integration", "entity", "direction", "action", "crm_id", "erp_id", "label", "changes",
                  "reason", "error", "vendor_message", "replayed", "replayable", "event", "run", "config_version"]
        read_only_fields = fields


class RunSerializer(serializers.ModelSerializer):
    progress_percent = serializers.IntegerField(read_only=True, allow_null=True)
    actions = serializers.SerializerMethodField(help_text="What the run's events did: log entries per action")
    started_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    confirmed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = SyncRun
        fields = ["id", "integration", "kind", "entity", "state", "started_by", "started_at", "finished_at", "total",
                  "done", "progress_percent", "counts", "actions", "drift", "error", "previews", "plan", "guard",
                  "guard_off", "confirmed_by", "confirmed_at"]
        read_only_fields = fields

    def get_actions(self, run: SyncRun) -> dict[str, int]:
        return selectors.run_counts(tenant=self.context["tenant"], runs=[run])[run.pk]


class RunStartSerializer(serializers.Serializer):
    integration = serializers.PrimaryKeyRelatedField(queryset=Integration.objects.none())
    entity = serializers.ChoiceField(choices=SyncEntity.choices)
    kind = serializers.ChoiceField(choices=STARTABLE_KINDS)
    guard_off = serializers.BooleanField(required=False, default=False,
                                         help_text="Switch the blast-radius guard off for this run (admins only)")

    def get_fields(self):
        fields = super().get_fields()
        if "tenant" in self.context:
            fields["integration"].queryset = scoped(Integration, self.context["tenant"])
        return fields


class ConflictSerializer(serializers.ModelSerializer):
    class Meta:
        model = Conflict
        fields = ["id", "at", "integration", "link", "log_entry", "entity", "crm_field", "erp_field", "crm_value",
                  "erp_value", "owner", "winner", "resolved_value"]
        read_only_fields = fields


class DeadLetterSerializer(serializers.ModelSerializer):
    class Meta:
        model = InboundEvent
        fields = ["id", "integration", "system", "entity", "action", "external_id", "source", "received_at", "state",
                  "deliveries", "attempts", "last_error"]
        read_only_fields = fields


class ReplayOutcomeSerializer(serializers.Serializer):
    runs = serializers.ListField(child=serializers.IntegerField(), help_text="The replay runs started")
    put_back = serializers.IntegerField(help_text="Failed changes put back in the queue")
    covered = serializers.IntegerField(help_text="Failed changes already covered by a newer waiting change")
    left_over = serializers.IntegerField(help_text="Further matches beyond one replay's limit")
    message = serializers.CharField()


class ReplayFilterSerializer(serializers.Serializer):
    """Which failed entries to replay: the log's filters (all optional)."""

    integration = serializers.IntegerField(required=False, min_value=1, max_value=2**62)
    entity = serializers.ChoiceField(choices=SyncEntity.choices, required=False)
    direction = serializers.ChoiceField(choices=DIRECTIONS, required=False)
    record = serializers.CharField(required=False, allow_blank=True, max_length=120)
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)


def _outcome(outcome: ReplayOutcome, *, status_code: int = status.HTTP_200_OK) -> Response:
    data = {"runs": [run.pk for run in outcome.runs], "put_back": outcome.put_back, "covered": outcome.covered,
            "left_over": outcome.left_over, "message": outcome.message}
    return Response(ReplayOutcomeSerializer(data).data, status=status_code)


# -- viewsets -------------------------------------------------------------------------------------------------

@extend_schema(tags=["support"])
class LogEntryViewSet(SupportViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The sync log, newest first, with the screen's filters; failed entries can be replayed."""

    queryset = SyncLogEntry.objects.none()  # for the schema; get_queryset() gives the tenant's rows

    serializer_class = LogEntrySerializer
    pagination_class = NewestFirst
    filter_backends = [TenantFilterBackend]
    filterset_class = LogEntryFilter

    def get_queryset(self):
        return scoped(SyncLogEntry, self.tenant)

    @extend_schema(request=None, responses=ReplayOutcomeSerializer)
    @action(detail=True, methods=["post"])
    def replay(self, request, tenant_slug: str, pk: str):
        """Put the change behind this entry back in the queue: a failure, or a skip a person can fix."""
        entry = self.get_object()
        return _outcome(replay_entries(tenant=self.tenant, entries=self.get_queryset().filter(pk=entry.pk),
                                       user=request.user))

    @extend_schema(request=ReplayFilterSerializer, responses=ReplayOutcomeSerializer,
                   operation_id="v1_t_log_entries_replay_matching")
    @action(detail=False, methods=["post"], url_path="replay", url_name="replay-matching", filter_backends=[],
            pagination_class=None)
    def replay_matching(self, request, tenant_slug: str):
        """Replay every failed entry (and every skip a person can fix) that matches the filters given in the body."""
        body = ReplayFilterSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        params = {key: str(value) for key, value in body.validated_data.items()}
        log_filter = selectors.log_filter(tenant=self.tenant, params=params)
        if not log_filter.is_valid():
            raise serializers.ValidationError(log_filter.errors)
        return _outcome(replay_entries(tenant=self.tenant, entries=log_filter.qs, user=request.user))


@extend_schema(tags=["support"])
@extend_schema_view(preview=extend_schema(responses={201: RunSerializer}),
                    confirm=extend_schema(responses=RunSerializer), cancel=extend_schema(responses=RunSerializer))
class RunViewSet(RunPreviewActions, SupportViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Polls, reconciliations, initial imports and replays, with progress; start a reconciliation or import."""

    queryset = SyncRun.objects.none()  # for the schema; get_queryset() gives the tenant's rows

    serializer_class = RunSerializer

    def get_queryset(self):
        return scoped(SyncRun, self.tenant).select_related("started_by").order_by("-started_at", "-id")

    def get_serializer_class(self):
        return RunStartSerializer if self.action == "create" else RunSerializer

    def run_data(self, run: SyncRun) -> dict:
        return RunSerializer(run, context=self.get_serializer_context()).data

    def retrieve(self, request, *args, **kwargs):
        run = run_progress(self.get_object())
        return Response(RunSerializer(run, context=self.get_serializer_context()).data)

    @extend_schema(request=RunStartSerializer, responses={201: RunSerializer})
    def create(self, request, *args, **kwargs):
        """Start a safety reconciliation or an initial import of one entity now."""
        start = RunStartSerializer(data=request.data, context=self.get_serializer_context())
        start.is_valid(raise_exception=True)
        if start.validated_data.get("guard_off") and not self.access.is_admin:
            self.permission_denied(request, message="Only an admin may switch the guard off.")
        try:
            run = run_start_now(user=request.user, **start.validated_data)
        except RunRefused as refusal:
            raise serializers.ValidationError({"entity": [str(refusal)]}) from None
        return Response(RunSerializer(run, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)


@extend_schema(tags=["support"])
class ConflictViewSet(SupportViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Fields changed on both sides, both values and the owner's decision."""

    queryset = Conflict.objects.none()  # for the schema; get_queryset() gives the tenant's rows

    serializer_class = ConflictSerializer

    def get_queryset(self):
        return scoped(Conflict, self.tenant).order_by("-at", "-id")


@extend_schema(tags=["support"])
class DeadLetterViewSet(SupportViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Changes parked as failed, waiting to be replayed."""

    queryset = InboundEvent.objects.none()  # for the schema; get_queryset() gives the tenant's rows

    serializer_class = DeadLetterSerializer

    def get_queryset(self):
        return selectors.dead_letters(tenant=self.tenant)

    @extend_schema(request=None, responses=ReplayOutcomeSerializer)
    @action(detail=True, methods=["post"])
    def replay(self, request, tenant_slug: str, pk: str):
        """Put this failed change back in the queue."""
        return _outcome(replay_events(tenant=self.tenant, events=[self.get_object()], user=request.user))
