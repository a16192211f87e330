"""A document booked, released or cancelled between Synkro's read and its write is left alone, not parked."""

from __future__ import annotations

import pytest

from integrations.models import EventState, InboundEvent, SyncLink, SyncLogEntry
from integrations.services import integration_webhooks_register
from integrations.systems.catalog import Entity
from integrations.systems.errors import VendorValidationError
from integrations.systems.fortnox.client import FortnoxClient
from integrations.systems.vismanet.client import VismaNetClient
from mappings.models import EntitySync
from tests.harness import drain, make_pair

ORG, ITEM, DELIVERY, INVOICE = Entity.ORGANISATION, Entity.ITEM, Entity.DELIVERY, Entity.INVOICE


def _pair(sandboxes, erp, item, org_type):
    pair = make_pair("webcrm", erp, sandboxes)
    integration_webhooks_register(integration=pair.integration)
    pair.erp_client.create_record(ITEM, item)
    pair.org = pair.crm_client.create_record(ORG, {"OrganisationName": "Hagaby Bygg AB", "OrganisationType": org_type})
    drain()
    return pair


def _delivery(pair, number):
    return pair.crm_client.create_record(DELIVERY, {
        "DeliveryOrganisationId": pair.org["OrganisationId"], "DeliveryErpStatus": "ReadyForSynchronization",
        "DeliveryDescription": "Offert 7", "lines": [{"QuotationLineData1": number, "QuotationLineQuantity": 4,
                                                     "QuotationLinePrice": "650.00"}]})


def _change_while(monkeypatch, client_class, pair, delivery, lock):
    """Change the delivery; ``lock`` runs in the ERP just before Synkro's write reaches it."""
    original = client_class.update_record

    def locked_first(client, entity, record_id, data, **options):
        lock(record_id)
        return original(client, entity, record_id, data, **options)

    monkeypatch.setattr(client_class, "update_record", locked_first)
    pair.crm_client.update_record(DELIVERY, str(delivery["DeliveryId"]), {"DeliveryDescription": "Offert 7b"})
    drain()


def _no_dead_letters():
    assert not InboundEvent.objects.filter(state=EventState.FAILED).exists()
    assert not SyncLogEntry.objects.filter(action="failed").exists()


@pytest.fixture
def fortnox(db, synkro, sandboxes):
    return _pair(sandboxes, "fortnox", {"ArticleNumber": "A-100", "Description": "Snickeritimme"}, "Kund – Företag")


def test_a_fortnox_invoice_booked_meanwhile_is_left_alone(fortnox, monkeypatch):
    EntitySync.objects.filter(integration=fortnox.integration, entity="delivery").update(delivery_target="invoice")
    delivery = _delivery(fortnox, "A-100")
    drain()
    number = SyncLink.objects.get(entity="invoice").erp_id

    def book(record_id):
        with fortnox.erp.lock:
            fortnox.erp.company.bookkeep(record_id)

    _change_while(monkeypatch, FortnoxClient, fortnox, delivery, book)
    _no_dead_letters()
    entry = SyncLogEntry.objects.filter(entity="delivery", action="skipped").latest("id")
    assert entry.reason.startswith(f"Invoice {number} was booked in Fortnox meanwhile; left alone.")
    invoice = fortnox.erp_client.get_record(INVOICE, number)
    assert invoice["Booked"] is True and invoice["YourReference"] == "Offert 7"
    # the same change again finds it booked on reading and skips it the same way, before any write
    monkeypatch.undo()
    fortnox.crm_client.update_record(DELIVERY, str(delivery["DeliveryId"]), {"DeliveryDescription": "Offert 7c"})
    drain()
    again = SyncLogEntry.objects.filter(entity="delivery", action="skipped").latest("id")
    assert again.id != entry.id and f"Invoice {number} in Fortnox is booked" in again.reason
    _no_dead_letters()


def test_a_fortnox_order_cancelled_meanwhile_is_left_alone(fortnox, monkeypatch):
    delivery = _delivery(fortnox, "A-100")
    drain()
    number = SyncLink.objects.get(entity="delivery").erp_id

    def cancel(record_id):
        with fortnox.erp.lock:
            fortnox.erp.company.cancel(DELIVERY, record_id)

    _change_while(monkeypatch, FortnoxClient, fortnox, delivery, cancel)
    _no_dead_letters()
    entry = SyncLogEntry.objects.filter(entity="delivery", action="skipped").latest("id")
    assert entry.reason.startswith(f"Sales order {number} was cancelled in Fortnox meanwhile; left alone.")


def test_a_refusal_of_an_open_document_is_still_a_failure(fortnox, monkeypatch):
    delivery = _delivery(fortnox, "A-100")
    drain()
    monkeypatch.setattr(FortnoxClient, "update_record", _refused)  # the order stays open: refused for another reason
    fortnox.crm_client.update_record(DELIVERY, str(delivery["DeliveryId"]), {"DeliveryDescription": "Offert 8"})
    drain()
    assert SyncLogEntry.objects.filter(entity="delivery", action="failed").exists()
    assert not SyncLogEntry.objects.filter(entity="delivery", reason__contains="meanwhile").exists()


def _refused(client, entity, record_id, data, **options):
    raise VendorValidationError("Fortnox refused the data", vendor_message="Ogiltig parameter i anropet.",
                                system="fortnox")


@pytest.fixture
def visma(db, synkro, sandboxes):
    return _pair(sandboxes, "vismanet", {"inventoryNumber": "V-1", "description": "Konsulttimme"}, "Kunde")


def test_a_visma_invoice_released_meanwhile_is_left_alone(visma, monkeypatch):
    EntitySync.objects.filter(integration=visma.integration, entity="delivery").update(delivery_target="invoice")
    delivery = _delivery(visma, "V-1")
    drain()
    number = SyncLink.objects.get(entity="invoice").erp_id

    def release(record_id):
        visma.erp.release_invoice(record_id)

    _change_while(monkeypatch, VismaNetClient, visma, delivery, release)
    _no_dead_letters()
    entry = SyncLogEntry.objects.filter(entity="delivery", action="skipped").latest("id")
    assert entry.reason.startswith(f"Invoice {number} was booked in Visma.net meanwhile; left alone.")
    assert visma.erp_client.get_record(INVOICE, number)["status"] == "Open"
