"""What the schedule may bring over: records changed after the integration was switched on.

Records that already existed when an integration was switched on are the initial import's, which a person
starts; the safety reconciliation only repairs what happened since. Whether an unlinked record changed after
that moment is read from the vendor's own modification time (the catalog's ``modified_field``). Vendors write
it in different ways: ISO 8601 with or without an offset, "T" or a space between date and time, and, without
an offset, in UTC or in the store's local time (the provider says which in ``extras["timestamp_zone"]``;
UTC when it says nothing). A value that cannot be read proves nothing, so such a record is left alone. Stamps
in whole seconds are compared at that precision.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from integrations.models import Integration
from integrations.systems.base import Record

from .context import SideContext

#: The count, on a reconciliation run, of unlinked records it left alone because they are older than the
#: activation (or their vendor keeps no modification time).
LEFT_TO_IMPORT = "unlinked, left to the initial import"


def activation_moment(integration: Integration) -> dt.datetime:
    """When the integration was last switched on (its creation when that was never recorded)."""
    return integration.activated_at or integration.created_at


def vendor_moment(value: Any, *, zone: dt.tzinfo = dt.UTC) -> dt.datetime | None:
    """A vendor's timestamp as an aware datetime; ``zone`` for values without an offset. None when unreadable.

    >>> vendor_moment("2025-03-01 10:00:00", zone=ZoneInfo("Europe/Copenhagen")).isoformat()
    '2025-03-01T10:00:00+01:00'
    """
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def timestamp_zone(side: SideContext) -> dt.tzinfo:
    """The zone of the side's timestamps that carry no offset."""
    zone = side.provider.extras.get("timestamp_zone")
    if isinstance(zone, str):
        return ZoneInfo(zone)
    return zone if isinstance(zone, dt.tzinfo) else dt.UTC


def changed_after_activation(*, integration: Integration, side: SideContext, record: Record) -> bool:
    """Whether ``record`` of ``side`` was changed (or made) after ``integration`` was switched on.

    False when the vendor keeps no modification time for the entity, or the record's cannot be read:
    without proof the record is taken to be older, and left to the initial import. Where the vendor keeps only a
    creation time (Uniconta debtors), a record made after the switch-on counts; an older one changed since is
    left to the import, since nothing proves when it changed.
    """
    spec = side.spec
    field = (spec.modified_field or spec.created_field) if spec is not None else None
    if not field:
        return False
    changed = vendor_moment(record.get(field), zone=timestamp_zone(side))
    if changed is None:
        return False
    activated = activation_moment(integration)
    if changed.microsecond == 0:
        # A stamp in whole seconds (webCRM, Customers 1st) cannot tell the activation's second apart: a change
        # in that second counts as after it, or a record made just after switching on would wait for an import.
        return changed >= activated.replace(microsecond=0)
    return changed > activated
