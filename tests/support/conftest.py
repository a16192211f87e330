from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from integrations.models import SyncLogEntry

_ids = itertools.count(1000)


@pytest.fixture
def log(world):
    """Write a log entry of the world's tenant at a given moment: ``log(minutes_ago=5, action="failed", …)``."""

    def write(*, minutes_ago: float = 0, at: dt.datetime | None = None, integration=None, **fields) -> SyncLogEntry:
        fields.setdefault("entity", "organisation")
        fields.setdefault("action", "updated")
        fields.setdefault("direction", "to_erp")
        fields.setdefault("crm_id", str(next(_ids)))
        integration = integration or world.integration
        entry = SyncLogEntry.objects.create(tenant=integration.tenant, integration=integration, **fields)
        moment = at or timezone.now() - dt.timedelta(minutes=minutes_ago)
        SyncLogEntry.objects.filter(pk=entry.pk).update(at=moment)
        entry.at = moment
        return entry

    return write


def url(name: str, world, *args) -> str:
    from django.urls import reverse

    return reverse(name, args=[world.tenant.slug, *args])
