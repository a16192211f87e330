"""Connections to external systems and the integrations that pair them."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import DatabaseError, models, transaction

from tenants.models import TenantOwned

from .crypto import EncryptedJSONField
from .systems.base import SystemKind, SystemProvider
from .systems.registry import get_system, system_choices


def new_webhook_token() -> str:
    return secrets.token_urlsafe(32)


class ConnectionStatus(models.TextChoices):
    UNTESTED = "untested", "Not tested yet"
    OK = "ok", "Working"
    FAILED = "failed", "Failing"


class DjangoCacheTokenStore:
    """Access tokens shared by every worker through Django's cache (Redis in production)."""

    def get(self, key: str) -> Any:
        return cache.get(key)

    def set(self, key: str, value: Any, timeout: float | None = None) -> None:
        cache.set(key, value, timeout=int(timeout) if timeout else None)


class Connection(TenantOwned):
    """A tenant's account in one external system. Credentials are encrypted and write-only."""

    system = models.CharField(max_length=30, choices=system_choices)
    name = models.CharField(max_length=120)
    base_url = models.URLField(
        max_length=300, blank=True, help_text="Leave empty for the vendor's own API address."
    )
    credentials = EncryptedJSONField(default=dict, blank=True, editable=False)
    status = models.CharField(max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.UNTESTED)
    status_detail = models.CharField(max_length=300, blank=True)
    last_error = models.TextField(blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    #: The last time the vendor answered a call of this connection with success (a test, a sync, a poll); kept
    #: at most once a minute (``connection_status``).
    last_success_at = models.DateTimeField(null=True, blank=True)
    #: Since when the vendor refuses the credentials; empty while the connection works.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="connection_name_unique_per_tenant")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_system_display()})"

    def __repr__(self) -> str:  # never the credentials
        return f"<Connection {self.pk} {self.system} {self.name!r}>"

    @property
    def provider(self) -> SystemProvider:
        return get_system(self.system)

    @property
    def effective_base_url(self) -> str:
        return self.base_url or self.provider.default_base_url

    def credential_names_set(self) -> list[str]:
        return sorted(k for k, v in (self.credentials or {}).items() if v)

    def public_credentials(self) -> dict[str, str]:
        """The credential values that are not secret (company id, client id)."""
        public = {f.name for f in self.provider.credential_fields if not f.secret}
        return {k: v for k, v in (self.credentials or {}).items() if k in public}

    def client(self, **kwargs: Any):
        """An API client for this connection; rotated credentials are saved back encrypted."""

        def store(new_credentials: dict[str, str]) -> None:
            self.credentials = new_credentials
            type(self).objects.filter(pk=self.pk).update(credentials=self.credentials)

        @contextmanager
        def held() -> Iterator[dict[str, str] | None]:
            # One worker at a time may rotate the connection's credentials: a row lock on PostgreSQL, the write
            # lock of an IMMEDIATE transaction on SQLite. What is stored is read under the lock, so a token
            # another worker rotated a moment ago is seen. What the block stored (a token the vendor has already
            # rotated) is committed even when the block then fails: losing it would lock the connection out.
            failure: Exception | None = None
            with transaction.atomic():
                row = type(self).objects.select_for_update().filter(pk=self.pk).values_list("credentials").first()
                try:
                    yield dict(row[0] or {}) if row is not None else None
                except DatabaseError:
                    raise
                except Exception as exc:
                    failure = exc
            if failure is not None:
                raise failure

        kwargs.setdefault("token_store", DjangoCacheTokenStore())
        kwargs.setdefault("credentials_changed", store)
        kwargs.setdefault("credentials_held", held)
        kwargs.setdefault("connection_id", self.pk)  # keys the pooled HTTP session: never shared between connections
        if self.pk is not None:
            from .connection_status import call_observer_for

            kwargs.setdefault("call_observer", call_observer_for(self))
        return self.provider.client(base_url=self.effective_base_url, credentials=self.credentials, **kwargs)


class Integration(TenantOwned):
    """Two connections of one tenant kept in sync: webCRM + an ERP, or Customers 1st + Uniconta."""

    name = models.CharField(max_length=120)
    crm_connection = models.ForeignKey(
        Connection, on_delete=models.PROTECT, related_name="integrations_as_crm",
        verbose_name="front system", help_text="webCRM, or Customers 1st for POS integrations",
    )
    erp_connection = models.ForeignKey(
        Connection, on_delete=models.PROTECT, related_name="integrations_as_erp", verbose_name="ERP",
    )
    webhook_token = models.CharField(max_length=64, unique=True, default=new_webhook_token, editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    #: When the integration was last switched on: what existed before is the initial import's, not the schedule's.
    activated_at = models.DateTimeField(null=True, blank=True)
    guard_share = models.PositiveSmallIntegerField(
        default=5, verbose_name="guard: share of linked records (%)",
        help_text="A bulk run that would rewrite names, numbers, org/VAT numbers or e-mails of more than this share "
                  "of the linked records waits for an admin to confirm.")
    guard_minimum = models.PositiveIntegerField(
        default=20, verbose_name="guard: at least this many records",
        help_text="The guard never trips for fewer records than this.")
    #: What is still owed at the vendors after a pause or an activation: "remove" (its webhooks are to be taken
    #: down), "register" (put up again), or blank when nothing is. ``hooks_owed_task`` retries it.
    hooks_owed = models.CharField(max_length=10, blank=True, default="")
    #: Why the last attempt to remove or register the webhooks did not succeed, in words; blank after a success.
    hooks_error = models.TextField(blank=True, default="")
    #: Goes up with every change of what the engine reads to sync (this row, its connections' address and
    #: credentials, its entities' settings, mapping rows, POS settings, a new settings version), by database
    #: triggers (migration 0019), so a worker reuses its settings only while this number is unchanged.
    settings_version = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="integration_name_unique_per_tenant")]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:  # never the token
        return f"<Integration {self.pk} {self.name!r}>"

    def clean(self) -> None:
        errors = integration_pair_errors(
            tenant_id=self.tenant_id,
            crm=self.crm_connection if self.crm_connection_id else None,
            erp=self.erp_connection if self.erp_connection_id else None,
        )
        if errors:
            raise ValidationError(errors)

    def webhook_url(self, system: str) -> str:
        return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/hooks/{system}/{self.webhook_token}/"

    def rotate_webhook_token(self) -> None:
        self.webhook_token = new_webhook_token()
        self.save(update_fields=["webhook_token"])


