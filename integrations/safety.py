"""What write safety remembers: possible matches waiting for a person, and the changes a preview planned.

Models hold fields and constraints only; ``engine/identity.py`` weighs the evidence, ``engine/matching.py``
raises possible matches, ``engine/preview.py`` fills planned changes, and the services decide.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from tenants.models import TenantOwned

from .fields import LabelField


class MatchState(models.TextChoices):
    OPEN = "open", "Waiting for a decision"
    LINKED = "linked", "Linked"
    CREATED = "created", "Created new"
    SKIPPED = "skipped", "Skipped"


class PossibleMatch(TenantOwned):
    """A record whose counterpart could not be proven: nothing was written; a person decides.

    ``source_values`` holds the source record's identity fields, ``candidates`` a list of
    ``{"id", "label", "values": {field: value}, "for": [str], "against": [str]}`` (evidence in words).
    """

    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE,
                                    related_name="possible_matches")
    entity = models.CharField(max_length=30)
    #: Which side the record that waits is on: "crm" (webCRM / the POS) or "erp".
    source_role = models.CharField(max_length=3)
    source_id = models.CharField(max_length=120)
    source_label = LabelField(max_length=200, blank=True, default="")
    source_values = models.JSONField(default=dict, blank=True)
    candidates = models.JSONField(default=list, blank=True)
    #: Why no candidate was adopted, in plain words.
    reason = models.TextField(blank=True, default="")
    state = models.CharField(max_length=10, choices=MatchState.choices, default=MatchState.OPEN)
    #: The candidate a person linked (its id on the other side).
    chosen_id = models.CharField(max_length=120, blank=True, default="")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "entity", "source_role", "source_id"],
                                    condition=Q(state="open"), name="one_open_possible_match_per_record"),
        ]
        indexes = [models.Index(fields=["integration", "state"], name="possible_match_state"),
                   models.Index(fields=["tenant", "state"], name="possible_match_tenant_state")]

    def __str__(self) -> str:
        return f"{self.entity} {self.source_role} {self.source_id} ({self.state})"


class PlanAction(models.TextChoices):
    """What a preview found one record would come to."""

    CREATE = "create", "Would be created"
    UPDATE = "update", "Would be updated"
    LINK = "link", "Would be linked to an existing record"
    POSSIBLE = "possible", "Possible match: a person decides"
    REFUSED = "refused", "Would be refused"
    DELETE = "delete", "Would be deleted"
    SKIP = "skip", "Would be skipped"
    UNCHANGED = "unchanged", "Nothing to change"
    FAIL = "fail", "Would fail"


class PlannedChange(TenantOwned):
    """One record of a preview (or of a held bulk run): what would be written, before → after."""

    run = models.ForeignKey("integrations.SyncRun", on_delete=models.CASCADE, related_name="planned_changes")
    entity = models.CharField(max_length=30)
    direction = models.CharField(max_length=10, blank=True, default="")  # to_erp / to_crm
    action = models.CharField(max_length=10, choices=PlanAction.choices)
    crm_id = models.CharField(max_length=120, blank=True, default="")
    erp_id = models.CharField(max_length=120, blank=True, default="")
    label = LabelField(max_length=200, blank=True, default="")
    #: {field: [before, after]}
    changes = models.JSONField(default=dict, blank=True)
    #: Whether an identity field (name, number, org/VAT number, e-mail) of a linked record would change.
    identity = models.BooleanField(default=False)
    reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["run", "action"], name="planned_change_run_action")]

    def __str__(self) -> str:
        return f"{self.entity} {self.action} {self.label}"
