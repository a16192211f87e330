"""The sandboxes refuse countries as their vendors do: a code that is no code, a name that is no country."""

from __future__ import annotations

import pytest

from integrations.systems.catalog import Entity
from integrations.systems.errors import VendorValidationError
from integrations.systems.uniconta.catalog import DEBTOR
from integrations.systems.uniconta.sandbox_tables import UnicontaFault, coerce, country_enum_names
from tests.harness import make_pair

ORG, DELIVERY = Entity.ORGANISATION, Entity.DELIVERY


@pytest.fixture
def fortnox(db, synkro, sandboxes):
    return make_pair("webcrm", "fortnox", sandboxes).erp_client


@pytest.fixture
def vismanet(db, synkro, sandboxes):
    return make_pair("webcrm", "vismanet", sandboxes).erp_client


@pytest.mark.parametrize("code", ["Sverige", "XX", "S"])
def test_fortnox_refuses_a_country_code_that_is_not_one(fortnox, code):
    with pytest.raises(VendorValidationError, match=f"Ogiltig landskod: {code.upper()}"):
        fortnox.create_record(ORG, {"Name": "Norrsken El AB", "CountryCode": code})
    assert list(fortnox.list_records(ORG)) == []


def test_fortnox_names_the_customers_country_from_its_code(fortnox):
    customer = fortnox.create_record(ORG, {"Name": "Norrsken El AB", "CountryCode": "se"})
    assert (customer["CountryCode"], customer["Country"]) == ("SE", "Sverige")
    customer = fortnox.update_record(ORG, customer["CustomerNumber"], {"CountryCode": "DE"})
    assert (customer["CountryCode"], customer["Country"]) == ("DE", "Germany")


def test_fortnox_takes_sverige_but_not_sweden_as_an_order_country(fortnox):
    customer = fortnox.create_record(ORG, {"Name": "Norrsken El AB"})
    order = fortnox.create_record(DELIVERY, {"CustomerNumber": customer["CustomerNumber"], "Country": "Sverige"})
    assert order["Country"] == "Sverige"
    with pytest.raises(VendorValidationError, match="Ogiltigt land: Sweden"):
        fortnox.create_record(DELIVERY, {"CustomerNumber": customer["CustomerNumber"], "Country": "Sweden"})


def test_uniconta_takes_country_enum_names_and_refuses_anything_else():
    country = DEBTOR.field("Country")
    assert coerce(country, "Denmark") == "Denmark"
    assert coerce(country, "unitedkingdom") == "UnitedKingdom"
    assert {"Denmark", "Sweden", "Norway", "Germany", "UnitedKingdom", "FaroeIslands", "Greenland",
            "Unknown"} <= country_enum_names()
    for wrong in ("Danmark", "DK", "Sverige", ""):
        with pytest.raises(UnicontaFault, match=r"Uniconta\.Common\.CountryCode"):
            coerce(country, wrong)


def test_visma_refuses_a_country_it_does_not_know_and_names_the_ones_it_does(vismanet):
    customer = vismanet.create_record(ORG, {"name": "Fjordlys AS", "mainAddress.country.id": "NO"})
    assert customer["mainAddress.country.id"] == "NO"
    with pytest.raises(VendorValidationError, match="Country 'Norge' cannot be found"):
        vismanet.create_record(ORG, {"name": "Fjordlys AS", "mainAddress.country.id": "Norge"})
