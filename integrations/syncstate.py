"""What the sync engine remembers: links between records, the durable event queue, runs, the log.

Models hold fields, constraints and indexes only; the engine's services and selectors do the work.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from tenants.models import TenantOwned

from .fields import LabelField


class SyncLink(TenantOwned):
    """The identity map: one row per pair of linked records, unique on each side.

    The hashes are of the mapped payload last written to / read from each side; an incoming change
    whose hash equals what we wrote is our own echo and is dropped.
    """

    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE, related_name="links")
    entity = models.CharField(max_length=30)
    crm_id = models.CharField(max_length=120, blank=True, default="")
    erp_id = models.CharField(max_length=120, blank=True, default="")
    crm_hash = models.CharField(max_length=64, blank=True, default="")
    erp_hash = models.CharField(max_length=64, blank=True, default="")
    #: Per side, where its list answer holds fewer fields than the record: a digest of what the list shows and of
    #: the hash above, taken when a full read proved them in step (``engine.drift``). Empty when there is none.
    crm_list_proof = models.CharField(max_length=64, blank=True, default="")
    erp_list_proof = models.CharField(max_length=64, blank=True, default="")
    #: The mapped values last agreed by both sides, per field: the base for three-way conflict checks.
    synced_values = models.JSONField(default=dict, blank=True)
    #: A short human name (organisation name, item number) so support can find the record.
    label = LabelField(max_length=200, blank=True, default="")
    synced_at = models.DateTimeField(null=True, blank=True)
    #: The writes of the record's plan not confirmed yet (``engine.pending``): a create sent under Synkro's own key
    #: whose answer has not come back (``{"create": {"side": "erp", "key": "webCRM 17"}}``), a write-back still to
    #: do (``{"write_back": "crm"}``). Empty when the last sync finished; anything else is resumed, never repeated.
    pending = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "entity", "crm_id"], condition=~Q(crm_id=""),
                                    name="link_unique_crm_record"),
            models.UniqueConstraint(fields=["integration", "entity", "erp_id"], condition=~Q(erp_id=""),
                                    name="link_unique_erp_record"),
        ]
        # A record's link is looked up by its id on one side. SQLite cannot use the partial unique indexes above
        # for that (the lookup does not repeat their condition) and scanned every link of the integration.
        indexes = [
            models.Index(fields=["integration", "crm_id"], name="link_crm_record"),
            models.Index(fields=["integration", "erp_id"], name="link_erp_record"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} webCRM {self.crm_id or '—'} ↔ ERP {self.erp_id or '—'}"


class EventSource(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    POLL = "poll", "Polling"
    RECONCILE = "reconcile", "Safety reconciliation"
    IMPORT = "import", "Initial import"
    MANUAL = "manual", "Started by hand"
    REPLAY = "replay", "Replay"


class EventState(models.TextChoices):
    PENDING = "pending", "Waiting"
    PROCESSING = "processing", "Being processed"
    DONE = "done", "Done"
    DROPPED = "dropped", "Dropped"
    FAILED = "failed", "Failed (parked, can be replayed)"


class InboundEvent(TenantOwned):
    """One piece of work: "this record of this system changed". Stored before it is acknowledged.

    Coalesced while pending: a second notice of the same record while the first still waits adds
    nothing but a count, because the engine always re-reads the record from its source.
    """

    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE, related_name="events")
    system = models.CharField(max_length=30)
    entity = models.CharField(max_length=30)
    action = models.CharField(max_length=10)
    external_id = models.CharField(max_length=120)
    source = models.CharField(max_length=10, choices=EventSource.choices, default=EventSource.WEBHOOK)
    #: The vendor's body, kept for support staff; never trusted as data.
    payload = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    state = models.CharField(max_length=12, choices=EventState.choices, default=EventState.PENDING)
    deliveries = models.PositiveIntegerField(default=1, help_text="Notices coalesced into this event")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    run = models.ForeignKey("integrations.SyncRun", null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="events")
    processed_at = models.DateTimeField(null=True, blank=True)
    #: Webhook (and Fortnox stream) notices this event took in, and when the last came: the webhook health
    #: screen counts from here, so storing a notice writes no shared counter row (``engine.intake``).
    notices = models.PositiveIntegerField(default=0, db_default=0)
    last_notice_at = models.DateTimeField(null=True, blank=True)
    #: Stored by a webhook without a task: the live workers' broker takes it up (``engine.handover``).
    awaits_worker = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["received_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "system", "entity", "external_id"], condition=Q(state="pending"),
                name="one_pending_event_per_record",
            ),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="event_due"),
                   models.Index(fields=["id"], condition=Q(awaits_worker=True), name="event_awaits_worker")]

    def __str__(self) -> str:
        return f"{self.system} {self.entity} {self.external_id} {self.action} ({self.state})"


class RunKind(models.TextChoices):
    WEBHOOK = "webhook", "Webhooks"
    POLL = "poll", "Polling"
    RECONCILE = "reconcile", "Safety reconciliation"
    IMPORT = "import", "Initial import"
    REPLAY = "replay", "Replay"
    PREVIEW = "preview", "Preview (writes nothing)"


class RunState(models.TextChoices):
    RUNNING = "running", "Running"
    #: A bulk run whose plan would rewrite many identities waits here for an admin (the blast-radius guard).
    HELD = "held", "Waiting for confirmation"
    DONE = "done", "Finished"
    FAILED = "failed", "Failed"


class SyncRun(TenantOwned):
    """A batch of work with progress: a poll, a reconciliation, an initial import or a replay."""

    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=10, choices=RunKind.choices)
    entity = models.CharField(max_length=30, blank=True, default="")
    state = models.CharField(max_length=10, choices=RunState.choices, default=RunState.RUNNING)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(null=True, blank=True, help_text="Records to go through, when known")
    done = models.PositiveIntegerField(default=0)
    #: {"created": n, "updated": n, "skipped": n, "conflict": n, "failed": n}
    counts = models.JSONField(default=dict, blank=True)
    drift = models.PositiveIntegerField(default=0, help_text="Differences found that webhooks had missed")
    #: Where a resumable run stands (page, last id), written as it goes.
    cursor = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    #: A preview: what it previews ("activation", "reconcile", "import", "mapping"); blank for other runs.
    previews = models.CharField(max_length=12, blank=True, default="")
    #: A preview's counts per entity, direction and planned action: {entity: {direction: {action: n}}}.
    plan = models.JSONField(default=dict, blank=True)
    #: The blast-radius guard's figures: {"identity": n, "linked": n, "limit": n, "tripped": bool}.
    guard = models.JSONField(default=dict, blank=True)
    #: Started by an admin with the guard switched off for this run.
    guard_off = models.BooleanField(default=False)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.entity} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def progress_percent(self) -> int | None:
        if not self.total:
            return None
        return min(100, round(100 * self.done / self.total))


class LogAction(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    DELETED = "deleted", "Deleted"
    SKIPPED = "skipped", "Skipped"
    CONFLICT = "conflict", "Conflict"
    #: For a person: a possible match raised or decided, or a bulk run held by the guard (nothing written).
    REVIEW = "review", "Review"
    FAILED = "failed", "Failed"


class SyncLogEntry(TenantOwned):
    """One sync action, in words support staff understand. Never holds secrets."""

    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE, related_name="log")
    run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="log")
    event = models.ForeignKey(InboundEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="log")
    at = models.DateTimeField(auto_now_add=True)
    entity = models.CharField(max_length=30)
    direction = models.CharField(max_length=10, blank=True, default="")  # to_erp / to_crm
    action = models.CharField(max_length=10, choices=LogAction.choices)
    crm_id = models.CharField(max_length=120, blank=True, default="")
    erp_id = models.CharField(max_length=120, blank=True, default="")
    label = LabelField(max_length=200, blank=True, default="")
    #: {field: [old, new]}
    changes = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
    vendor_message = models.TextField(blank=True, default="")
    replayed = models.BooleanField(default=False)
    #: A skip for data a person can fix (a missing customer number, an empty required field): offered for replay
    #: like a failure. Skips that are final by design (direction, trigger, paused) are not.
    replayable = models.BooleanField(default=False)
    #: The settings version in force when the entry was written: the integration's newest configuration change then
    #: (``mappings.provenance``); null when it had none or the entry predates versions. The audit trail is never
    #: removed by retention, so a kept entry's version stays.
    config_version = models.ForeignKey("mappings.ConfigChange", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "sync log entries"
        indexes = [
            models.Index(fields=["tenant", "-at", "-id"], name="log_tenant_newest"),
            models.Index(fields=["integration", "-at", "-id"], name="log_integration_newest"),
            models.Index(fields=["integration", "action", "-at", "-id"], name="log_integration_action"),
            models.Index(fields=["integration", "entity", "-at", "-id"], name="log_integration_entity"),
            models.Index(fields=["integration", "crm_id"], name="log_crm_record"),
            models.Index(fields=["integration", "erp_id"], name="log_erp_record"),
            # The support screens filter the whole tenant's log by record id and by action.
            models.Index(fields=["tenant", "crm_id"], name="log_tenant_crm_record"),
            models.Index(fields=["tenant", "erp_id"], name="log_tenant_erp_record"),
            models.Index(fields=["tenant", "action", "-at", "-id"], name="log_tenant_action"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.entity} {self.action} {self.label}"


class Conflict(TenantOwned):
    """A field changed on both sides since the last sync, and how its owner resolved it."""

    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE, related_name="conflicts")
    link = models.ForeignKey(SyncLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="conflicts")
    log_entry = models.ForeignKey(SyncLogEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    entity = models.CharField(max_length=30)
    crm_field = models.CharField(max_length=120)
    erp_field = models.CharField(max_length=120)
    crm_value = models.JSONField(null=True, blank=True)
    erp_value = models.JSONField(null=True, blank=True)
    owner = models.CharField(max_length=10)  # crm / erp / newest
    winner = models.CharField(max_length=10)  # crm / erp
    resolved_value = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.entity} {self.erp_field}↔{self.crm_field}: {self.winner} won"


class WebhookStat(TenantOwned):
    """Webhook health per integration, system and entity: what arrived, what was dropped, the last error."""

    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE,
                                    related_name="webhook_stats")
    system = models.CharField(max_length=30)
    entity = models.CharField(max_length=30)
    received = models.PositiveIntegerField(default=0)
    dropped_by_toggle = models.PositiveIntegerField(default=0)
    #: Calls answered while the integration was paused: acknowledged (so the vendor stops retrying), not stored.
    dropped_while_paused = models.PositiveIntegerField(default=0, db_default=0)  # raw upserts leave it out
    last_received_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["integration", "system", "entity"],
                                               name="one_webhook_stat_per_entity")]

    def __str__(self) -> str:
        return f"{self.system} {self.entity}: {self.received} received"


class PollCursor(TenantOwned):
    """How far polling has read one entity of one system; moved only after the batch is stored."""

    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE,
                                    related_name="poll_cursors")
    system = models.CharField(max_length=30)
    entity = models.CharField(max_length=30)
    modified_since = models.DateTimeField(null=True, blank=True)
    polled_at = models.DateTimeField(null=True, blank=True)
    #: For records the source cannot list by change (Fortnox employees): the ids there when the clock
    #: started. Those are the initial import's; only records that appear later are brought over by polling.
    known_ids = models.JSONField(default=list, blank=True)
    #: Ids the last poll listed (at most ``engine.poll.RECENT_LIMIT``): one listed again by the overlap is compared
    #: with its link before it is stored as a change, read whole where the list leaves out synced fields.
    recent_ids = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["integration", "system", "entity"],
                                               name="one_poll_cursor_per_entity")]

    def __str__(self) -> str:
        return f"{self.system} {self.entity} since {self.modified_since}"


class RecordLock(models.Model):
    """A lease on one record of one integration: one writer per record, across every worker process.

    Kept in the database so it holds with the embedded ORM broker (worker processes share no memory)
    as well as with Redis; a crashed holder's lease simply runs out.
    """

    key = models.CharField(max_length=255, unique=True)
    owner = models.CharField(max_length=64)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key} held by {self.owner} until {self.expires_at}"


class RateBucket(models.Model):
    """A connection's token bucket, shared by every worker so the vendor's limit holds for all of them."""

    connection = models.OneToOneField("integrations.Connection", on_delete=models.CASCADE,
                                      related_name="rate_bucket")
    tokens = models.FloatField(default=0)
    #: Seconds since the epoch of the last refill (wall clock, shared between machines).
    refilled_at = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"{self.connection_id}: {self.tokens:.1f} tokens"


class PosDailyReport(TenantOwned):
    """One register's day posted to the POS journal ("dagsopgørelse"): at most once per register and day."""

    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE,
                                    related_name="pos_daily_reports")
    register_id = models.CharField(max_length=60)
    business_date = models.DateField()
    posted_at = models.DateTimeField(auto_now_add=True)
    #: The ERP's posting id (Uniconta JournalPostedId), for the auditor.
    posting_id = models.CharField(max_length=60, blank=True, default="")
    #: The POS closings (balances) the report covers.
    balance_ids = models.JSONField(default=list, blank=True)
    #: {"revenue", "cash", "difference", "rounding", "by_payment_type": {...}} as decimal strings.
    totals = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-business_date", "register_id"]
        constraints = [models.UniqueConstraint(fields=["integration", "register_id", "business_date"],
                                               name="one_daily_report_per_register_and_day")]

    def __str__(self) -> str:
        return f"POS {self.register_id} {self.business_date}"
