"""An edit a person makes while Synkro is writing the same record is never swallowed as "no change".

Synkro reads the record, writes the other side, then writes back onto the record (a document's ERP number, an
organisation's customer number). A person's edit that lands between that read and the write-back is in the
record the write-back answers with; it must still go over on its own notice, not be taken as Synkro's own echo.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations.systems.webcrm.client import WebcrmClient
from mappings.models import EntitySync
from tests.harness import drain

from . import test_sync_documents as documents
from .test_sync_documents import DELIVERY, ORG, new_delivery, orders

pair = documents.pair  # the webCRM ↔ Uniconta pair with items and an organisation


def edit_before_write_back(monkeypatch, pair, entity, record_id, **changes):
    """A person saves ``changes`` in webCRM just before Synkro's first write-back to ``record_id`` reaches it."""
    original = WebcrmClient.update_record
    state = {"done": False}

    def edited_first(client, entity_, record_id_, data, **options):
        if not state["done"] and entity_ == entity and str(record_id_) == str(record_id):
            state["done"] = True
            pair.crm.change_in_webcrm("Deliveries" if entity == DELIVERY else "Organisations", int(record_id),
                                      **changes)
        return original(client, entity_, record_id_, data, **options)

    monkeypatch.setattr(WebcrmClient, "update_record", edited_first)
    return state


def test_a_delivery_edited_during_its_write_back_arrives(pair, monkeypatch):
    delivery = new_delivery(pair)
    state = edit_before_write_back(monkeypatch, pair, DELIVERY, delivery["DeliveryId"],
                                   DeliveryDescription="Tilbud 17 – rettet")
    drain()
    assert state["done"]
    [order] = orders(pair)
    assert order["YourRef"] == "Tilbud 17 – rettet"


def test_a_line_price_edited_during_the_write_back_arrives(pair, monkeypatch):
    lines = [dict(documents.LINES[0], QuotationLineQuantity=1, QuotationLinePrice="300.00", QuotationLineDiscount=0)]
    new_delivery(pair, lines=lines)
    original = WebcrmClient.update_record
    state = {"done": False}

    def edited_first(client, entity, record_id, data, **options):
        if not state["done"] and entity == DELIVERY:
            state["done"] = True
            client_lines = [dict(lines[0], QuotationLinePrice="1300.00")]
            original(client, entity, record_id, {"lines": client_lines})  # the person's edit, through the API
        return original(client, entity, record_id, data, **options)

    monkeypatch.setattr(WebcrmClient, "update_record", edited_first)
    drain()
    [order] = orders(pair)
    assert [Decimal(str(line["Price"])) for line in order["lines"]] == [Decimal("1300.00")]


def test_an_organisation_edited_during_its_number_write_back_arrives(pair, monkeypatch):
    EntitySync.objects.filter(integration=pair.integration, entity="organisation").update(number_authority="erp")
    org = pair.crm_client.create_record(ORG, {"OrganisationName": "Hvidesande Fisk", "OrganisationType": "Kunde"})
    state = edit_before_write_back(monkeypatch, pair, ORG, org["OrganisationId"], OrganisationCity="Ringkøbing")
    drain()
    assert state["done"]
    [debtor] = [d for d in pair.erp_client.list_records(ORG) if d["Name"] == "Hvidesande Fisk"]
    assert pair.erp_client.get_record(ORG, debtor["Account"]).get("City") == "Ringkøbing"
    assert pair.crm_client.get_record(ORG, str(org["OrganisationId"]))["OrganisationExtraCustom1"] == debtor["Account"]


@pytest.mark.parametrize("field, value", [("OrganisationCity", "Skjern"), ("OrganisationName", "Hvide Sande Fisk")])
def test_an_organisation_edited_while_its_change_is_written_arrives(pair, monkeypatch, field, value):
    """Two-way: Synkro writes a merged value back onto the organisation while a person edits another field."""
    EntitySync.objects.filter(integration=pair.integration, entity="organisation").update(direction="two_way")
    org = pair.crm_client.create_record(ORG, {"OrganisationName": "Hvidesande Fisk", "OrganisationType": "Kunde"})
    drain()
    account = next(d["Account"] for d in pair.erp_client.list_records(ORG) if d["Name"] == "Hvidesande Fisk")
    pair.erp_client.update_record(ORG, account, {"Phone": "+45 97 31 11 11"})  # comes back onto webCRM
    state = edit_before_write_back(monkeypatch, pair, ORG, org["OrganisationId"], **{field: value})
    drain()
    assert state["done"]
    debtor = pair.erp_client.get_record(ORG, account)
    assert debtor.get("City" if field == "OrganisationCity" else "Name") == value
