"""Writing the sync log: one entry per action, in words support staff understand, never with secrets."""

from __future__ import annotations

from typing import Any

from integrations.models import InboundEvent, Integration, LogAction, SyncLogEntry, SyncRun

MAX_TEXT = 2000


def log_entry_create(
    *, integration: Integration, entity: str, action: str, direction: str = "", crm_id: str = "", erp_id: str = "",
    label: str = "", changes: dict[str, Any] | None = None, reason: str = "", error: str = "",
    vendor_message: str = "", event: InboundEvent | None = None, run: SyncRun | None = None,
    replayable: bool = False,
) -> SyncLogEntry:
    """One log entry. ``replayable`` marks a skip a person can fix and replay (kept only on skips with an event)."""
    entry = SyncLogEntry.objects.create(
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


__all__ = ["LogAction", "log_entry_create", "run_count"]
