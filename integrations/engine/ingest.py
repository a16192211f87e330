"""Storing inbound work: webhooks, polls, reconciliations and imports all end here as InboundEvents.

A notice is stored before it is acknowledged, and coalesced with a pending notice of the same record:
the engine re-reads the record from its source, so one pending event per record is all the work there is.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from integrations.models import EventSource, EventState, InboundEvent, Integration
from integrations.systems.base import WebhookAction

from .sql import columns, table

#: Sources whose events are bulk work (a run's): they go to the bulk queue, everything else to the live one.
BULK_SOURCES = (EventSource.IMPORT, EventSource.RECONCILE)

#: A delete outranks everything; a create outranks an update (the record is still new to us).
_ACTION_RANK = {WebhookAction.UPDATED: 0, WebhookAction.CREATED: 1, WebhookAction.DELETED: 2}


def event_upsert(
    *, tenant_id: int, integration_id: int, system: str, entity: str, action: str, external_id: str,
    payload: Mapping[str, Any] | None = None, source: str = EventSource.WEBHOOK,
) -> tuple[int, bool]:
    """Store one notice in one statement; returns ``(event id, created)``.

    An ``INSERT … ON CONFLICT`` against the one-pending-event-per-record index: a pending event of
    the same record absorbs the notice (one more delivery, the stronger action, the newest payload)
    and concurrent notices of one record cannot both insert. The ORM cannot say this (its upsert knows
    no partial index), and this statement is the webhook endpoint's hottest path. A new row starts at
    one delivery and an absorbed notice makes it at least two, which tells the caller which happened.
    """
    event_id, created, _source = event_upsert_sourced(
        tenant_id=tenant_id, integration_id=integration_id, system=system, entity=entity, action=action,
        external_id=external_id, payload=payload, source=source)
    return event_id, created


def event_upsert_sourced(
    *, tenant_id: int, integration_id: int, system: str, entity: str, action: str, external_id: str,
    payload: Mapping[str, Any] | None = None, source: str = EventSource.WEBHOOK, notice: bool = False,
) -> tuple[int, bool, str]:
    """:func:`event_upsert`, also answering the source of the pending event that absorbed the notice (its own
    ``source`` when it made a new one): a live notice absorbed by an import's or a reconciliation's event is
    work a person waits for, to be moved to the live queue (:func:`events_promote`).

    ``notice``: a vendor's notice (a webhook call, the Fortnox stream). The event counts it (``notices``,
    ``last_notice_at``: the webhook health screen's figures) and, when new, is marked ``awaits_worker``: no task is
    queued for it, the live workers' broker takes it up (:mod:`.handover`).
    """
    now = _RECEIVED_AT.get_db_prep_save(timezone.now(), connection)
    params = [
        tenant_id, integration_id, system, entity, action, str(external_id), source,
        _PAYLOAD.get_db_prep_save(dict(payload or {}), connection), now, EventState.PENDING, "",
        1 if notice else 0, now if notice else None, notice,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_event_upsert_sql(), params)
        event_id, deliveries, stored_source = cursor.fetchone()
    return event_id, deliveries == 1, stored_source


def events_promote(*, event_ids: list[int], source: str, awaits_worker: bool = False) -> list[int]:
    """Bulk events that absorbed a live notice become live work (``source``); returns those changed, to hand to
    the live queue, or, with ``awaits_worker``, marked for the live workers' broker to take up (:mod:`.handover`).
    They keep their run, whose progress still counts them."""
    if not event_ids:
        return []
    promoted = list(InboundEvent.objects.filter(pk__in=event_ids, state=EventState.PENDING,
                                                source__in=BULK_SOURCES).values_list("pk", flat=True))
    if promoted:
        InboundEvent.objects.filter(pk__in=promoted).update(
            source=source, **({"awaits_worker": True} if awaits_worker else {}))
    return promoted


@cache
def _event_upsert_sql() -> str:
    events = table(InboundEvent)
    col = columns(InboundEvent, "tenant", "integration", "system", "entity", "action", "external_id", "source",
                   "payload", "received_at", "state", "last_error", "notices", "last_notice_at", "awaits_worker",
                   "deliveries", "attempts", "id")

    def rank(action: str) -> str:
        cases = " ".join(f"WHEN '{name}' THEN {value}" for name, value in _ACTION_RANK.items())
        return f"CASE {action} {cases} ELSE 0 END"

    inserted = ", ".join(col[name] for name in ("tenant", "integration", "system", "entity", "action", "external_id",
                                                "source", "payload", "received_at", "state", "last_error", "notices",
                                                "last_notice_at", "awaits_worker"))
    current, incoming = f"{events}.{col['action']}", f"excluded.{col['action']}"
    return (
        f"INSERT INTO {events} ({inserted}, {col['deliveries']}, {col['attempts']}) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 1, 0) "
        f"ON CONFLICT ({col['integration']}, {col['system']}, {col['entity']}, {col['external_id']}) "
        f"WHERE {col['state']} = '{EventState.PENDING}' "
        f"DO UPDATE SET {col['deliveries']} = {events}.{col['deliveries']} + 1, "
        f"{col['action']} = CASE WHEN {rank(incoming)} > {rank(current)} THEN {incoming} ELSE {current} END, "
        f"{col['payload']} = excluded.{col['payload']}, "
        f"{col['notices']} = {events}.{col['notices']} + excluded.{col['notices']}, "
        f"{col['last_notice_at']} = COALESCE(excluded.{col['last_notice_at']}, {events}.{col['last_notice_at']}) "
        f"RETURNING {col['id']}, {col['deliveries']}, {col['source']}"
    )


_PAYLOAD = InboundEvent._meta.get_field("payload")
_RECEIVED_AT = InboundEvent._meta.get_field("received_at")


def event_ingest(
    *, integration: Integration, system: str, entity: str, action: str, external_id: str,
    payload: Mapping[str, Any] | None = None, source: str = EventSource.WEBHOOK,
) -> tuple[InboundEvent, bool]:
    """Store one notice of a changed record and hand new work to the workers; returns ``(event, created)``.

    A pending event of the same record absorbs the notice (its delivery count goes up), so five
    deliveries of one change mean one piece of work.
    """
    from integrations.tasks import event_enqueue, events_enqueue

    event_id, created, stored_source = event_upsert_sourced(
        tenant_id=integration.tenant_id, integration_id=integration.pk, system=system, entity=entity, action=action,
        external_id=external_id, payload=payload, source=source)
    if created and source in BULK_SOURCES:
        events_enqueue(event_ids=[event_id])  # a run's record stored alone (a batch's fallback): still bulk work
    elif created or (stored_source in BULK_SOURCES and source not in BULK_SOURCES
                     and events_promote(event_ids=[event_id], source=source)):
        event_enqueue(event_id=event_id)
    return InboundEvent.objects.get(pk=event_id), created


def events_ingest_batch(
    *, integration: Integration, system: str, entity: str, external_ids: list[str], source: str,
    run_id: int | None = None, action: str = WebhookAction.UPDATED,
) -> int:
    """Store one notice per record of a batch (imports, reconciliations) with a few queries, not a few per record.

    Coalesces like :func:`event_ingest`: records that already have a pending event count one more
    delivery (and join the run if they belong to none); the rest are created together and handed to the
    workers in chunks. A concurrent notice of one of the records makes the batch fall back to one at a time.
    """
    ids = list(dict.fromkeys(str(external_id) for external_id in external_ids))
    if not ids:
        return 0
    from integrations.tasks import events_enqueue

    key = {"integration": integration, "system": system, "entity": entity}
    try:
        with transaction.atomic():
            pending = dict(InboundEvent.objects.select_for_update()
                           .filter(state=EventState.PENDING, external_id__in=ids, **key)
                           .values_list("external_id", "pk"))
            if pending:
                InboundEvent.objects.filter(pk__in=pending.values()).update(deliveries=F("deliveries") + 1)
                if run_id is not None:
                    InboundEvent.objects.filter(pk__in=pending.values(), run__isnull=True).update(run_id=run_id)
            created = InboundEvent.objects.bulk_create([
                InboundEvent(tenant_id=integration.tenant_id, action=action, source=source, external_id=external_id,
                             run_id=run_id, **key)
                for external_id in ids if external_id not in pending])
            events_enqueue(event_ids=[event.pk for event in created], live=source not in BULK_SOURCES)
    except IntegrityError:  # another process stored one of these records a moment ago
        for external_id in ids:
            event, _ = event_ingest(integration=integration, system=system, entity=entity, action=action,
                                    external_id=external_id, source=source)
            if run_id is not None and event.run_id is None:
                InboundEvent.objects.filter(pk=event.pk).update(run_id=run_id)
    return len(ids)
