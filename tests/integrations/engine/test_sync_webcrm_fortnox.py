"""webCRM ↔ Fortnox end to end. Fortnox sends no webhooks: its side is polled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.engine.poll import poll_entity, poll_sources, polls_due
from integrations.models import PollCursor, SyncLink, SyncLogEntry
from integrations.systems.catalog import Entity
from integrations.systems.errors import ExternalSystemError
from tests.harness import QUIET, drain, make_pair

ORG = Entity.ORGANISATION


@pytest.fixture
def pair(db, synkro, sandboxes):
    pair = make_pair("webcrm", "fortnox", sandboxes)
    pair.webcrm_hooks("Organisations")
    return pair


def poll(pair, entity=ORG):
    return poll_entity(integration=pair.integration, system="fortnox", entity=entity,
                       client_options=QUIET)


def test_fortnox_is_polled_and_webcrm_is_not(pair):
    assert poll_sources(pair.integration, pair.sync("organisation")) == ["fortnox"]
    due = {(system, entity) for integration, system, entity in polls_due() if integration == pair.integration}
    assert ("fortnox", "organisation") in due and ("webcrm", "organisation") not in due


def test_a_customer_made_in_fortnox_arrives_by_polling(pair):
    assert poll(pair) == 0  # the first poll starts the clock
    customer = pair.erp_client.create_record(ORG, {"Name": "Björkdal Bygg AB", "OrganisationNumber": "556677-8899",
                                                   "City": "Umeå", "ZipCode": "901 84"})
    assert poll(pair) == 1
    drain()
    [org] = list(pair.crm_client.list_records(ORG))
    assert org["OrganisationName"] == "Björkdal Bygg AB" and org["OrganisationType"] == "Kund – Företag"
    assert org["OrganisationExtraCustom1"] == customer["CustomerNumber"]
    assert org["OrganisationVatNumber"] == "556677-8899"


def test_polling_the_same_changes_again_writes_nothing(pair):
    poll(pair)
    pair.erp_client.create_record(ORG, {"Name": "Lövsta Trä HB"})
    poll(pair)
    drain()
    writes = sum(1 for r in pair.crm.requests if r.method in ("POST", "PUT") and "/Auth/" not in r.path)
    poll(pair)  # the overlap window reads the same customer again
    drain()
    assert sum(1 for r in pair.crm.requests if r.method in ("POST", "PUT") and "/Auth/" not in r.path) == writes


def test_the_cursor_moves_only_after_the_batch_is_stored(pair):
    poll(pair)
    cursor = PollCursor.objects.get(integration=pair.integration, system="fortnox")
    before = cursor.modified_since
    pair.erp.knobs.error_rate = 1.0
    with pytest.raises(ExternalSystemError):
        poll_entity(integration=pair.integration, system="fortnox", entity=ORG,
                    now=timezone.now() + timedelta(minutes=5), client_options={**QUIET, "max_attempts": 2})
    cursor.refresh_from_db()
    assert cursor.modified_since == before


def test_a_webcrm_customer_gets_a_fortnox_customer_number(pair):
    org = pair.crm_client.create_record(ORG, {"OrganisationName": "Sjöviks VVS AB",
                                              "OrganisationType": "Kund – Företag", "OrganisationCity": "Malmö"})
    drain()
    [customer] = list(pair.erp_client.list_records(ORG))
    assert customer["Name"] == "Sjöviks VVS AB"
    again = pair.crm_client.get_record(ORG, str(org["OrganisationId"]))
    assert again["OrganisationExtraCustom1"] == customer["CustomerNumber"]
    assert SyncLink.objects.get(entity="organisation").erp_id == customer["CustomerNumber"]


def test_a_webcrm_prospect_is_not_sent_to_fortnox(pair):
    pair.crm_client.create_record(ORG, {"OrganisationName": "Ekbackens Revision", "OrganisationType": "Kunde"})
    drain()
    assert list(pair.erp_client.list_records(ORG)) == []
    assert "“Kund – Företag”" in SyncLogEntry.objects.get(action="skipped").reason


def test_a_ready_delivery_becomes_a_fortnox_order_and_an_unbooked_invoice_may_still_change(pair):
    from integrations.models import SyncLink
    from mappings.models import EntitySync

    pair.webcrm_hooks("Deliveries")
    pair.erp_client.create_record(Entity.ITEM, {"ArticleNumber": "A-100", "Description": "Snickeritimme"})
    org = pair.crm_client.create_record(ORG, {"OrganisationName": "Hagaby Bygg AB",
                                              "OrganisationType": "Kund – Företag"})
    drain()
    EntitySync.objects.filter(integration=pair.integration, entity="delivery").update(delivery_target="invoice")
    delivery = pair.crm_client.create_record(Entity.DELIVERY, {
        "DeliveryOrganisationId": org["OrganisationId"], "DeliveryErpStatus": "ReadyForSynchronization",
        "DeliveryDescription": "Offert 7", "lines": [{"QuotationLineData1": "A-100", "QuotationLineData2": "Timme",
                                                     "QuotationLineQuantity": 4, "QuotationLinePrice": "650.00"}]})
    drain()
    [invoice] = list(pair.erp_client.list_records(Entity.INVOICE))
    link = SyncLink.objects.get(entity="invoice")
    assert link.erp_id == str(invoice["DocumentNumber"])
    back = pair.crm_client.get_record(Entity.DELIVERY, str(delivery["DeliveryId"]))
    assert back["DeliveryCustom1"] == f"Invoice {invoice['DocumentNumber']} · not booked"
    pair.crm_client.update_record(Entity.DELIVERY, str(delivery["DeliveryId"]), {"DeliveryDescription": "Offert 7b"})
    drain()
    assert pair.erp_client.get_record(Entity.INVOICE, link.erp_id)["YourReference"] == "Offert 7b"


def test_entities_fortnox_does_not_have_are_not_polled(pair):
    from mappings.models import EntitySync

    EntitySync.objects.filter(integration=pair.integration, entity="person").update(direction="two_way")
    assert poll_sources(pair.integration, pair.sync("person")) == []


def test_a_parked_record_is_not_polled_again_until_replayed(pair):
    from integrations.models import EventState, InboundEvent

    poll(pair)
    customer = pair.erp_client.create_record(ORG, {"Name": "Vårgårda Catering AB"})
    assert poll(pair) == 1
    InboundEvent.objects.update(state=EventState.FAILED)
    assert poll(pair) == 0
    assert InboundEvent.objects.filter(external_id=customer["CustomerNumber"]).count() == 1
