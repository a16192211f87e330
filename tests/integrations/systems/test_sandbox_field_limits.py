"""Every vendor sandbox refuses text longer than the vendor's field holds, in that vendor's error shape."""

from __future__ import annotations

import pytest

from integrations.systems.catalog import Entity, FieldSpec
from integrations.systems.errors import VendorValidationError
from integrations.systems.sandbox import OverLong, over_long_values
from tests.harness import make_pair

ORG, ITEM = Entity.ORGANISATION, Entity.ITEM


def test_over_long_values_names_each_field_with_its_length_and_limit():
    fields = [FieldSpec("Name", max_length=5), FieldSpec("City", max_length=3), FieldSpec("Remark")]
    body = {"Name": "Havbrise", "City": "Vejle", "Remark": "x" * 500, "Zip": "8000000", "Qty": 123456}
    assert over_long_values(body, fields) == [OverLong("Name", 8, 5), OverLong("City", 5, 3)]
    assert over_long_values({"Name": "Havbr"}, fields) == []
    assert over_long_values(body, None) == []


@pytest.fixture
def uniconta(db, synkro, sandboxes):
    return make_pair("webcrm", "uniconta", sandboxes)


@pytest.fixture
def fortnox(db, synkro, sandboxes):
    return make_pair("webcrm", "fortnox", sandboxes)


@pytest.fixture
def visma(db, synkro, sandboxes):
    return make_pair("webcrm", "vismanet", sandboxes)


@pytest.fixture
def pos(db, synkro, sandboxes):
    return make_pair("customers1st", "uniconta", sandboxes)


def test_uniconta_refuses_a_debtor_name_over_100_characters(uniconta):
    with pytest.raises(VendorValidationError) as refused:
        uniconta.erp_client.create_record(ORG, {"Name": "N" * 101})
    assert refused.value.status == 400
    assert "Name is 101 characters long" in refused.value.vendor_message
    assert "at most 100" in refused.value.vendor_message
    assert list(uniconta.erp_client.list_records(ORG)) == []
    debtor = uniconta.erp_client.create_record(ORG, {"Name": "N" * 100})
    with pytest.raises(VendorValidationError):
        uniconta.erp_client.update_record(ORG, str(debtor["Account"]), {"Name": "M" * 101})
    assert uniconta.erp_client.get_record(ORG, str(debtor["Account"]))["Name"] == "N" * 100


def test_fortnox_refuses_your_reference_over_50_characters(fortnox):
    with pytest.raises(VendorValidationError) as refused:
        fortnox.erp_client.create_record(ORG, {"Name": "Hagaby Bygg AB", "YourReference": "R" * 51})
    assert refused.value.status == 400
    assert "YourReference" in refused.value.vendor_message and "51 tecken" in refused.value.vendor_message
    assert "högst 50" in refused.value.vendor_message
    assert list(fortnox.erp_client.list_records(ORG)) == []
    created = fortnox.erp_client.create_record(ORG, {"Name": "Hagaby Bygg AB", "YourReference": "R" * 50})
    assert created["YourReference"] == "R" * 50


def test_visma_refuses_a_customer_name_over_60_characters(visma):
    with pytest.raises(VendorValidationError) as refused:
        visma.erp_client.create_record(ORG, {"name": "V" * 61})
    assert refused.value.status == 400
    assert "'name' may be at most 60 characters long (it is 61)" in refused.value.vendor_message
    assert list(visma.erp_client.list_records(ORG)) == []
    customer = visma.erp_client.create_record(ORG, {"name": "V" * 60})
    with pytest.raises(VendorValidationError):
        visma.erp_client.update_record(ORG, str(customer["number"]), {"name": "W" * 61})


def test_customers1st_refuses_a_product_title_over_255_characters(pos):
    with pytest.raises(VendorValidationError) as refused:
        pos.crm_client.create_record(ITEM, {"title": "T" * 256, "productno": "P-1"})
    assert refused.value.status == 400
    assert refused.value.vendor_message == "Request validation failed: content.title error_maxLength"
    assert list(pos.crm_client.list_records(ITEM)) == []
    assert pos.crm_client.create_record(ITEM, {"title": "T" * 255, "productno": "P-1"})["title"] == "T" * 255


def test_webcrm_refuses_an_organisation_name_over_200_characters(uniconta):
    with pytest.raises(VendorValidationError) as refused:
        uniconta.crm_client.create_record(ORG, {"OrganisationName": "W" * 201})
    assert "OrganisationName must be at most 200 characters" in refused.value.vendor_message
    assert list(uniconta.crm_client.list_records(ORG)) == []
