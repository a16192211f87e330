"""Alerts per tenant: who is told and when (``AlertSettings``), what the digest last said (``AlertDigestState``),
and the drift each safety reconciliation found (``DriftRecord``), kept as history after its run is gone.

Models hold fields and constraints only; the rules live in ``rules``, the writes in ``services``.
"""

from __future__ import annotations

from django.db import models

from tenants.models import TenantOwned

#: Defaults of the thresholds, shown on the settings screen and used while a tenant has saved none.
FAILURES_PER_HOUR_DEFAULT = 10
DEAD_LETTERS_DEFAULT = 1
WEBHOOK_SILENT_HOURS_DEFAULT = 6


class AlertSettings(TenantOwned):
    """One tenant's alert settings: the digest's recipients and, per alert kind, whether it fires and from when."""

    #: E-mail addresses the hourly digest goes to; none: the dashboard banner only.
    recipients = models.JSONField(default=list, blank=True)
    failures_enabled = models.BooleanField(default=True, verbose_name="changes failed in the last hour")
    failures_threshold = models.PositiveIntegerField(
        default=FAILURES_PER_HOUR_DEFAULT, verbose_name="alert from this many failures in an hour")
    dead_letters_enabled = models.BooleanField(default=True, verbose_name="dead letters waiting")
    dead_letters_threshold = models.PositiveIntegerField(
        default=DEAD_LETTERS_DEFAULT, verbose_name="alert from this many dead letters")
    webhook_silent_enabled = models.BooleanField(default=True, verbose_name="a webhook gone silent")
    webhook_silent_hours = models.PositiveIntegerField(
        default=WEBHOOK_SILENT_HOURS_DEFAULT, verbose_name="alert after this many hours without a notice")
    connection_failing_enabled = models.BooleanField(default=True, verbose_name="a connection's credentials refused")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "alert settings"
        constraints = [models.UniqueConstraint(fields=["tenant"], name="one_alert_settings_per_tenant")]

    def __str__(self) -> str:
        return f"Alert settings of tenant {self.tenant_id}"


class AlertDigestState(TenantOwned):
    """What the last digest e-mail of a tenant said, so an unchanged set of alerts is not sent every hour."""

    #: The keys (``rules.Alert.key``) of the alerts the last e-mail listed; empty after an "all clear".
    keys = models.JSONField(default=list, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="one_alert_digest_state_per_tenant")]

    def __str__(self) -> str:
        return f"Digest of tenant {self.tenant_id}: {len(self.keys)} alerts at {self.sent_at}"


class DriftRecord(TenantOwned):
    """The drift one safety reconciliation found for one entity: what webhooks had missed, out of what was checked.

    Kept when its run is removed (the run is named by number only): these rows are the webhook-miss history.
    """

    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE, related_name="+")
    #: The id of the reconciliation run that found it; a plain number, not a key: the run may be removed.
    run_pk = models.PositiveBigIntegerField(null=True, blank=True)
    entity = models.CharField(max_length=30)
    at = models.DateTimeField()
    #: Records listed on both sides and compared with their links.
    checked = models.PositiveIntegerField(default=0)
    #: Of those, the ones that differed (or should have been linked): changes webhooks had missed.
    drift = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["tenant", "-at"], name="drift_tenant_newest")]
        constraints = [models.UniqueConstraint(fields=["run_pk", "entity"], name="one_drift_record_per_run")]

    def __str__(self) -> str:
        return f"{self.entity} {self.at:%Y-%m-%d %H:%M}: {self.drift} of {self.checked}"
