"""Vendor refusals in plain words that name the field, with the vendor's own words kept beside them."""

from __future__ import annotations

import pytest

from integrations.engine.process import plain_error
from integrations.models import EventState, InboundEvent, SyncLogEntry
from integrations.services import integration_webhooks_register
from integrations.systems.catalog import Entity
from integrations.systems.customers1st.messages import customers1st_refusal
from integrations.systems.errors import (
    NotFoundError,
    Refusal,
    VendorValidationError,
    field_named_in,
    plain_refusal,
)
from integrations.systems.fortnox.client import FortnoxClient
from integrations.systems.fortnox.messages import fortnox_refusal
from integrations.systems.uniconta.messages import uniconta_refusal
from integrations.systems.vismanet.messages import vismanet_refusal
from integrations.systems.webcrm.messages import webcrm_refusal
from tests.harness import drain, make_pair

ORG, ITEM = Entity.ORGANISATION, Entity.ITEM


# -- the tables -------------------------------------------------------------------------------------------------
def test_the_log_line_names_the_field_and_keeps_the_vendors_words():
    error = VendorValidationError("Fortnox refused the data: Ogiltig landskod", vendor_message="Ogiltig landskod",
                                  system="fortnox", refusal=Refusal("the country code is not valid", "CountryCode"))
    assert plain_refusal(error, "Fortnox", what="customer") == (
        "Fortnox refused the customer: the country code is not valid (field CountryCode). Fortnox said: "
        "«Ogiltig landskod»")
    assert plain_error(error, "Fortnox", what="customer") == plain_refusal(error, "Fortnox", what="customer")
    unexplained = VendorValidationError("x", vendor_message="Något gick fel", system="fortnox")
    assert plain_refusal(unexplained, "Fortnox") is None
    assert plain_error(unexplained, "Fortnox") == "Fortnox refused the data: Något gick fel"


def test_a_field_in_trailing_parentheses_is_read_but_a_value_is_not():
    assert field_named_in('Inköpskonto inte uppdaterat. Kontot "4000" existerar inte. (PurchaseAccount)') == (
        "PurchaseAccount")
    assert field_named_in("Kundnummer 1 används redan.") == ""
    assert fortnox_refusal(2001304, "Kunde inte hitta konto (SalesAccount)") == Refusal(
        "the account does not exist in the chart of accounts", "SalesAccount")
    assert fortnox_refusal("2000108", "Värdet måste vara numeriskt (abc)").field == ""
    assert fortnox_refusal(2000637, "Kundnummer 7 används redan.").field == "CustomerNumber"


def test_fortnox_unknown_codes_fall_back_to_their_words_or_the_field_they_name():
    assert fortnox_refusal(0, "Fakturan är bokförd och kan inte ändras.").locked
    assert fortnox_refusal(0, "Ogiltig landskod (CountryCode)") == Refusal("a value was not accepted", "CountryCode")
    assert fortnox_refusal(0, "Något gick fel") is None
    assert fortnox_refusal(None, None) is None


def test_each_vendors_table_explains_its_own_refusals():
    assert uniconta_refusal("KeyExists", "InvItem 1001 already exists").meaning.startswith("a record with that")
    assert uniconta_refusal("FieldCannotBeBlank", "Name (Name) cannot be blank").field == "Name"
    assert uniconta_refusal("UnknownField", "The field Colour does not exist on InvItemClient").field == "Colour"
    assert uniconta_refusal("SomethingElse", "x") is None
    assert vismanet_refusal("12000", "Error: 'Customer' cannot be empty.") == Refusal("a required value is empty",
                                                                                      "Customer")
    assert vismanet_refusal("12000", "Error: Invoice 10042 is released and cannot be changed.").locked
    assert vismanet_refusal("12027", "No license for this company.").meaning.endswith("no licence for the API")
    assert webcrm_refusal("BadRequestException", "OrganisationName is required").field == "OrganisationName"
    assert webcrm_refusal(None, None, {"PersonEmail": ["The e-mail is not valid"]}).field == "PersonEmail"
    assert webcrm_refusal("Unheard", "x") is None
    assert customers1st_refusal("PRODUCT_BARCODE_EXISTS").field == "barcode"
    assert customers1st_refusal(None, [{"name": "content.title", "code": "error_required"}]) == Refusal(
        "a required value is missing", "title")


# -- through the sandboxes ----------------------------------------------------------------------------------------
@pytest.fixture
def fortnox(db, synkro, sandboxes):
    return make_pair("webcrm", "fortnox", sandboxes)


def test_fortnox_answers_with_its_code_and_the_client_explains_it(fortnox):
    with pytest.raises(VendorValidationError) as caught:
        fortnox.erp_client.create_record(ORG, {"Name": "Lövsta Trä HB", "CustomerNumber": "A B!"})
    error = caught.value
    assert "(code 2000359)" in error.vendor_message
    assert error.refusal == Refusal("a value contains characters Fortnox does not allow")
    assert plain_refusal(error, "Fortnox", what="customer").startswith(
        "Fortnox refused the customer: a value contains characters Fortnox does not allow. Fortnox said: «Värdet")


def test_a_missing_fortnox_article_is_named_by_its_code(fortnox):
    with pytest.raises(NotFoundError) as caught:
        fortnox.erp_client.get_record(ITEM, "nope")
    assert "(code 2000428)" in caught.value.vendor_message
    assert caught.value.refusal == Refusal("the article does not exist in Fortnox", "ArticleNumber")


def test_each_sandbox_refusal_arrives_explained(db, synkro, sandboxes):
    uniconta = make_pair("webcrm", "uniconta", sandboxes)
    uniconta.erp_client.create_record(ITEM, {"Item": "1001", "Name": "Arbejdsjakke"})
    with pytest.raises(VendorValidationError) as caught:
        uniconta.erp_client.create_record(ITEM, {"Item": "1001", "Name": "Igen"})
    assert caught.value.refusal.meaning == "a record with that number already exists"
    visma = make_pair("webcrm", "vismanet", sandboxes)
    with pytest.raises(VendorValidationError) as caught:
        visma.erp_client.create_record(ORG, {"name": ""})
    assert caught.value.refusal == Refusal("a required value is empty", "Name")
    with pytest.raises(VendorValidationError) as caught:
        visma.crm_client.create_record(ORG, {"OrganisationType": "Kunde"})
    assert caught.value.refusal.field == "OrganisationName"


def test_a_parked_refusal_reads_in_plain_words_with_fortnox_words_beside(fortnox, monkeypatch):
    integration_webhooks_register(integration=fortnox.integration)
    original = FortnoxClient.create_record

    def with_a_field_fortnox_does_not_know(client, entity, data):
        return original(client, entity, {**data, "Colour": "Grön"})

    monkeypatch.setattr(FortnoxClient, "create_record", with_a_field_fortnox_does_not_know)
    fortnox.crm_client.create_record(ORG, {"OrganisationName": "Sjöviks VVS AB", "OrganisationType": "Kund – Företag"})
    drain()
    assert InboundEvent.objects.filter(state=EventState.FAILED).count() == 1
    entry = SyncLogEntry.objects.get(action="failed")
    assert entry.error.startswith("Fortnox refused the customer: a field name is not one Fortnox knows "
                                  "(field Colour). Fortnox said: «Felaktigt fältnamn (Colour)")
    assert entry.vendor_message.startswith("Felaktigt fältnamn (Colour)")
