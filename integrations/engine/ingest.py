"""Storing inbound work: webhooks, polls, reconciliations and imports all end here as InboundEvents.

A notice is stored before it is acknowledged, and coalesced with a pending notice of the same record:
the engine re-reads the record from its source, so one pending event per record is all the work there is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from integrations.models import EventSource, EventState, InboundEvent, Integration, WebhookStat
from integrations.systems.base import WebhookAction, WebhookEvent
from mappings.models import WebhookToggle

#: A delete outranks everything; a create outranks an update (the record is still new to us).
_ACTION_RANK = {WebhookAction.UPDATED: 0, WebhookAction.CREATED: 1, WebhookAction.DELETED: 2}


def _stronger(current: str, incoming: str) -> str:
    return incoming if _ACTION_RANK.get(incoming, 0) > _ACTION_RANK.get(current, 0) else current


def event_ingest(
    *, integration: Integration, system: str, entity: str, action: str, external_id: str,
    payload: Mapping[str, Any] | None = None, source: str = EventSource.WEBHOOK,
) -> tuple[InboundEvent, bool]:
    """Store one notice of a changed record; returns ``(event, created)``.

    A pending event of the same record absorbs the notice (its delivery count goes up), so five
    deliveries of one change mean one piece of work.
    """
    key = {"integration": integration, "system": system, "entity": entity, "external_id": str(external_id)}
    from integrations.tasks import event_enqueue

    for _ in range(3):
        with transaction.atomic():
            pending = (InboundEvent.objects.select_for_update()
                       .filter(state=EventState.PENDING, **key).first())
            if pending is not None:
                pending.deliveries = F("deliveries") + 1
                pending.action = _stronger(pending.action, action)
                pending.payload = dict(payload or {})
                pending.save(update_fields=["deliveries", "action", "payload"])
                pending.refresh_from_db(fields=["deliveries"])
                return pending, False
            try:
                with transaction.atomic():
                    event = InboundEvent.objects.create(
                        tenant_id=integration.tenant_id, action=action, payload=dict(payload or {}), source=source,
                        **key)
                event_enqueue(event_id=event.pk)
                return event, True
            except IntegrityError:
                continue  # another process stored the same record a moment ago: coalesce with it
    raise RuntimeError("could not store the event after three attempts")  # pragma: no cover


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
            events_enqueue(event_ids=[event.pk for event in created])
    except IntegrityError:  # another process stored one of these records a moment ago
        for external_id in ids:
            event, _ = event_ingest(integration=integration, system=system, entity=entity, action=action,
                                    external_id=external_id, source=source)
            if run_id is not None and event.run_id is None:
                InboundEvent.objects.filter(pk=event.pk).update(run_id=run_id)
    return len(ids)


@dataclass
class WebhookOutcome:
    stored: list[InboundEvent]
    coalesced: int
    dropped: int


def toggle_allows(*, integration: Integration, system: str, entity: str, action: str) -> bool:
    """Whether the integration acts on this system's event. No toggle row means the entity is not synced."""
    toggle = WebhookToggle.objects.filter(integration=integration, system=system, entity=entity,
                                          action=action).only("enabled").first()
    return bool(toggle and toggle.enabled)


@transaction.atomic
def webhook_events_store(*, integration: Integration, system: str, events: list[WebhookEvent]) -> WebhookOutcome:
    """Store what one webhook call announced, in one transaction; events whose toggle is off are counted."""
    outcome = WebhookOutcome(stored=[], coalesced=0, dropped=0)
    now = timezone.now()
    for event in events:
        entity, action = str(event.entity), str(event.action)
        stat = _stat(integration, system, entity)
        stat.received = F("received") + 1
        stat.last_received_at = now
        if not toggle_allows(integration=integration, system=system, entity=entity, action=action):
            stat.dropped_by_toggle = F("dropped_by_toggle") + 1
            stat.save(update_fields=["received", "last_received_at", "dropped_by_toggle"])
            outcome.dropped += 1
            continue
        stat.save(update_fields=["received", "last_received_at"])
        stored, created = event_ingest(integration=integration, system=system, entity=entity, action=action,
                                       external_id=event.external_id, payload=event.payload or {})
        outcome.stored.append(stored)
        outcome.coalesced += 0 if created else 1
    return outcome


def webhook_error_record(*, integration: Integration, system: str, message: str, entity: str = "") -> None:
    """Remember why a webhook from a known integration was refused, for the webhook health screen."""
    stat = _stat(integration, system, entity)
    stat.last_error, stat.last_error_at = message[:1000], timezone.now()
    stat.save(update_fields=["last_error", "last_error_at"])


def _stat(integration: Integration, system: str, entity: str) -> WebhookStat:
    stat, _ = WebhookStat.objects.get_or_create(tenant_id=integration.tenant_id, integration=integration,
                                                system=system, entity=entity)
    return stat
