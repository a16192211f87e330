"""Reads of the sync configuration, and how an integration's entities meet each system's catalog."""

from __future__ import annotations

from functools import cache

from integrations.models import Integration
from integrations.systems.base import SystemKind
from integrations.systems.catalog import Catalog, Entity
from integrations.systems.registry import get_system

from .models import Direction, EntitySync, SyncEntity
from .validation import Side

#: What each Synkro entity is called on the front system when it has no entity of its own:
#: ERP invoices come back to webCRM as deliveries.
FRONT_ENTITY_FALLBACK = {Entity.INVOICE: Entity.DELIVERY}

CRM_PAIR_ENTITIES = [SyncEntity.ORGANISATION, SyncEntity.PERSON, SyncEntity.ITEM, SyncEntity.DELIVERY,
                     SyncEntity.INVOICE, SyncEntity.USER]
POS_PAIR_ENTITIES = [SyncEntity.ORGANISATION, SyncEntity.ITEM, SyncEntity.POS_SALE, SyncEntity.DAILY_REPORT]

#: Directions each entity may take, by the kind of the front system. Items are mastered in the ERP
#: (ERP → webCRM only); invoices only come back; POS sales and reports only go to the books.
ALLOWED_DIRECTIONS: dict[SystemKind, dict[str, set[str]]] = {
    SystemKind.CRM: {
        SyncEntity.ITEM: {Direction.OFF, Direction.TO_CRM},
        SyncEntity.INVOICE: {Direction.OFF, Direction.TO_CRM},
    },
    SystemKind.POS: {
        SyncEntity.ITEM: {Direction.OFF, Direction.TO_ERP},
        SyncEntity.POS_SALE: {Direction.OFF, Direction.TO_ERP},
        SyncEntity.DAILY_REPORT: {Direction.OFF, Direction.TO_ERP},
    },
}


@cache
def catalog_of(system: str) -> Catalog:
    return get_system(system).catalog()


def front_kind(integration: Integration) -> SystemKind:
    return get_system(integration.crm_connection.system).kind


def integration_entities(integration: Integration) -> list[SyncEntity]:
    return POS_PAIR_ENTITIES if front_kind(integration) == SystemKind.POS else CRM_PAIR_ENTITIES


def allowed_directions(integration: Integration, entity: str) -> set[str]:
    return ALLOWED_DIRECTIONS.get(front_kind(integration), {}).get(entity, set(Direction.values))


def entity_sides(entity_sync: EntitySync) -> tuple[Side, Side]:
    """The front system's and the ERP's catalog entry for this entity."""
    integration = entity_sync.integration
    front, erp = integration.crm_connection.system, integration.erp_connection.system
    entity = Entity(entity_sync.entity)
    front_catalog, erp_catalog = catalog_of(front), catalog_of(erp)
    front_spec = front_catalog.entity(entity) or front_catalog.entity(FRONT_ENTITY_FALLBACK.get(entity, entity))
    return (Side(get_system(front).name, front_spec), Side(get_system(erp).name, erp_catalog.entity(entity)))


def direction_label(integration: Integration, direction: str) -> str:
    """“webCRM → Uniconta” rather than the generic label."""
    front, erp = get_system(integration.crm_connection.system).name, get_system(integration.erp_connection.system).name
    return {Direction.OFF: "Off", Direction.TO_ERP: f"{front} → {erp}", Direction.TO_CRM: f"{front} ← {erp}",
            Direction.TWO_WAY: "Two way"}[direction]
