"""Working through inbound events: claim one, hold its record, sync it, and decide what a failure means.

Transient failures (429, 5xx, time-outs) go back to the queue with exponential backoff and jitter,
never sooner than the vendor's Retry-After, and are parked as failed after ``MAX_ATTEMPTS``; permanent
ones (the vendor refused the data, the credentials are wrong) fail at once with the vendor's words.
Every failure leaves a log entry and can be replayed.
"""

from __future__ import annotations

import logging
import random
import time
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations.models import EventSource, EventState, InboundEvent, Integration, LogAction, SyncLink, SyncRun
from integrations.systems.errors import (
    AuthError,
    ChangedSinceRead,
    ExternalSystemError,
    NotFoundError,
    VendorValidationError,
    plain_refusal,
)

from . import wording
from .apply import record_label, record_sync
from .context import context_for
from .ingest import BULK_SOURCES
from .leases import LEASE, event_held, event_let_go
from .locks import RecordBusy, record_key, record_locked
from .log import log_entry_create
from .outcome import Outcome
from .settings_cache import integration_kept
from .sql import table

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(seconds=15)
BACKOFF_MAX = timedelta(minutes=30)
#: A claimed event whose worker vanished (killed mid-way) is taken up again after this.
#: A claim runs out this long after its worker last renewed it (:mod:`.leases`).
PROCESSING_LEASE = LEASE
LOCK_WAIT_SECONDS = 5.0


