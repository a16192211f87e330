"""The vendor's clock when we ask "what changed since …": its zone, its step, and the overlap that keeps a poll
from missing a change.

A "changed since" filter is read on the vendor's clock. Most vendors take UTC (Uniconta, Visma.net, webCRM); some
compare their own wall-clock time (Fortnox ``lastmodified``: Europe/Stockholm, whole minutes; Customers 1st
``updated_after``: the store's Europe/Copenhagen, seconds). Each client says which (``change_filter_zone``,
``change_filter_step``; the sources are in docs/vendors/<vendor>.md).

A wall clock runs back once a year: on the last Sunday of October 03:00 summer time becomes 02:00 winter time, so a
change saved at 02:10 in the repeated hour has an earlier wall-clock time than a poll made at 02:50 the hour
before. A poll that asked from "02:48" would never see it. So when the vendor's wall clock went back between the
moment a poll asks from and now, the poll asks from that much earlier (one hour).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from integrations.systems.base import ApiClient

#: Added to the vendor's step: two machines' clocks differ, and a change saved while a poll reads its answer
#: must not fall between two polls.
MARGIN = timedelta(minutes=2)


def change_window_start(*, cursor: datetime, now: datetime, zone: tzinfo = UTC,
                        step: timedelta = timedelta(seconds=1)) -> datetime:
    """The moment (aware) a poll asks for changes from, given where the last one stood.

    ``cursor`` and ``now`` are aware datetimes (``ValueError`` for naive ones: a naive time has no place here).
    The answer is ``cursor`` less the vendor's ``step`` and :data:`MARGIN`, and, where the vendor reads the filter
    as wall-clock time in ``zone`` and that clock went back between the answer and ``now`` (summer time ending),
    less that difference too, so every change from ``cursor`` on has a wall-clock time at or after the answer's.
    """
    if cursor.tzinfo is None or now.tzinfo is None:
        raise ValueError("change_window_start needs aware datetimes")
    since = cursor - step - MARGIN
    went_back = (since.astimezone(zone).utcoffset() or timedelta(0)) - (now.astimezone(zone).utcoffset()
                                                                       or timedelta(0))
    if went_back > timedelta(0):
        since -= went_back
    return since


def client_window_start(client: ApiClient, *, cursor: datetime, now: datetime) -> datetime:
    """:func:`change_window_start` on ``client``'s filter clock."""
    return change_window_start(cursor=cursor, now=now, zone=client.change_filter_zone, step=client.change_filter_step)
