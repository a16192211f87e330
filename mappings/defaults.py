"""What a new integration starts with, per system pair, so that it works out of the box.

Field names are the vendors' own (see each system's catalog); a test checks every default row
against the catalogs, so a default can never name a field that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from integrations.models import Integration
from integrations.systems.base import SystemKind
from integrations.systems.registry import get_system

from .audit import config_change_record
from .models import (
    Direction,
    EntitySync,
    FieldMapping,
    Overflow,
    PosSettings,
    SyncEntity,
    WebhookAction,
    WebhookToggle,
)
from .selectors import allowed_directions, catalog_of, front_kind, integration_entities

TO_ERP, TO_CRM = "to_erp", "to_crm"
Row = tuple[str, str, str, bool]  # (ERP field, front field, narrowed direction, required)

WEBCRM_ORGANISATION_TYPES = ["Kunde", "Kund – Företag", "Kund – Privat"]
#: webCRM's item register is its quotation-line linked data: number, name and unit in data columns 1–3, as
#: webCRM's own ERP integration keeps them (docs/vendors/webcrm.md "Items").
WEBCRM_ITEM = "QuotationLineLinkedDataItem"

#: Entity settings every CRM pair starts with.
CRM_ENTITY_DEFAULTS: dict[str, dict[str, Any]] = {
    SyncEntity.ORGANISATION: {"direction": Direction.TWO_WAY, "trigger_field": "type", "trigger_values": ["Kunde"],
                              "erp_created_type": "Kunde", "type_lock": True, "number_authority": "erp"},
    SyncEntity.PERSON: {"direction": Direction.TWO_WAY, "relevant_flag_field": "PersonCheckMark1"},
    SyncEntity.ITEM: {"direction": Direction.TO_CRM},
    SyncEntity.DELIVERY: {"direction": Direction.TO_ERP, "delivery_target": "sales_order",
                          "outgoing_order_type": "SO", "accepted_order_types": ["SO", "IN"]},
    SyncEntity.INVOICE: {"direction": Direction.TO_CRM},
    SyncEntity.USER: {"direction": Direction.TWO_WAY},
}
POS_ENTITY_DEFAULTS: dict[str, dict[str, Any]] = {
    SyncEntity.ORGANISATION: {"direction": Direction.TWO_WAY},
    SyncEntity.ITEM: {"direction": Direction.TO_ERP},
    SyncEntity.POS_SALE: {"direction": Direction.TO_ERP},
    SyncEntity.DAILY_REPORT: {"direction": Direction.TO_ERP},
}

WEBCRM_PERSON_ROWS = {
    "uniconta": [("Name", "PersonName", "", True), ("Email", "PersonEmail", "", True),
                 ("Mobil", "PersonMobilePhone", "", False), ("Title", "PersonTitle", "", False)],
    "vismanet": [("firstName", "PersonFirstName", "", False), ("lastName", "PersonLastName", "", True),
                 ("email", "PersonEmail", "", True), ("phone1", "PersonDirectPhone", "", False)],
}
WEBCRM_USER_ROWS = {
    "uniconta": [("Name", "UserName", "", True), ("Email", "UserEmail", "", True),
                 ("Mobil", "UserMobilePhone", "", False)],
    "fortnox": [("Email", "UserEmail", "", True), ("FullName", "UserName", TO_CRM, True)],
    "vismanet": [("employeeName", "UserName", TO_CRM, False)],
}

#: (front system, ERP) → entity → rows.
PAIR_ROWS: dict[tuple[str, str], dict[str, list[Row]]] = {
    ("webcrm", "uniconta"): {
        SyncEntity.ORGANISATION: [
            ("Account", "OrganisationExtraCustom1", "", False), ("Name", "OrganisationName", "", True),
            ("Address1", "OrganisationAddress", "", False), ("ZipCode", "OrganisationPostCode", "", False),
            ("City", "OrganisationCity", "", False), ("Phone", "OrganisationTelephone", "", False),
            ("Www", "OrganisationWww", "", False), ("CompanyRegNo", "OrganisationVatNumber", "", False),
            ("EAN", "OrganisationExtraCustom2", TO_CRM, False), ("Payment", "OrganisationExtraCustom3", TO_CRM, False),
            ("Group", "OrganisationExtraCustom4", TO_CRM, False),
        ],
        SyncEntity.PERSON: WEBCRM_PERSON_ROWS["uniconta"],
        SyncEntity.ITEM: [("Item", f"{WEBCRM_ITEM}Data1", "", True), ("Name", f"{WEBCRM_ITEM}Data2", "", True),
                          ("Unit", f"{WEBCRM_ITEM}Data3", "", False),
                          ("CostPrice", f"{WEBCRM_ITEM}CostPrice", "", False),
                          ("SalesPrice1", f"{WEBCRM_ITEM}Price", "", False)],
        SyncEntity.USER: WEBCRM_USER_ROWS["uniconta"],
    },
    ("webcrm", "fortnox"): {
        SyncEntity.ORGANISATION: [
            ("CustomerNumber", "OrganisationExtraCustom1", "", False), ("Name", "OrganisationName", "", True),
            ("Address1", "OrganisationAddress", "", False), ("ZipCode", "OrganisationPostCode", "", False),
            ("City", "OrganisationCity", "", False), ("Phone1", "OrganisationTelephone", "", False),
            ("WWW", "OrganisationWww", "", False), ("OrganisationNumber", "OrganisationVatNumber", "", False),
            ("TermsOfPayment", "OrganisationExtraCustom3", TO_CRM, False),
        ],
        SyncEntity.ITEM: [("ArticleNumber", f"{WEBCRM_ITEM}Data1", "", True),
                          ("Description", f"{WEBCRM_ITEM}Data2", "", True), ("Unit", f"{WEBCRM_ITEM}Data3", "", False),
                          ("PurchasePrice", f"{WEBCRM_ITEM}CostPrice", "", False),
                          ("SalesPrice", f"{WEBCRM_ITEM}Price", "", False)],
        SyncEntity.USER: WEBCRM_USER_ROWS["fortnox"],
    },
    ("webcrm", "vismanet"): {
        SyncEntity.ORGANISATION: [
            ("number", "OrganisationExtraCustom1", "", False), ("name", "OrganisationName", "", True),
            ("mainAddress.addressLine1", "OrganisationAddress", "", False),
            ("mainAddress.postalCode", "OrganisationPostCode", "", False),
            ("mainAddress.city", "OrganisationCity", "", False),
            ("mainContact.phone1", "OrganisationTelephone", "", False),
            ("vatZone.id", "OrganisationVatGroup", "", False),
        ],
        SyncEntity.PERSON: WEBCRM_PERSON_ROWS["vismanet"],
        SyncEntity.ITEM: [("inventoryNumber", f"{WEBCRM_ITEM}Data1", "", True),
                          ("description", f"{WEBCRM_ITEM}Data2", "", True),
                          ("baseUnit", f"{WEBCRM_ITEM}Data3", "", False),
                          ("defaultPrice", f"{WEBCRM_ITEM}Price", "", False)],
        SyncEntity.USER: WEBCRM_USER_ROWS["vismanet"],
    },
    ("customers1st", "uniconta"): {
        SyncEntity.ORGANISATION: [
            ("Account", "customerno", "", False), ("Name", "name", "", True), ("Address1", "address", "", False),
            ("ZipCode", "zipcode", "", False), ("City", "city", "", False), ("Phone", "phone", "", False),
            ("ContactEmail", "email", "", False), ("EAN", "ean", "", False),
        ],
        SyncEntity.ITEM: [("Item", "productno", "", True), ("Name", "title", "", True),
                          ("CostPrice", "costprice", "", False), ("EAN", "barcode", "", False)],
    },
}


@transaction.atomic
def integration_setup_defaults(*, integration: Integration, user: Any = None) -> None:
    """Create the entity settings, mapping rows, webhook toggles (and POS settings) of a new integration.

    Rows naming a field the system's catalog does not know are left out rather than stored broken.
    Running it again adds only what is missing, and the configuration audit records only what it added:
    a run that adds nothing records nothing.
    """
    pos = front_kind(integration) == SystemKind.POS
    entity_defaults = POS_ENTITY_DEFAULTS if pos else CRM_ENTITY_DEFAULTS
    pair = (integration.crm_connection.system, integration.erp_connection.system)
    added_entities: list[str] = []
    for entity in integration_entities(integration):
        settings = dict(entity_defaults.get(entity, {}))
        if settings.get("direction") not in allowed_directions(integration, entity):
            settings["direction"] = Direction.OFF
        if pair == ("webcrm", "fortnox") and entity == SyncEntity.ORGANISATION:
            settings["trigger_values"] = WEBCRM_ORGANISATION_TYPES[1:]
            settings["erp_created_type"] = WEBCRM_ORGANISATION_TYPES[1]
        entity_sync, created = EntitySync.objects.get_or_create(
            tenant_id=integration.tenant_id, integration=integration, entity=entity, defaults=settings)
        if created:
            _default_rows(entity_sync, PAIR_ROWS.get(pair, {}).get(entity, []))
            added_entities.append(str(entity))
    # Toggles of an entity added just now go without saying; restored ones of an existing entity are named.
    added_toggles = [f"{system} {entity} {action}" for system, entity, action in _default_toggles(integration)
                     if entity not in added_entities]
    added_pos_settings = pos and PosSettings.objects.get_or_create(tenant_id=integration.tenant_id,
                                                                   integration=integration)[1]
    added: dict[str, Any] = {}
    if added_entities:
        added["entities"] = added_entities
    if added_toggles:
        added["webhook_toggles"] = added_toggles
    if added_pos_settings:
        added["pos_settings"] = True
    if added:
        config_change_record(integration=integration, user=user, action="created", subject="Default configuration",
                             after=added)


def _default_rows(entity_sync: EntitySync, rows: list[Row]) -> None:
    from .selectors import entity_sides

    front, erp = entity_sides(entity_sync)
    for position, (erp_field, front_field, direction, required) in enumerate(rows, start=1):
        if erp.spec is None or front.spec is None or not erp.spec.field(erp_field) or not front.spec.field(front_field):
            continue
        FieldMapping.objects.create(tenant_id=entity_sync.tenant_id, entity_sync=entity_sync, erp_field=erp_field,
                                    crm_field=front_field, direction=direction, required=required, position=position,
                                    overflow=Overflow.SHORTEN)  # a longer value arrives shortened, and the log says so


def _default_toggles(integration: Integration) -> list[tuple[str, str, str]]:
    """Toggles for each system that can notify, per entity it is a source of; deletes off by default.

    Returns the toggles it added, as ``(system, entity, action)`` (empty when all were there already).
    """
    added: list[tuple[str, str, str]] = []
    for connection, source_direction in ((integration.crm_connection, Direction.TO_ERP),
                                         (integration.erp_connection, Direction.TO_CRM)):
        provider = get_system(connection.system)
        if not provider.has_webhooks:
            continue
        catalog = catalog_of(connection.system)
        for entity in integration_entities(integration):
            allowed = allowed_directions(integration, entity)
            if source_direction not in allowed and Direction.TWO_WAY not in allowed:
                continue
            if catalog.entities and not catalog.supports(entity):
                continue
            for action in WebhookAction.values:
                _, created = WebhookToggle.objects.get_or_create(
                    tenant_id=integration.tenant_id, integration=integration, system=connection.system,
                    entity=entity, action=action, defaults={"enabled": action != WebhookAction.DELETED})
                if created:
                    added.append((str(connection.system), str(entity), str(action)))
    return added
