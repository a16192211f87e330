"""Possible matches in the REST API: list and read them; admins and support decide (link / create / skip)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from integrations.engine.review import DECISIONS, DecisionRefused, decision_summary, possible_match_decide
from integrations.models import Integration, MatchState, PossibleMatch
from tenants.access import scoped

from .api import SupportViewSetMixin
from .review_selectors import SHOWN, possible_matches


class PossibleMatchSerializer(serializers.ModelSerializer):
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    decided = serializers.SerializerMethodField(help_text="Who decided what and when, in words; empty while open")

    class Meta:
        model = PossibleMatch
        fields = ["id", "integration", "entity", "source_role", "source_id", "source_label", "source_values",
                  "candidates", "reason", "state", "chosen_id", "decided_by", "decided_at", "decided", "created_at",
                  "updated_at"]
        read_only_fields = fields

    def get_decided(self, match: PossibleMatch) -> str:
        return decision_summary(match)


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=list(DECISIONS), help_text="link, create or skip")
    candidate_id = serializers.CharField(max_length=120, required=False, allow_blank=True, default="",
                                         help_text="For link: the id of one of the match's candidates")


class MatchListParams(serializers.Serializer):
    state = serializers.ChoiceField(choices=[*SHOWN, *MatchState.values], required=False, default="all")
    integration = serializers.IntegerField(required=False, min_value=1, max_value=2**62)


@extend_schema(tags=["support"])
@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("state", OpenApiTypes.STR, enum=[*SHOWN, *MatchState.values],
                     description="open, decided, all (the default), linked, created or skipped"),
    OpenApiParameter("integration", OpenApiTypes.INT, description="Only this integration's possible matches"),
]))
class PossibleMatchViewSet(SupportViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Records whose counterpart could not be proven: nothing was written; a person decides."""

    queryset = PossibleMatch.objects.none()  # for the schema; get_queryset() gives the tenant's rows

    serializer_class = PossibleMatchSerializer
    filter_backends: list = []

    def get_queryset(self):
        if self.action != "list":
            return possible_matches(tenant=self.tenant, shown="all")
        params = MatchListParams(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        integration = None
        if "integration" in params.validated_data:
            integration = scoped(Integration, self.tenant).filter(pk=params.validated_data["integration"]).first()
            if integration is None:
                raise serializers.ValidationError({"integration": ["No such integration in this tenant."]})
        state = params.validated_data["state"]
        matches = possible_matches(tenant=self.tenant, integration=integration,
                                   shown=state if state in SHOWN else "all")
        return matches if state in SHOWN else matches.filter(state=state)

    @extend_schema(request=DecisionSerializer, responses={200: PossibleMatchSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request, tenant_slug: str, pk: str):
        """Link the waiting record to a candidate, create it anew, or skip it. A refusal answers 400 in words."""
        match = self.get_object()
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            match = possible_match_decide(match=match, decision=body.validated_data["decision"],
                                          candidate_id=body.validated_data["candidate_id"], user=request.user)
        except DecisionRefused as refusal:
            return Response({"detail": str(refusal)}, status=status.HTTP_400_BAD_REQUEST)
        match = self.get_queryset().get(pk=match.pk)
        return Response(PossibleMatchSerializer(match, context=self.get_serializer_context()).data)
