"""Writing the sync log: one entry per action, in words support staff understand, never with secrets."""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from integrations.models import InboundEvent, Integration, LogAction, SyncLogEntry, SyncRun

MAX_TEXT = 2000


class ConfigVersion(Enum):
    #: Look the settings version up when writing (one small query): for entries written without a ``SyncContext``.
    NEWEST = "newest"


def log_entry_create(
    *, integration: Integration, entity: str, action: str, direction: str = "", crm_id: str = "", erp_id: str = "",
    label: str = "", changes: dict[str, Any] | None = None, reason: str = "", error: str = "",
    vendor_message: str = "", event: InboundEvent | None = None, run: SyncRun | None = None,
    replayable: bool = False, config_version_id: int | None | Literal[ConfigVersion.NEWEST] = ConfigVersion.NEWEST,
) -> SyncLogEntry:
    """One log entry. ``replayable`` marks a skip a person can fix and replay (kept only on skips with an event).

    ``config_version_id``: the settings version the work was done under (``SyncContext.config_version_id``, read with
    the settings, no query); by default the integration's newest configuration change at the time of writing.
    """
    if config_version_id is ConfigVersion.NEWEST:
        from mappings.provenance import latest_version_id

        config_version_id = latest_version_id(integration_id=integration.pk)
    entry = SyncLogEntry.objects.create(
        config_version_id=config_version_id,
        tenant_id=integration.tenant_id, integration=integration, entity=entity, action=action,
        direction=direction, crm_id=str(crm_id or "")[:120], erp_id=str(erp_id or "")[:120], label=str(label)[:200],
        changes=changes or {}, reason=reason[:MAX_TEXT], error=error[:MAX_TEXT],
        vendor_message=(vendor_message or "")[:MAX_TEXT], event=event, run=run,
        replayable=bool(replayable and action == LogAction.SKIPPED and event is not None),
    )
    return entry


def run_count(*, run: SyncRun, action: str, by: int = 1) -> None:
    """Add to a run's own counters (enqueued, unchanged …). Only the run's own worker calls this;
    what the events of a run did is counted from the log, which any number of workers write."""
    counts = dict(run.counts or {})
    counts[action] = counts.get(action, 0) + by
    run.counts = counts
    SyncRun.objects.filter(pk=run.pk).update(counts=counts)


__all__ = ["ConfigVersion", "LogAction", "log_entry_create", "run_count"]
