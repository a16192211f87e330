"""webCRM ↔ Visma.net and Customers 1st ↔ Uniconta end to end, through each vendor's own webhooks."""

from __future__ import annotations

import pytest

from integrations.models import SyncLink, SyncLogEntry
from integrations.services import integration_webhooks_register
from integrations.systems.catalog import Entity
from tests.harness import drain, make_pair

ORG, PERSON, ITEM = Entity.ORGANISATION, Entity.PERSON, Entity.ITEM


@pytest.fixture
def visma(db, synkro, sandboxes):
    pair = make_pair("webcrm", "vismanet", sandboxes)
    integration_webhooks_register(integration=pair.integration)
    return pair


@pytest.fixture
def pos(db, synkro, sandboxes):
    pair = make_pair("customers1st", "uniconta", sandboxes)
    integration_webhooks_register(integration=pair.integration)
    pair.crm_client.suppress_hooks = False  # this client plays a person at the till, whose changes raise hooks
    return pair


def test_webcrm_customer_becomes_a_visma_customer_with_nested_address(visma):
    org = visma.crm_client.create_record(ORG, {"OrganisationName": "Norrsken Handel AB", "OrganisationType": "Kunde",
                                               "OrganisationAddress": "Storgatan 1", "OrganisationPostCode": "111 20",
                                               "OrganisationCity": "Stockholm"})
    drain()
    [customer] = list(visma.erp_client.list_records(ORG))
    assert customer["name"] == "Norrsken Handel AB"
    assert (customer["mainAddress.addressLine1"], customer["mainAddress.city"]) == ("Storgatan 1", "Stockholm")
    again = visma.crm_client.get_record(ORG, str(org["OrganisationId"]))
    assert again["OrganisationExtraCustom1"] == customer["number"]


def test_a_visma_change_comes_back_to_webcrm_and_stops_there(visma):
    org = visma.crm_client.create_record(ORG, {"OrganisationName": "Granhults Maskin AB", "OrganisationType": "Kunde"})
    drain()
    number = SyncLink.objects.get(entity="organisation").erp_id
    visma.erp_client.update_record(ORG, number, {"mainAddress.city": "Göteborg"})
    drain()
    assert visma.crm_client.get_record(ORG, str(org["OrganisationId"]))["OrganisationCity"] == "Göteborg"
    writes = sum(1 for r in visma.erp.requests if r.method in ("POST", "PUT") and "token" not in r.path)
    drain()
    assert sum(1 for r in visma.erp.requests if r.method in ("POST", "PUT") and "token" not in r.path) == writes


def test_a_pos_customer_becomes_a_uniconta_debtor(pos):
    customer = pos.crm_client.create_record(ORG, {"name": "Mette Nielsen", "email": "mette@example.dk",
                                                  "phone": "+45 20 30 40 50", "city": "Vejle", "zipcode": "7100"})
    drain()
    [debtor] = list(pos.erp_client.list_records(ORG))
    assert (debtor["Name"], debtor["ContactEmail"], debtor["City"]) == ("Mette Nielsen", "mette@example.dk", "Vejle")
    link = SyncLink.objects.get(entity="organisation")
    assert link.crm_id == str(customer["id"]) and link.erp_id == debtor["Account"]


def test_a_pos_product_becomes_a_uniconta_item(pos):
    pos.crm_client.create_record(ITEM, {"productno": "ST100-M-NAVY", "title": "Strik-trøje M navy",
                                        "price": 499.0, "costprice": 180.0})
    drain()
    [item] = list(pos.erp_client.list_records(ITEM))
    assert (item["Item"], item["Name"]) == ("ST100-M-NAVY", "Strik-trøje M navy")
    assert SyncLogEntry.objects.get(entity="item", action="created").direction == "to_erp"