def retry_delay(attempts: int, retry_after: float | None = None, *, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter, never shorter than the vendor's Retry-After."""
    rng = rng or random.Random()
    ceiling = min(BACKOFF_MAX, BACKOFF_BASE * (2 ** max(0, attempts - 1)))
    delay = timedelta(seconds=rng.uniform(ceiling.total_seconds() / 2, ceiling.total_seconds()))
    if retry_after:
        delay = max(delay, timedelta(seconds=retry_after))
    return delay


def event_claim(*, event_id: int) -> InboundEvent | None:
    """Take a due pending event for this worker; None when it is not there, not due, or taken.

    One statement: the claim (``UPDATE … RETURNING``, SQLite ≥ 3.35 and PostgreSQL) answers the event's row and
    its integration's ``settings_version`` (with its random token, so that an id used again — a test's rolled-back
    rows — never finds another integration's settings), by which the integration, its connections and settings
    are reused from what this worker keeps (:mod:`.settings_cache`) or read again. The event comes with its
    integration.
    """
    now = connection.ops.adapt_datetimefield_value(timezone.now())  # as Django stores it (SQLite: text in UTC)
    claimed = list(InboundEvent.objects.raw(_CLAIM, [EventState.PROCESSING, now, event_id, EventState.PENDING, now]))
    if not claimed:
        return None
    event = claimed[0]
    try:
        event.integration = integration_kept(integration_id=event.integration_id,
                                             version=(event.settings_version, event.integration_token))
    except Integration.DoesNotExist:  # removed with its events meanwhile: nothing is left to do
        return None
    return event


def _claim_statement() -> str:
    events, integrations = table(InboundEvent), table(Integration)
    names = [f.column for f in InboundEvent._meta.concrete_fields]
    returned = ", ".join(f'{events}."{name}"' for name in names)
    # Names from the models (:mod:`.sql`), values as parameters.
    return (f'UPDATE {events} SET "state" = %s, "attempts" = "attempts" + 1, "processed_at" = %s '  # noqa: S608
            f'WHERE "id" = %s AND "state" = %s AND ("next_attempt_at" IS NULL OR "next_attempt_at" <= %s) '
            f'RETURNING {returned}, (SELECT i."settings_version" FROM {integrations} i '
            f'WHERE i."id" = {events}."integration_id") AS "settings_version", (SELECT i."webhook_token" '
            f'FROM {integrations} i WHERE i."id" = {events}."integration_id") AS "integration_token"')


_CLAIM = _claim_statement()


def event_process(*, event_id: int, client_options: dict | None = None) -> Outcome | None:
    """Process one event end to end. Safe to call twice: the second call finds nothing to claim."""
    event = event_claim(event_id=event_id)
    if event is None:
        return None
    event_held(event.pk)
    try:
        return _event_process(event, client_options=client_options)
    finally:
        event_let_go(event.pk)


def _event_process(event: InboundEvent, *, client_options: dict | None) -> Outcome | None:
    integration = event.integration
    options = {**(client_options or {}), **({"bulk": True} if event.source in BULK_SOURCES else {})}
    ctx = context_for(integration, event.entity, **options)
    if ctx is None:
        _finish(event, EventState.DROPPED, "This integration does not sync that entity.")
        return None
    try:
        source = ctx.side(event.system)
        keys = [record_key(integration_id=integration.pk, entity=event.entity, system=event.system,
                           external_id=event.external_id)]
        outcome = _with_lock(keys, lambda: record_sync(ctx, source=source, external_id=event.external_id,
                                                       action=event.action, event=event, run=event.run))
    except RecordBusy:
        _retry_later(event, "Another worker is writing this record; trying again in a moment.",
                     delay=timedelta(seconds=2), count_attempt=False)
        return None
    except ChangedSinceRead as error:  # a person's edit met Synkro's write: plan again against the record as it is
        _retry_later(event, str(error), delay=timedelta(seconds=1))
        return None
    except ExternalSystemError as error:
        _fail_or_retry(event, error, ctx)
        return None
    except Exception as error:  # a bug must not lose the event: park it with what happened
        logger.exception("sync of event %s crashed", event.pk)
        _park(event, f"Synkro could not process this change ({error.__class__.__name__}: {error}). "
                     "It is parked and can be replayed once fixed.", ctx=ctx)
        return None
    finally:
        ctx.close()
    _finish(event, EventState.DONE, outcome.reason if outcome.action == "echo" else "")
    return outcome


def _with_lock(keys: list[str], work):
    """Run ``work`` holding the record's lease, waiting a few seconds for another worker to finish."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            with record_locked(*keys):
                return work()
        except RecordBusy:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def _finish(event: InboundEvent, state: str, note: str = "") -> None:
    InboundEvent.objects.filter(pk=event.pk).update(state=state, last_error=note[:2000], next_attempt_at=None,
                                                    processed_at=timezone.now())


def _retry_later(event: InboundEvent, reason: str, *, delay: timedelta, count_attempt: bool = True) -> None:
    with transaction.atomic():
        # A newer notice of the same record may have arrived meanwhile: it already holds the pending slot.
        newer = InboundEvent.objects.filter(integration=event.integration, system=event.system, entity=event.entity,
                                            external_id=event.external_id, state=EventState.PENDING).exists()
        if newer:
            _finish(event, EventState.DONE, "Superseded by a newer notice of the same record.")
            return
        updates = {"state": EventState.PENDING, "last_error": reason[:2000],
                   "next_attempt_at": timezone.now() + delay}
        if not count_attempt:
            updates["attempts"] = F("attempts") - 1
        try:
            with transaction.atomic():
                InboundEvent.objects.filter(pk=event.pk).update(**updates)
        except IntegrityError:  # the newer notice arrived this very moment
            _finish(event, EventState.DONE, "Superseded by a newer notice of the same record.")
            return
    # Not handed to a worker now: it is not due yet, and a task now would find nothing to claim. The every-minute
    # dispatcher hands it over once due (``events_to_dispatch``), to the queue of its kind of work.


def _enqueue_later(event_id: int) -> None:
    from integrations.tasks import event_enqueue

    event_enqueue(event_id=event_id)


def plain_error(error: ExternalSystemError, system_name: str, *, what: str = "") -> str:
    """The failure in words a support person can act on; ``what`` names the record ("customer") when known."""
    if isinstance(error, AuthError):
        return (f"{system_name} refused the connection's credentials. Open the connection, enter them again "
                f"and press “Test connection”. ({error.vendor_message or error.status})")
    if isinstance(error, VendorValidationError):
        explained = plain_refusal(error, system_name, what=what)
        if explained:
            return explained
        return f"{system_name} refused the data: {error.vendor_message or error.message}"
    if isinstance(error, NotFoundError):
        return f"{system_name} does not know that record or address: {error.vendor_message or error.message}"
    return error.message


def _fail_or_retry(event: InboundEvent, error: ExternalSystemError, ctx) -> None:
    system_name = _system_name(ctx, error)
    if error.transient and event.attempts < MAX_ATTEMPTS:
        delay = retry_delay(event.attempts, getattr(error, "retry_after", None))
        _retry_later(event, f"{plain_error(error, system_name)} Trying again in {int(delay.total_seconds())} s "
                            f"(attempt {event.attempts} of {MAX_ATTEMPTS}).", delay=delay)
        return
    message = plain_error(error, system_name, what=_record_word(ctx, system_name))
    if error.transient:
        message = f"{message} Gave up after {event.attempts} attempts; the change is parked and can be replayed."
    _park(event, message, ctx=ctx, vendor_message=error.vendor_message or "")


def _record_word(ctx, system_name: str) -> str:
    """The failing side's word for the record ("customer", "invoice"), from its catalog; "" when unknown."""
    for side in (ctx.crm, ctx.erp) if ctx is not None else ():
        spec = getattr(side, "spec", None)
        if side.name == system_name and spec is not None and spec.label:
            return _one_record(spec.label, str(side.entity))
    return ""


def _one_record(label: str, entity: str) -> str:
    """A catalog's name for one record, in running text: "debtor", "POS payment" (see ``wording.record_in_text``)."""
    return wording.record_in_text(label, entity)


def _system_name(ctx, error: ExternalSystemError) -> str:
    """Which side failed: the error names its system when the shared client raised it; else its text does."""
    sides = (ctx.crm, ctx.erp)
    for side in sides:
        if error.system and error.system == side.system:
            return side.name
    text = str(error)
    for side in sides:
        if side.name in text:
            return side.name
    return "The other system"


def _park(event: InboundEvent, message: str, *, ctx=None, vendor_message: str = "") -> None:
    """The event becomes a dead letter with a log entry saying why; replay puts it back."""
    with transaction.atomic():
        InboundEvent.objects.filter(pk=event.pk).update(state=EventState.FAILED, last_error=message[:2000],
                                                        next_attempt_at=None)
        crm_system = event.integration.crm_connection.system
        log_entry_create(
            integration=event.integration, entity=event.entity, action=LogAction.FAILED,
            direction="to_erp" if event.system == crm_system else "to_crm",
            crm_id=event.external_id if event.system == crm_system else "",
            erp_id="" if event.system == crm_system else event.external_id, label=_failed_record_label(event, ctx),
            reason=_failed_reason(event, ctx), error=message,
            vendor_message=vendor_message, event=event, run=event.run,
            **({"config_version_id": ctx.config_version_id} if ctx is not None else {}),
        )


def _failed_reason(event: InboundEvent, ctx) -> str:
    """"A customer changed in Fortnox could not be synced." in the systems' own names and words.

    Without a context (the integration no longer syncs the entity) the system's name comes from the registry and
    the record is Synkro's word for the entity; never the system's key.
    """
    side = None
    if ctx is not None:
        side = next((s for s in (ctx.crm, ctx.erp) if s.system == event.system), None)
    system_name = side.name if side is not None else wording.system_name(str(event.system))
    spec = getattr(side, "spec", None)
    record = _one_record(spec.label if spec is not None else "", str(event.entity))
    return wording.change_not_synced(record=record, action=str(event.action), system=system_name)


def _failed_record_label(event: InboundEvent, ctx) -> str:
    """The record's name for the failure's log entry, so support can find it by name: the link's, else the source's."""
    if ctx is None:
        return ""
    try:
        source = ctx.side(event.system)
        link = (SyncLink.objects.filter(integration=event.integration, entity=event.entity,
                                        **{f"{source.role}_id": event.external_id}).exclude(label="").first())
        if link is not None:
            return link.label
        return record_label(source, source.client.get_record(source.entity, event.external_id))
    except Exception:  # best effort: the failure is logged even when the record's name cannot be read
        return ""


def events_requeue_stale(*, now=None) -> int:
    """Events whose worker vanished mid-way (killed, machine lost) become pending again; returns how many."""
    return len(events_take_up_stale(now=now))


def events_take_up_stale(*, now=None) -> list[int]:
    """Events whose claim ran out (their worker stopped renewing it: killed, machine lost) become pending and due
    now; returns their ids, to hand to the workers. One covered by a newer waiting notice is finished instead."""
    now = now or timezone.now()
    requeued = []
    for event in InboundEvent.objects.filter(state=EventState.PROCESSING, processed_at__lt=now - PROCESSING_LEASE):
        try:
            with transaction.atomic():
                if InboundEvent.objects.filter(pk=event.pk, state=EventState.PROCESSING,
                                               processed_at__lt=now - PROCESSING_LEASE).update(
                        state=EventState.PENDING, next_attempt_at=now,
                        last_error="The worker handling this change stopped; it is being taken up again."):
                    requeued.append(event.pk)
        except IntegrityError:  # a newer notice of the same record already waits, and covers this one
            _finish(event, EventState.DONE, "Superseded by a newer notice of the same record.")
    return requeued


def events_due(*, limit: int = 500) -> list[int]:
    now = timezone.now()
    return list(InboundEvent.objects.filter(state=EventState.PENDING)
                .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
                .order_by("received_at", "pk").values_list("pk", flat=True)[:limit])


#: A change that has waited this long without a retry time was most likely handed to the workers and lost.
LOST_PUSH_AFTER = timedelta(minutes=1)


def events_to_dispatch(*, now=None, limit: int = 500) -> list[int]:
    """Due retries, and waiting changes old enough that their hand-over to the workers may have been lost.

    Fresh changes are left out: they were handed over with their commit, and handing them over again every
    minute only lengthens a busy queue with copies.
    """
    now = now or timezone.now()
    return list(InboundEvent.objects.filter(state=EventState.PENDING)
                .filter(Q(next_attempt_at__lte=now) |
                        Q(next_attempt_at__isnull=True, received_at__lte=now - LOST_PUSH_AFTER))
                .order_by("received_at", "pk").values_list("pk", flat=True)[:limit])


def bulk_events(event_ids: list[int]) -> set[int]:
    """Of ``event_ids``, those that are bulk work (an import's or a reconciliation's)."""
    return set(InboundEvent.objects.filter(pk__in=event_ids, source__in=BULK_SOURCES).values_list("pk", flat=True))


def event_replay(*, event: InboundEvent, run: SyncRun | None = None) -> InboundEvent:
    """Put a parked (failed) event back in the queue; if the record has newer pending work, that covers it."""
    with transaction.atomic():
        pending = InboundEvent.objects.filter(integration=event.integration, system=event.system,
                                              entity=event.entity, external_id=event.external_id,
                                              state=EventState.PENDING).first()
        if pending is not None:
            InboundEvent.objects.filter(pk=event.pk).update(state=EventState.DONE,
                                                            last_error="Replayed through a newer pending change.")
            return pending
        InboundEvent.objects.filter(pk=event.pk).update(
            state=EventState.PENDING, attempts=0, next_attempt_at=None, source=EventSource.REPLAY, run=run,
            last_error="")
    _enqueue_later(event.pk)
    event.refresh_from_db()
    return event
