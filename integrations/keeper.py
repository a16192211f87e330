"""The keeper: a thread in every worker process that keeps its leases alive and takes up what dead workers left.

Every :data:`~integrations.engine.leases.RENEW_EVERY` seconds it renews the claims and record leases its process
holds, then turns events whose claim ran out (their worker died) back into waiting ones and hands them to their
queue at once — so a change a killed worker was handling is retried within about half a minute, not when the
every-minute dispatcher next looks. Started by the first task a worker process runs; one per process.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from django.conf import settings
from django.db import close_old_connections

from .engine import leases, process

logger = logging.getLogger(__name__)

_started_in: int | None = None  # the process id the keeper runs in (a forked worker starts its own)
_start_guard = threading.Lock()


def keeper_ensure() -> bool:
    """Start this process's keeper unless it runs already or ``settings.LEASE_KEEPER`` is off; True when running."""
    global _started_in
    if not getattr(settings, "LEASE_KEEPER", True):
        return False
    with _start_guard:
        if _started_in == os.getpid():
            return True
        _started_in = os.getpid()
        threading.Thread(target=_keep, name="synkro-keeper", daemon=True).start()
    return True


def keeper_round() -> list[int]:
    """One round: renew what this process holds, take up what dead workers left and hand it over; returns the
    ids of the events taken up."""
    from .tasks import events_hand_over

    leases.leases_renew()
    taken_up = process.events_take_up_stale()
    if taken_up:
        events_hand_over(event_ids=taken_up)
    return taken_up


def _keep() -> None:
    while True:
        time.sleep(leases.RENEW_EVERY)
        try:
            taken_up = keeper_round()
            if taken_up:
                logger.info("took up %d change(s) a stopped worker was handling", len(taken_up))
        except Exception:  # the database may be away for a moment: try again next round
            logger.warning("the worker's keeper could not renew its leases this round", exc_info=True)
        finally:
            close_old_connections()
