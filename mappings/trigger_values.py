"""The values an organisation trigger can take: what the connected webCRM offers, read through its API and kept.

"Sync only organisations of type …" and "Set type for ERP customers" only work with values the front system
really has: a trigger value webCRM does not know never matches, and a type it does not know is written onto new
organisations as a stray value. The lists are read from webCRM's field metadata (``WebcrmClient.field_values``,
docs/vendors/webcrm.md "Drop-down values") and kept per connection in :class:`integrations.models.ObservedValues`,
so every worker and every restart sees the same list until someone refreshes it (or it is a day old).

Reads (``trigger_values_for``) never fail: when the system cannot be reached, or offers no list, the answer says
so in plain words and carries no values, and the screens fall back to free text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from integrations.models import Connection, ObservedValues
from integrations.systems.errors import ExternalSystemError
from integrations.systems.hosts import BaseUrlRefused

from .models import EntitySync, SyncEntity
from .selectors import entity_sides

logger = logging.getLogger(__name__)

#: A list older than this is read again when a screen needs it (a refresh button reads it at once).
MAX_AGE = timedelta(days=1)
#: After a failed read, page views use what is known (or free text) for this long before webCRM is asked again;
#: the refresh button always asks (Django's cache: shared by the workers where it is Redis).
FAILURE_PAUSE_SECONDS = 60
#: The trigger's own words, per trigger field ("type" → "organisation type").
FIELD_WORDS = {"type": "organisation type", "status": "organisation status"}


@dataclass(frozen=True)
class TriggerValues:
    """What the front system offers for one trigger field.

    ``values`` is None when they are not known (the system could not be reached, or keeps no list for the
    field); ``note`` then says why in plain words. ``read_at`` is when the list was read (None: never).
    """

    system_name: str
    field: str  # the front system's field, e.g. "OrganisationType"
    words: str  # "organisation type"
    values: tuple[str, ...] | None
    read_at: datetime | None = None
    note: str = ""

    @property
    def known(self) -> bool:
        return self.values is not None

    def missing(self, chosen: list[str] | tuple[str, ...] | str) -> list[str]:
        """The chosen values this system does not have (none when its list is not known)."""
        if self.values is None:
            return []
        items = [chosen] if isinstance(chosen, str) else list(chosen)
        offered = {value.casefold() for value in self.values}
        return [value for value in items if str(value).strip() and str(value).strip().casefold() not in offered]


def trigger_field_name(*, entity_sync: EntitySync, trigger_field: str) -> str | None:
    """The front system's field a trigger reads (``"type"`` → ``"OrganisationType"``); None for none."""
    if entity_sync.entity != SyncEntity.ORGANISATION or not trigger_field:
        return None
    front, _ = entity_sides(entity_sync)
    return front.spec.role(trigger_field) if front.spec is not None else None


def observed_values_get(*, connection: Connection, entity: str, field: str) -> ObservedValues | None:
    """The kept list of ``field`` of ``connection``'s system, or None when it was never read."""
    return ObservedValues.objects.filter(tenant_id=connection.tenant_id, connection=connection, entity=entity,
                                         field=field).first()


def observed_values_refresh(*, connection: Connection, entity: str, field: str) -> ObservedValues:
    """Read ``field``'s values through the connection's client now and keep them (one row, replaced).

    Raises ``ExternalSystemError`` (and its kinds) when the system refuses or cannot be reached,
    ``NotImplementedError`` when it keeps no list for the field, ``BaseUrlRefused`` for an address Synkro may
    not call; nothing is written then.
    """
    client = connection.client(max_attempts=2)
    try:
        reader = getattr(client, "field_values", None)
        if reader is None:
            raise NotImplementedError(f"{connection.provider.name} does not list the values of its fields.")
        values = reader(entity, field)
    finally:
        client.close()
    row, _ = ObservedValues.objects.update_or_create(
        tenant_id=connection.tenant_id, connection=connection, entity=entity, field=field,
        defaults={"values": list(values), "read_at": timezone.now()})
    return row


def trigger_values_for(*, entity_sync: EntitySync, trigger_field: str = "type", refresh: bool = False
                       ) -> TriggerValues | None:
    """What the integration's front system offers for ``trigger_field`` ("type" or "status") of organisations.

    Uses the kept list unless ``refresh`` is given or it is older than :data:`MAX_AGE`; then reads it again, and
    keeps the old list (with a note) when the system cannot be reached. None when the entity has no such
    trigger field. Never raises for an unreachable or refusing system.
    """
    field = trigger_field_name(entity_sync=entity_sync, trigger_field=trigger_field)
    if field is None:
        return None
    connection = entity_sync.integration.crm_connection
    name = connection.provider.name
    words = FIELD_WORDS.get(trigger_field, trigger_field)
    kept = observed_values_get(connection=connection, entity=entity_sync.entity, field=field)
    if kept is not None and not refresh and timezone.now() - kept.read_at < MAX_AGE:
        return _offered(name, field, words, kept)
    failed_key = f"synkro-trigger-values-failed:{connection.pk}:{field}"
    recent_failure = None if refresh else cache.get(failed_key)
    if recent_failure is not None:  # a page view does not wait for an unreachable system again at once
        return _unreachable(name, field, words, kept, recent_failure)
    try:
        kept = observed_values_refresh(connection=connection, entity=entity_sync.entity, field=field)
    except NotImplementedError:
        return TriggerValues(name, field, words, None, note=f"{name} does not list its {words}s; type them as "
                                                            f"{name} spells them.")
    except (ExternalSystemError, BaseUrlRefused, ValueError) as error:
        logger.info("reading %s of %r failed: %s", field, connection, error)
        reason = str(error)[:200]
        cache.set(failed_key, reason, timeout=FAILURE_PAUSE_SECONDS)
        return _unreachable(name, field, words, kept, reason)
    return _offered(name, field, words, kept)


def _unreachable(name: str, field: str, words: str, kept: ObservedValues | None, reason: str) -> TriggerValues:
    """The last list read, with a note, or no list (free text) when none was ever read."""
    if kept is not None and kept.values:
        return TriggerValues(name, field, words, tuple(kept.values), kept.read_at,
                             note=f"{name} could not be reached just now; this is the list read "
                                  f"{kept.read_at:%Y-%m-%d %H:%M} UTC.")
    return TriggerValues(name, field, words, None,
                         note=f"{name} could not be reached to list its {words}s ({reason}); type them as "
                              f"{name} spells them, separated by commas.")


def _offered(name: str, field: str, words: str, kept: ObservedValues) -> TriggerValues:
    """An empty list says nothing about what the system holds (the field may not be a list there): unknown."""
    if not kept.values:
        return TriggerValues(name, field, words, None, kept.read_at,
                             note=f"{name} lists no {words}s; type them as {name} spells them, separated by commas.")
    return TriggerValues(name, field, words, tuple(kept.values), kept.read_at)