def integration_pair_errors(*, tenant_id: int | None, crm: Connection | None, erp: Connection | None
                            ) -> dict[str, str]:
    """Why two connections cannot form an integration, per form field; empty when they can."""
    errors: dict[str, str] = {}
    if crm is not None and tenant_id is not None and crm.tenant_id != tenant_id:
        errors["crm_connection"] = "This connection belongs to another tenant."
    if erp is not None and tenant_id is not None and erp.tenant_id != tenant_id:
        errors["erp_connection"] = "This connection belongs to another tenant."
    if errors or crm is None or erp is None:
        return errors
    front, back = crm.provider, erp.provider
    if front.kind not in (SystemKind.CRM, SystemKind.POS):
        errors["crm_connection"] = f"{front.name} is an ERP; choose webCRM or Customers 1st here."
    if back.kind != SystemKind.ERP:
        errors["erp_connection"] = f"{back.name} is not an ERP; choose Uniconta, Fortnox or Visma.net here."
    if not errors and front.kind == SystemKind.POS and not back.extras.get("pos_ledger"):
        errors["erp_connection"] = f"{front.name} sales can only be booked in an ERP with POS support (Uniconta)."
    return errors


# The sync engine's state lives in modules of its own; Django finds the models through this one.
from .observed import ObservedValues  # noqa: E402
from .safety import MatchState, PlanAction, PlannedChange, PossibleMatch  # noqa: E402
from .streamstate import StreamOffset  # noqa: E402
from .syncstate import (  # noqa: E402
    Conflict,
    EventSource,
    EventState,
    InboundEvent,
    LogAction,
    PollCursor,
    PosDailyReport,
    RateBucket,
    RecordLock,
    RunKind,
    RunState,
    SyncLink,
    SyncLogEntry,
    SyncRun,
    WebhookStat,
)

__all__ = [
    "Conflict", "Connection", "ConnectionStatus", "EventSource", "EventState", "InboundEvent", "Integration",
    "LogAction", "MatchState", "ObservedValues", "PlanAction", "PlannedChange", "PollCursor", "PosDailyReport",
    "PossibleMatch",
    "RateBucket", "RecordLock", "RunKind", "RunState", "StreamOffset", "SyncLink", "SyncLogEntry", "SyncRun",
    "WebhookStat",
]
