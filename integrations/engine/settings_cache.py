"""What a worker keeps of an integration's settings between events, and when it must read them again.

Reading an integration, its two connections, an entity's settings, its mapping rows and the POS settings costs
four or five statements; the same settings serve thousands of events in a row. A worker keeps them (per thread)
under the integration's ``settings_version``, a number the database itself raises on every change of any of
those rows (triggers, migration ``integrations/0019``: a form, the API, the admin, a shell ``update()`` and a
token refresh alike). The claim of an event reads that number in the same statement (``process.event_claim``),
so a change saved in any process is used from the very next event on; kept settings of another version are
dropped, never patched.

In: the integration's id and the version the claim read. Out: model instances to read, never to save (a save
from a kept instance could put older values back).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from integrations.models import Integration
from mappings.models import EntitySync, FieldMapping
from mappings.provenance import latest_version_query

_kept = threading.local()


@dataclass
class EntitySettings:
    """One entity's settings as read together: None for an entity the integration does not sync."""

    entity_sync: EntitySync | None
    rows: list[FieldMapping]
    #: The integration's newest configuration change when read (``mappings.provenance``), None for none.
    config_version_id: int | None


#: What the claim reads to know the kept settings are current: (``settings_version``, ``webhook_token``).
Version = tuple[int, str]


@dataclass
class KeptSettings:
    version: Version
    integration: Integration
    entities: dict[str, EntitySettings] = field(default_factory=dict)


def _store() -> dict[int, KeptSettings]:
    store = getattr(_kept, "by_integration", None)
    if store is None:
        store = _kept.by_integration = {}
    return store


def integration_kept(*, integration_id: int, version: Version | None) -> Integration:
    """The integration with its tenant, connections and POS settings, as kept for ``version`` or read now (one
    statement).

    ``version`` is the integration's (``settings_version``, ``webhook_token``) as the claim read them: the token,
    random per integration, keeps an id used again (rows rolled back in a test) from finding another one's settings.
    ``version`` None (unknown) always reads. Raises ``Integration.DoesNotExist`` when it is gone.
    """
    store = _store()
    kept = store.get(integration_id)
    if version is not None and kept is not None and kept.version == version:
        return kept.integration
    # The POS settings come along (a LEFT JOIN), so ``integration.pos_settings`` asks nothing more.
    integration = Integration.objects.select_related("crm_connection", "erp_connection", "tenant",
                                                     "pos_settings").get(pk=integration_id)
    # Kept under the version the row itself holds: a change after the claim's read makes the next claim read again.
    store[integration_id] = KeptSettings(version=(integration.settings_version, integration.webhook_token),
                                         integration=integration)
    return integration


def entity_settings_kept(integration: Integration, entity: str) -> EntitySettings:
    """``entity``'s settings, mapping rows and settings version for ``integration``: kept with the integration
    when it came from :func:`integration_kept` (same instance), else read (two statements)."""
    kept = _store().get(integration.pk)
    if kept is not None and kept.integration is integration and entity in kept.entities:
        return kept.entities[entity]
    settings = entity_settings_read(integration, entity)
    if kept is not None and kept.integration is integration:
        kept.entities[entity] = settings
    return settings


def entity_settings_read(integration: Integration, entity: str) -> EntitySettings:
    """Read ``entity``'s settings now: the settings with the settings version in one statement, then the rows."""
    entity_sync = (EntitySync.objects.filter(integration=integration, entity=entity)
                   .annotate(config_version_id=latest_version_query(integration.pk))
                   .select_related("integration").first())
    if entity_sync is None:
        return EntitySettings(None, [], None)
    rows = list(FieldMapping.objects.filter(entity_sync=entity_sync).order_by("position", "pk"))
    return EntitySettings(entity_sync, rows, getattr(entity_sync, "config_version_id", None))


def settings_forget() -> None:
    """Drop everything this thread keeps (tests; a worker never needs to)."""
    _store().clear()
