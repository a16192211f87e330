"""Polling for systems without usable webhooks (Fortnox; any system whose webhooks are switched off).

Per integration, system and entity a cursor says how far changes have been read. Each poll asks the
source for what changed since the cursor less an overlap window on the vendor's own clock (its zone and
step, the clocks of two machines, and the hour a wall clock repeats when summer time ends: ``clock``),
stores every changed record as an event, and moves the cursor in the same transaction as the last batch:
a crash repeats a poll, never skips one. The overlap reads some records again; one whose listed values are
what its link last synced is not stored again (``drift.unchanged_listed``), and where the list cannot show
every synced field the event's own hash check drops it after one read. The clock starts at the first
poll after the integration is switched on: records that existed before are the initial import's work,
also where the source cannot list by change (their ids at that moment are remembered).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import islice

from django.db import transaction
from django.utils import timezone

from integrations.models import EventSource, EventState, InboundEvent, Integration, PollCursor, SyncLink
from mappings.models import EntitySync, WebhookToggle
from mappings.validation import row_directions

from .clock import client_window_start
from .context import CRM, ERP, context_for
from .drift import unchanged_listed
from .ingest import event_ingest
from .mapping import TO_CRM, TO_ERP

BATCH = 200
#: The most ids a cursor remembers of its last poll; beyond that the overlap's records are left to their events.
RECENT_LIMIT = 5000


def poll_sources(integration: Integration, entity_sync: EntitySync) -> list[str]:
    """The systems whose changes to this entity must be polled: sources without working webhooks."""
    flows = row_directions(entity_sync.direction, "")
    systems = []
    for role, flow in ((CRM, TO_ERP), (ERP, TO_CRM)):
        if flow not in flows:
            continue
        connection = integration.crm_connection if role == CRM else integration.erp_connection
        if not connection.provider.catalog().supports(entity_sync.entity):
            continue  # the system has no such records (Fortnox has no contact persons)
        if not connection.provider.has_webhooks:
            systems.append(connection.system)
            continue
        hooked = WebhookToggle.objects.filter(integration=integration, system=connection.system,
                                              entity=entity_sync.entity, action__in=["created", "updated"],
                                              enabled=True).exists()
        if not hooked:
            systems.append(connection.system)
    return systems


def poll_entity(*, integration: Integration, system: str, entity: str, now: datetime | None = None,
                client_options: dict | None = None) -> int:
    """Read what changed in ``system`` since the cursor and store it as events; returns how many were stored.

    ``now`` (aware; the present by default) is where the cursor moves to. Listed records whose values are what
    their link last synced, parked ones and those older than the integration are not stored.
    """
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValueError("poll_entity needs an aware 'now'")
    ctx = context_for(integration, entity, **(client_options or {}))
    if ctx is None:
        return 0
    side = ctx.side(system)
    cursor, _ = PollCursor.objects.get_or_create(tenant_id=integration.tenant_id, integration=integration,
                                                 system=system, entity=entity)
    by_change = side.client.filters_by_change(side.entity)
    if cursor.modified_since is None:
        # The first poll starts the clock; what existed before is the initial import's work. Where the
        # source cannot list by change, the ids it holds now are remembered to tell old records from new.
        try:
            known = [] if by_change else [side.record_id(r) for r in side.client.list_records(side.entity)]
        finally:
            ctx.close()
        PollCursor.objects.filter(pk=cursor.pk).update(modified_since=now, polled_at=now, known_ids=known)
        return 0
    since = client_window_start(side.client, cursor=cursor.modified_since, now=now) if by_change else None
    stored = 0
    known_before = set() if by_change else set(cursor.known_ids or [])
    seen_before = set(cursor.recent_ids or [])
    listed: list[str] = []
    try:
        records = side.client.list_records(side.entity, modified_since=since)
        while True:
            batch = list(islice(records, BATCH))
            ids = [side.record_id(r) for r in batch]
            parked = _parked(integration, system, entity, ids)
            unchanged = unchanged_listed(ctx, side, batch, seen_before=seen_before)
            listed.extend(ids)
            old_unlinked = _unlinked(integration, side.role, entity, [i for i in ids if i in known_before])
            with transaction.atomic():
                for record in batch:
                    record_id = side.record_id(record)
                    if record_id in parked:
                        continue  # a parked failure waits for a person's replay, not for the next poll
                    if record_id in old_unlinked:
                        continue  # there before the integration was switched on: the initial import's
                    if record_id in unchanged:
                        continue  # read again by the overlap, but nothing synced has changed since
                    event_ingest(integration=integration, system=system, entity=entity, action="updated",
                                 external_id=record_id, source=EventSource.POLL)
                    stored += 1
                if len(batch) < BATCH:
                    recent = listed if by_change and len(listed) <= RECENT_LIMIT else []
                    PollCursor.objects.filter(pk=cursor.pk).update(modified_since=now, polled_at=now,
                                                                   recent_ids=recent)
                    break
    finally:
        ctx.close()
    return stored


def _unlinked(integration: Integration, role: str, entity: str, record_ids: list[str]) -> set[str]:
    """Those of ``record_ids`` (of the side playing ``role``) that no link of the integration holds."""
    if not record_ids:
        return set()
    linked = set(SyncLink.objects.filter(integration=integration, entity=entity, **{f"{role}_id__in": record_ids})
                 .values_list(f"{role}_id", flat=True))
    return set(record_ids) - linked


def _parked(integration: Integration, system: str, entity: str, record_ids: list[str]) -> set[str]:
    """Records whose latest notice failed for good: polling them again would only fail again."""
    latest = (InboundEvent.objects.filter(integration=integration, system=system, entity=entity,
                                          external_id__in=record_ids)
              .order_by("external_id", "-received_at", "-pk").values_list("external_id", "state"))
    seen: dict[str, str] = {}
    for record_id, state in latest:
        seen.setdefault(record_id, state)
    return {record_id for record_id, state in seen.items() if state == EventState.FAILED}


def polls_due(*, now=None) -> list[tuple[Integration, str, str]]:
    """(integration, system, entity) whose polling interval has passed."""
    now = now or timezone.now()
    due = []
    syncs = (EntitySync.objects.exclude(direction="off")
             .filter(integration__active=True, integration__tenant__active=True)
             .select_related("integration__crm_connection", "integration__erp_connection"))
    for entity_sync in syncs:
        for system in poll_sources(entity_sync.integration, entity_sync):
            cursor = PollCursor.objects.filter(integration=entity_sync.integration, system=system,
                                               entity=entity_sync.entity).first()
            interval = timedelta(seconds=entity_sync.polling_interval_seconds + entity_sync.polling_offset_seconds)
            if cursor is None or cursor.polled_at is None or cursor.polled_at + interval <= now:
                due.append((entity_sync.integration, system, entity_sync.entity))
    return due
