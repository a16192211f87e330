"""Each catalog knows its vendor's text limits (``FieldSpec.max_length``), as the vendor's description gives them.

Sources per vendor in ``docs/vendors/<vendor>.md``; the values below are the descriptions' own numbers.
"""

from __future__ import annotations

import pytest

from integrations.systems.catalog import Entity
from integrations.systems.registry import get_system

ORG, ITEM, DELIVERY, USER = Entity.ORGANISATION, Entity.ITEM, Entity.DELIVERY, Entity.USER


def limit(system: str, entity: Entity, name: str) -> int | None:
    spec = get_system(system).catalog().field(entity, name)
    assert spec is not None, f"{system} has no {name} on {entity}"
    return spec.max_length


@pytest.mark.parametrize(("entity", "name", "expected"), [
    (ORG, "Name", 100), (ORG, "Account", 20), (ITEM, "Item", 30), (USER, "Number", 20),
])
def test_uniconta_limits(entity, name, expected):
    assert limit("uniconta", entity, name) == expected


@pytest.mark.parametrize(("entity", "name", "expected"), [
    (ORG, "name", 60), (ORG, "number", 30), (ITEM, "inventoryNumber", 30),
])
def test_visma_limits(entity, name, expected):
    assert limit("vismanet", entity, name) == expected


@pytest.mark.parametrize(("entity", "name", "expected"), [
    (DELIVERY, "YourReference", 50), (ORG, "Name", 1024), (ORG, "ZipCode", 10), (ITEM, "Description", 200),
    (ITEM, "ArticleNumber", 50), (USER, "JobTitle", 30), (Entity.INVOICE, "YourReference", 50),
])
def test_fortnox_limits(entity, name, expected):
    assert limit("fortnox", entity, name) == expected


@pytest.mark.parametrize(("entity", "name", "expected"), [
    (ORG, "OrganisationName", 200), (ORG, "OrganisationCity", 50), (ORG, "OrganisationVatGroup", 20),
    (ORG, "OrganisationExtraCustom1", 50), (ORG, "OrganisationAddress", 250),
])
def test_webcrm_limits(entity, name, expected):
    assert limit("webcrm", entity, name) == expected


@pytest.mark.parametrize(("entity", "name", "expected"), [
    (ITEM, "title", 255), (ITEM, "productno", 255), (ITEM, "barcode", 255), (ITEM, "brand", 255),
    (ITEM, "customfield4", 255),
    # The description's Customer schema gives no maxLength: no limit is invented for it.
    (ORG, "name", None), (ORG, "customerno", None),
])
def test_customers1st_limits(entity, name, expected):
    assert limit("customers1st", entity, name) == expected


@pytest.mark.parametrize("system", ["webcrm", "uniconta", "fortnox", "vismanet", "customers1st"])
def test_only_text_fields_carry_a_length(system):
    for entity in get_system(system).catalog().entities:
        for spec in entity.fields:
            if spec.max_length is not None:
                assert spec.type in ("string", "text", "email", "choice", "reference"), (entity.vendor_name, spec)
                assert spec.max_length > 0
