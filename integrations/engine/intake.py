"""The webhook endpoint's path into the database: who is calling, what they may send, storing it.

Every webhook call pays for this path, so it is a couple of hand-written statements rather than ORM
queries (each of which costs more to build than to run): the caller by its token together with its
enabled toggles, then one upsert per notice — a call of one notice is that one statement, committed on its own.
Nothing else is written per notice: no task row (the live workers' broker takes the stored event up,
:mod:`.handover`), no shared counter row (the event counts its notices; the health screen adds them up), and the
guess whether a notice is the echo of Synkro's own write is made when the event is handed to a worker.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from integrations.models import Connection, EventSource, EventState, InboundEvent, Integration, SyncLink, WebhookStat
from integrations.systems.base import WebhookEvent
from integrations.systems.errors import WebhookRejected
from mappings.models import WebhookToggle
from tenants.models import Tenant

from . import wording
from .ingest import BULK_SOURCES, event_upsert_sourced, events_promote
from .sql import columns, table


@dataclass(frozen=True)
class WebhookSource:
    """Who a webhook call comes from, and which of its events it acts on: enough to store its notices."""

    integration_id: int
    tenant_id: int
    system: str
    connection_id: int
    #: The (entity, action) pairs whose toggle is on; no toggle row means the entity is not synced.
    enabled: frozenset[tuple[str, str]] = frozenset()
    #: False while the integration is paused: its notices are acknowledged and counted, never stored.
    active: bool = True


def webhook_source(*, system: str, token: str) -> WebhookSource | None:
    """The integration owning ``token`` with a connection of ``system`` and its enabled toggles, or None.

    A paused integration is found too (``active`` False), so its notices can be acknowledged instead of
    answered 404; an integration of a deactivated tenant is not.

    One indexed lookup by the token (unique, 256 random bits) that also checks the tenant is active;
    the toggles come along as one row each.
    """
    rows = _source_rows([system, token])
    if not rows:
        return None
    integration_id, tenant_id, crm_id, crm_system, erp_id, erp_system, active = rows[0][:7]
    connection_id = {crm_system: crm_id, erp_system: erp_id}.get(system)
    if connection_id is None:
        return None
    enabled = frozenset((entity, action) for *_, entity, action in rows if entity is not None)
    return WebhookSource(integration_id=integration_id, tenant_id=tenant_id, system=system,
                         connection_id=connection_id, enabled=enabled, active=bool(active))


def _source_rows(params: list[str]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(_source_sql(), params)
        return cursor.fetchall()


@cache
def _source_sql() -> str:
    integration = columns(Integration, "id", "tenant", "crm_connection", "erp_connection", "webhook_token", "active")
    conn = columns(Connection, "id", "system")
    tenant = columns(Tenant, "id", "active")
    toggle = columns(WebhookToggle, "integration", "system", "entity", "action", "enabled")
    return (
        f"SELECT i.{integration['id']}, i.{integration['tenant']}, crm.{conn['id']}, crm.{conn['system']}, "
        f"erp.{conn['id']}, erp.{conn['system']}, i.{integration['active']}, w.{toggle['entity']}, "
        f"w.{toggle['action']} "
        f"FROM {table(Integration)} i "
        f"JOIN {table(Tenant)} t ON t.{tenant['id']} = i.{integration['tenant']} "
        f"JOIN {table(Connection)} crm ON crm.{conn['id']} = i.{integration['crm_connection']} "
        f"JOIN {table(Connection)} erp ON erp.{conn['id']} = i.{integration['erp_connection']} "
        f"LEFT JOIN {table(WebhookToggle)} w ON w.{toggle['integration']} = i.{integration['id']} "
        f"AND w.{toggle['system']} = %s AND w.{toggle['enabled']} "
        f"WHERE i.{integration['webhook_token']} = %s AND t.{tenant['active']}"
    )


#: How deep a notice's body may nest (objects and lists); vendors' notices nest a few levels.
MAX_PAYLOAD_DEPTH = 32
#: Control characters never belong in an id; in stored text only tab, line feed and carriage return do.
_ID_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ID_MAX_LENGTH = InboundEvent._meta.get_field("external_id").max_length


def webhook_events_check(*, events: list[WebhookEvent]) -> None:
    """Refuse a call whose notices cannot be stored whole; returns nothing when every notice can.

    Raises :class:`WebhookRejected` (413) for more notices than ``WEBHOOK_MAX_NOTICES`` in one call, and
    (400) for an id that is empty, longer than an event can hold or carries a control character, or a
    body nested deeper than :data:`MAX_PAYLOAD_DEPTH` or holding NUL or another control character in its
    text. The vendor's parser has checked the id's shape already; this is what every system shares.
    """
    limit = settings.WEBHOOK_MAX_NOTICES
    if len(events) > limit:
        raise WebhookRejected(f"The call carries {len(events)} notices; at most {limit} are accepted in one call. "
                              "Send them in smaller calls.", status=413)
    for event in events:
        external_id = event.external_id
        if not isinstance(external_id, str) or not external_id.strip():
            raise WebhookRejected(f"{_notice(event)} names no record id.")
        if len(external_id) > _ID_MAX_LENGTH:
            raise WebhookRejected(f"{_notice(event)} names an id of {len(external_id)} characters; "
                                  f"ids are at most {_ID_MAX_LENGTH}.")
        if _ID_CONTROL.search(external_id):
            raise WebhookRejected(f"{_notice(event)} names an id with a control character in it.")
        _payload_check(event.payload or {})


def _notice(event: WebhookEvent) -> str:
    """“An organisation notice”, “A POS sale notice”: a notice named by its entity in running text."""
    return wording.with_article(f"{wording.entity_words(str(event.entity))} notice", capital=True)


def _payload_check(payload: Any) -> None:
    """Walk a notice's body without recursion: bounded depth, and no control characters in keys or text."""
    pending: list[tuple[Any, int]] = [(payload, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _TEXT_CONTROL.search(value):
                raise WebhookRejected("The notification holds a NUL or another control character in its text.")
        elif isinstance(value, Mapping | list | tuple):
            if depth > MAX_PAYLOAD_DEPTH:
                raise WebhookRejected(f"The notification is nested more than {MAX_PAYLOAD_DEPTH} levels deep.")
            if isinstance(value, Mapping):
                pending.extend((key, depth) for key in value)
                pending.extend((item, depth + 1) for item in value.values())
            else:
                pending.extend((item, depth + 1) for item in value)


@dataclass
class WebhookOutcome:
    stored: list[int]
    coalesced: int
    dropped: int


def webhook_events_store(*, source: WebhookSource, events: list[WebhookEvent]) -> WebhookOutcome:
    """Store what one webhook call announced, all or nothing; events whose toggle is off are counted, not stored.

    Takes the checked notices of one call (:func:`webhook_events_check`); returns the ids of the events that hold
    them (a coalesced notice names the pending event that absorbed it), how many were coalesced and how many were
    dropped by their toggle. A call of one enabled notice is one upsert, committed on its own (the common case, and
    the cheapest); anything more runs in one transaction: one upsert per notice, one health-counter upsert for the
    notices dropped by a toggle, and the promotion of notices a bulk run's waiting event absorbed.

    New events are marked for the live workers' broker (:mod:`.handover`), which queues them once committed; a
    notice absorbed by a bulk run's waiting event moves that event to the live workers (a person's change goes
    ahead of an import's backlog) unless it is most likely the echo of Synkro's own write (:func:`probable_echoes`).
    """
    outcome = WebhookOutcome(stored=[], coalesced=0, dropped=0)
    absorbed: dict[int, tuple[str, str]] = {}  # notices absorbed by a bulk run's waiting event
    joined: dict[int, tuple[str, str]] = {}  # notices absorbed by a waiting webhook event
    dropped: dict[str, list[int]] = {}  # entity -> [received, dropped by toggle], for notices not stored
    one_statement = len(events) == 1 and (str(events[0].entity), str(events[0].action)) in source.enabled
    with nullcontext() if one_statement else transaction.atomic():
        for event in events:
            entity, action = str(event.entity), str(event.action)
            if (entity, action) not in source.enabled:
                count = dropped.setdefault(entity, [0, 0])
                count[0] += 1
                count[1] += 1
                outcome.dropped += 1
                continue
            event_id, created, stored_source = event_upsert_sourced(
                tenant_id=source.tenant_id, integration_id=source.integration_id, system=source.system,
                entity=entity, action=action, external_id=event.external_id, payload=event.payload or {},
                notice=True)
            outcome.stored.append(event_id)
            outcome.coalesced += 0 if created else 1
            if not created and stored_source in BULK_SOURCES:
                absorbed[event_id] = (entity, str(event.external_id))
            elif not created:
                joined[event_id] = (entity, str(event.external_id))
        if dropped:
            webhook_stats_add(source, dropped)
        if absorbed:  # rare: a lone notice's upsert is committed already, and this is a fix-up safe to repeat
            with transaction.atomic():
                echoes = probable_echoes(source.integration_id, absorbed)
                events_promote(event_ids=[e for e in absorbed if e not in echoes], source=EventSource.WEBHOOK,
                               awaits_worker=True)
        if joined:  # a fix-up too, safe to repeat
            echoes_overtaken(source.integration_id, joined)
    return outcome


def echoes_overtaken(integration_id: int, records: Mapping[int, tuple[str, str]]) -> int:
    """Waiting webhook events (event id → (entity, record id)) that most likely held the echo of Synkro's own write,
    and so wait with the bulk work (:func:`probable_echoes`), and now hold a notice that came more than
    ``ECHO_SETTLE`` after their first: a person's change made just after Synkro's write. They are marked for the live
    workers' broker again, which hands an event of several notices to the live workers (:mod:`.handover`); the bulk
    task still queued for one finds it taken. Returns how many were marked.
    """
    echoes = probable_echoes(integration_id, records)
    if not echoes:
        return 0
    return InboundEvent.objects.filter(
        pk__in=echoes, state=EventState.PENDING, source=EventSource.WEBHOOK, awaits_worker=False,
        received_at__lte=timezone.now() - ECHO_SETTLE).update(awaits_worker=True)


#: A notice of a record Synkro wrote this recently is most likely the echo of that write.
ECHO_WINDOW = timedelta(seconds=30)
#: An echo comes right behind its write (a create and its number write-back come as two notices within a second); a
#: second notice of the same waiting record this much later is a change of its own.
ECHO_SETTLE = timedelta(seconds=2)


def probable_echoes(integration_id: int, records: Mapping[int, tuple[str, str]]) -> set[int]:
    """Of new events (event id → (entity, record id)), those naming a record Synkro wrote within ``ECHO_WINDOW``.

    They are still processed (an echo is recognised by its digest; a person's edit in the same minutes is synced),
    but as bulk work: an import's or a reconciliation's writes come back as a stream of notices, and a person's
    change elsewhere must not wait behind them. One query.
    """
    if not records:
        return set()
    ids = {record_id for _entity, record_id in records.values()}
    recent = SyncLink.objects.filter(integration_id=integration_id,
                                     entity__in={entity for entity, _ in records.values()},
                                     synced_at__gte=timezone.now() - ECHO_WINDOW)
    written = set(recent.filter(crm_id__in=ids).values_list("entity", "crm_id")) | \
        set(recent.filter(erp_id__in=ids).values_list("entity", "erp_id"))
    return {event_id for event_id, record in records.items() if record in written}


def webhook_stats_add(source: WebhookSource, counts: Mapping[str, list[int]]) -> None:
    """Add notices that were not stored (``counts``: entity → [received, dropped by toggle]) to the health counters:
    one upsert for all entities of a call. Stored notices are counted on their events (``InboundEvent.notices``)."""
    now = WebhookStat._meta.get_field("last_received_at").get_db_prep_save(timezone.now(), connection)
    params: list[Any] = []
    for entity, (received, dropped) in sorted(counts.items()):
        params += [source.tenant_id, source.integration_id, source.system, entity, received, dropped, now]
    with connection.cursor() as cursor:
        cursor.execute(_stats_add_sql(len(counts)), params)


@cache
def _stats_add_sql(rows: int) -> str:
    stats = table(WebhookStat)
    col = columns(WebhookStat, "tenant", "integration", "system", "entity", "received", "dropped_by_toggle",
                   "last_received_at", "last_error")
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, '')"] * rows)
    received, dropped, at = col["received"], col["dropped_by_toggle"], col["last_received_at"]
    return (
        f"INSERT INTO {stats} ({col['tenant']}, {col['integration']}, {col['system']}, {col['entity']}, "
        f"{received}, {dropped}, {at}, {col['last_error']}) VALUES {values} "
        f"ON CONFLICT ({col['integration']}, {col['system']}, {col['entity']}) DO UPDATE SET "
        f"{received} = {stats}.{received} + excluded.{received}, "
        f"{dropped} = {stats}.{dropped} + excluded.{dropped}, {at} = excluded.{at}"
    )


def webhook_paused_count(source: WebhookSource) -> None:
    """Count a call to a paused integration on its system's health row (entity ""): the row is made once, the
    count raised in the database so concurrent calls all count."""
    stat, _ = WebhookStat.objects.get_or_create(tenant_id=source.tenant_id, integration_id=source.integration_id,
                                                system=source.system, entity="")
    WebhookStat.objects.filter(pk=stat.pk).update(dropped_while_paused=F("dropped_while_paused") + 1)


def webhook_error_record(*, integration_id: int, tenant_id: int, system: str, message: str, entity: str = "") -> None:
    """Remember why a webhook from a known integration was refused, for the webhook health screen."""
    stat, _ = WebhookStat.objects.get_or_create(tenant_id=tenant_id, integration_id=integration_id,
                                                system=system, entity=entity)
    stat.last_error, stat.last_error_at = message[:1000], timezone.now()
    stat.save(update_fields=["last_error", "last_error_at"])


def webhook_notices_keep(*, events: QuerySet[InboundEvent]) -> int:
    """Keep the notices that ``events`` counted on the health counters, before those events are removed.

    The "ever" figure of the webhook health screen is the counter row's ``received`` plus the notices of the events
    still stored (:func:`webhook_notices`); the history clean-up calls this in the transaction that removes events,
    so the figure does not drop. Returns how many notices were moved onto counter rows.
    """
    moved = 0
    rows = (events.filter(notices__gt=0).values("tenant_id", "integration_id", "system", "entity")
            .annotate(n=Sum("notices"), last=Max("last_notice_at")).order_by())
    for row in rows:
        key = {name: row[name] for name in ("tenant_id", "integration_id", "system", "entity")}
        stat, _ = WebhookStat.objects.get_or_create(**key)
        last = Value(row["last"], output_field=WebhookStat._meta.get_field("last_received_at"))
        WebhookStat.objects.filter(pk=stat.pk).update(
            received=F("received") + row["n"],
            last_received_at=Greatest(Coalesce(F("last_received_at"), last), last) if row["last"] else
            F("last_received_at"))
        moved += row["n"]
    return moved


@dataclass(frozen=True)
class NoticeCount:
    """The notices of one integration's system and entity that stored events hold: how many, and the newest."""

    notices: int
    last_notice_at: dt.datetime | None


def webhook_notices(*, events: QuerySet[InboundEvent]) -> dict[tuple[int, str, str], NoticeCount]:
    """The notices ``events`` hold, by (integration id, system, entity): one query. Adds to the counter rows'
    ``received`` to make the webhook health screen's "ever" figure (see :func:`webhook_notices_keep`)."""
    rows = (events.filter(notices__gt=0).values("integration_id", "system", "entity")
            .annotate(n=Sum("notices"), last=Max("last_notice_at")).order_by())
    return {(row["integration_id"], row["system"], row["entity"]): NoticeCount(row["n"], row["last"]) for row in rows}
