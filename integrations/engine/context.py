"""Everything one sync of one entity needs, loaded once: settings, mapping rows, both sides and their clients."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from integrations.models import Connection, Integration
from integrations.systems.base import ApiClient, SystemProvider
from integrations.systems.catalog import Entity, EntitySpec
from mappings.models import EntitySync, FieldMapping
from mappings.selectors import FRONT_ENTITY_FALLBACK
from mappings.validation import row_directions

from .mapping import FieldRule, rules_for
from .ratelimit import DatabaseRateLimiter
from .settings_cache import entity_settings_kept, entity_settings_read

CRM, ERP = "crm", "erp"


def client_for(connection: Connection, *, bulk: bool = False, **kwargs: Any) -> ApiClient:
    """A client with the connection's shared rate limiter, when its vendor publishes a limit.

    ``bulk``: the client does bulk work (an import's or a reconciliation's), which leaves part of the limit to
    live work (:mod:`.ratelimit`).
    """
    limit = connection.provider.rate_limit
    if limit and "rate_limiter" not in kwargs:
        kwargs["rate_limiter"] = DatabaseRateLimiter(connection_id=connection.pk, limit=limit[0], window=limit[1],
                                                     bulk=bulk)
    return connection.client(**kwargs)


@dataclass
class SideContext:
    """One system of the integration, seen for one entity."""

    role: str  # crm / erp
    connection: Connection
    entity: Entity
    spec: EntitySpec | None
    client_options: dict[str, Any] = field(default_factory=dict)

    @property
    def system(self) -> str:
        return self.connection.system

    @property
    def provider(self) -> SystemProvider:
        return self.connection.provider

    @property
    def name(self) -> str:
        return self.provider.name

    @cached_property
    def client(self) -> ApiClient:
        return client_for(self.connection, **self.client_options)

    def role_field(self, role: str) -> str | None:
        return self.spec.role(role) if self.spec else None

    def record_id(self, record: dict[str, Any]) -> str:
        return str(self.client.record_id(self.entity, record))


@dataclass
class SyncContext:
    integration: Integration
    entity_sync: EntitySync
    rows: list[FieldMapping]
    crm: SideContext
    erp: SideContext
    #: The settings version these settings are (``mappings.provenance``): the integration's newest configuration
    #: change when they were read, None when it has none or when the context plans proposed settings. Log entries
    #: written with this context name it, so their detail shows the settings as they were.
    config_version_id: int | None = None
    #: Front records (by id) of this entity that another integration of the same front connection links, as the
    #: link lookup found them (``matching.link_for``): read with the link, asked no second time.
    linked_elsewhere: dict[str, bool] = field(default_factory=dict)
    _rules: dict[tuple[str, str, int], list[FieldRule]] = field(default_factory=dict, repr=False)

    @property
    def entity(self) -> str:
        return self.entity_sync.entity

    @property
    def label(self) -> str:
        return self.entity_sync.get_entity_display()

    def flows(self) -> set[str]:
        return row_directions(self.entity_sync.direction, "")

    def side(self, system_or_role: str) -> SideContext:
        if system_or_role in (CRM, self.crm.system):
            return self.crm
        if system_or_role in (ERP, self.erp.system):
            return self.erp
        raise LookupError(f"{system_or_role} is not part of {self.integration}")

    def other(self, side: SideContext) -> SideContext:
        return self.erp if side.role == CRM else self.crm

    def rules(self, flow: str) -> list[FieldRule]:
        """The mapping rows that flow ``flow`` as rules; worked out once per context and flow (rows and settings
        do not change within one)."""
        key = (flow, self.entity_sync.direction, len(self.rows))
        if key not in self._rules:
            self._rules[key] = rules_for(self.rows, flow=flow, entity_direction=self.entity_sync.direction,
                                         crm_spec=self.crm.spec, erp_spec=self.erp.spec)
        return list(self._rules[key])

    def mapped_fields(self, side: SideContext) -> list[str]:
        """Every field of ``side`` that a mapping row names, whatever its direction: what the hash covers."""
        names = [row.crm_field if side.role == CRM else row.erp_field for row in self.rows]
        return list(dict.fromkeys(names))

    def close(self) -> None:
        for side in (self.crm, self.erp):
            if "client" in side.__dict__:
                side.client.close()


def context_for(integration: Integration, entity: str, *, entity_settings: dict[str, Any] | None = None,
                mapping_rows: list[FieldMapping] | None = None, **client_options: Any) -> SyncContext | None:
    """The context of ``entity`` in ``integration``; None when the integration does not sync it.

    ``entity_settings`` (field → value) and ``mapping_rows`` (unsaved rows) replace the stored configuration in
    this context only, so that a proposed change can be planned without saving it. Stored settings are those the
    worker keeps for an integration from :func:`.settings_cache.integration_kept` (no statement), else read now.
    """
    proposed = bool(entity_settings) or mapping_rows is not None
    # The settings version comes in the same statement as the entity's settings, so the two agree.
    stored = entity_settings_read(integration, entity) if proposed else entity_settings_kept(integration, entity)
    entity_sync = stored.entity_sync
    if entity_sync is None:
        return None
    version_id = None if proposed else stored.config_version_id  # proposed settings are no stored version
    for name, value in (entity_settings or {}).items():
        setattr(entity_sync, name, value)
    rows = mapping_rows if mapping_rows is not None else list(stored.rows)
    crm_conn, erp_conn = integration.crm_connection, integration.erp_connection
    crm_catalog, erp_catalog = crm_conn.provider.catalog(), erp_conn.provider.catalog()
    wanted = Entity(entity)
    crm_entity = wanted if crm_catalog.supports(wanted) else Entity(FRONT_ENTITY_FALLBACK.get(wanted, wanted))
    return SyncContext(
        integration=integration, entity_sync=entity_sync, rows=rows,
        crm=SideContext(CRM, crm_conn, crm_entity, crm_catalog.entity(crm_entity), dict(client_options)),
        erp=SideContext(ERP, erp_conn, wanted, erp_catalog.entity(wanted), dict(client_options)),
        config_version_id=version_id,
    )
