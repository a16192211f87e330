"""The demo's identifiers are valid for their kind, in the generator and in every seeded sandbox.

Each sandbox is built and seeded as the demo builds it (``demo_sandbox``: the provider's sandbox, then
``seed_demo``) and read back through Synkro's own client of that system. EANs/GLNs, CVR and organisation
numbers and VAT numbers must pass python-stdnum's checks (empty allowed), belong to the record's country,
and be unique; each sandbox must accept its demo records written back unchanged through its API.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import phonenumbers
import pytest
from django.core.validators import validate_email
from stdnum import ean
from stdnum.dk import cvr
from stdnum.eu import vat
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr

from integrations.systems import demo_data, transport
from integrations.systems.catalog import Entity
from integrations.systems.registry import get_system

SANDBOXED = ("webcrm", "uniconta", "fortnox", "vismanet", "customers1st")
HOME_COUNTRY = {"webcrm": "DK", "uniconta": "DK", "fortnox": "SE", "vismanet": "DK", "customers1st": "DK"}

#: Identifier fields by the catalogs' names, per entity: "gtin" (EAN-13 / GLN), "reg_no" (CVR / organisation
#: number, by the record's country), "vat" (an EU VAT number with its country prefix) or "key" (a customer or
#: item number: any text, but one record's own).
IDENTIFIER_FIELDS: dict[Entity, dict[str, str]] = {
    Entity.ORGANISATION: {
        "Account": "key", "CustomerNumber": "key", "number": "key", "customerno": "key",
        "OrganisationExtraCustom1": "key",
        "EAN": "gtin", "GLN": "gtin", "GLNDelivery": "gtin", "gln": "gtin", "ean": "gtin",
        "CompanyRegNo": "reg_no", "OrganisationNumber": "reg_no", "corporateId": "reg_no",
        "VatNumber": "vat", "VATNumber": "vat", "OrganisationVatNumber": "vat", "vatRegistrationId": "vat",
        "vat": "vat",  # Customers 1st's "VAT/CVR number" of a customer
    },
    Entity.ITEM: {"Item": "key", "ArticleNumber": "key", "inventoryNumber": "key", "productno": "key",
                  "EAN": "gtin", "ean": "gtin", "barcode": "gtin", "alternativebarcode": "gtin", "xBarcode": "gtin"},
}
#: Where each system keeps an organisation's country, and how it spells it.
COUNTRY_FIELDS = ("CountryCode", "Country", "OrganisationCountry", "mainAddress.country.id", "addr_country", "country")
COUNTRY_NAMES = {"dk": "DK", "denmark": "DK", "danmark": "DK", "se": "SE", "sweden": "SE", "sverige": "SE",
                 "no": "NO", "norway": "NO", "norge": "NO"}
REG_NO_VALID: dict[str, Callable[[str], bool]] = {"DK": cvr.is_valid, "SE": se_orgnr.is_valid, "NO": no_orgnr.is_valid}
POSTCODE_SHAPES = {"DK": r"[1-9]\d{3}", "SE": r"[1-9]\d{2} \d{2}", "NO": r"\d{4}"}


def seeded(key: str) -> Any:
    """A sandbox of ``key`` filled as the demo fills it (without the demo's process-wide sharing)."""
    sandbox = get_system(key).sandbox(rate_limit=(0, 0))
    sandbox.seed_demo()
    return sandbox


def connected(key: str, sandbox: Any) -> Iterator[Any]:
    """Synkro's client of ``key`` logged in with the demo credentials, talking to ``sandbox``."""
    provider = get_system(key)
    base = f"https://{key}.demo-data.test"
    with transport.mounted(base, sandbox):
        yield provider.client(base_url=base, credentials=provider.demo_credentials, sleep=lambda s: None,
                              rate_limiter=None)


@pytest.fixture(params=SANDBOXED)
def demo(request) -> Iterator[tuple[str, Any, Any]]:
    sandbox = seeded(request.param)
    for client in connected(request.param, sandbox):
        yield request.param, sandbox, client


def full_records(client: Any, entity: Entity) -> list[dict[str, Any]]:
    """Every record of ``entity`` as its own GET answers it (some lists leave identifier fields out)."""
    return [client.get_record(entity, client.record_id(entity, listed)) for listed in client.list_records(entity)]


def country_of(record: dict[str, Any], default: str) -> str:
    for field in COUNTRY_FIELDS:
        spelled = str(record.get(field) or "").strip().lower()
        if spelled:
            return COUNTRY_NAMES.get(spelled, spelled.upper())
    return default


def identifier_problems(record: dict[str, Any], fields: dict[str, str], country: str) -> list[str]:
    """What is wrong with ``record``'s identifiers, in words; empty values are allowed."""
    problems = []
    held = {name: str(record[name]).strip() for name in fields if record.get(name) not in (None, "")}
    for name, value in held.items():
        kind = fields[name]
        if kind == "gtin" and not (len(value) == 13 and ean.is_valid(value)):
            problems.append(f"{name} {value!r} is not a valid EAN-13 / GLN")
        elif kind == "reg_no" and not REG_NO_VALID.get(country, lambda v: False)(value):
            problems.append(f"{name} {value!r} is not a valid {country} company registration number")
        elif kind == "vat" and not (vat.is_valid(value) and vat.compact(value)[:2] == country):
            problems.append(f"{name} {value!r} is not a valid {country} VAT number")
    reg_no = next((held[n] for n in held if fields[n] == "reg_no"), None)
    vat_no = next((held[n] for n in held if fields[n] == "vat"), None)
    if reg_no and vat_no and re.sub(r"\D", "", reg_no) not in vat.compact(vat_no):
        problems.append(f"VAT number {vat_no!r} is not the one of registration number {reg_no!r}")
    return problems


# -- the generator ---------------------------------------------------------------------------------
@pytest.mark.parametrize("country", ["DK", "SE"])
def test_every_demo_company_has_valid_numbers_phone_email_and_postcode(country):
    companies = list(demo_data.companies(300, country=country))
    for company in companies:
        assert REG_NO_VALID[country](company.reg_no), company
        assert vat.is_valid(company.vat_number) and vat.compact(company.vat_number)[:2] == country, company
        assert re.sub(r"\D", "", company.reg_no) in company.vat_number
        assert re.fullmatch(POSTCODE_SHAPES[country], company.zip_code), company
        assert phonenumbers.is_valid_number_for_region(phonenumbers.parse(company.phone), country), company.phone
        validate_email(company.email)
        for person in demo_data.people(company, 3):
            validate_email(person.email)
            for phone in (person.phone, person.mobile):
                assert phonenumbers.is_valid_number_for_region(phonenumbers.parse(phone), country), phone
    assert len({c.reg_no for c in companies}) == len({c.vat_number for c in companies}) == len(companies)


def test_the_same_company_keeps_its_number_whatever_the_count():
    few = list(demo_data.companies(20, country="DK"))
    many = list(demo_data.companies(300, country="DK"))
    assert few == many[:20]
    assert [c.reg_no for c in demo_data.companies(5, country="SE", first_number=20001)] == \
        [c.reg_no for c in demo_data.companies(5, country="SE")]


def test_swedish_organisation_numbers_follow_the_legal_form():
    for company in demo_data.companies(80, country="SE"):
        group = "9" if company.name.endswith(" HB") else "5"
        assert company.reg_no.startswith(group) and int(company.reg_no[2]) >= 2, company


def test_item_barcodes_are_valid_unique_and_stable():
    items = list(demo_data.products(120))
    assert all(ean.is_valid(item.ean) and len(item.ean) == 13 for item in items)
    assert len({item.ean for item in items}) == 120
    assert items[0].ean == "5706021010015"  # GS1 Denmark prefix, item 1001, check digit 5


def test_ean13_computes_the_check_digit_and_refuses_a_reference_too_long():
    assert demo_data.ean13("5790002", 5) == "5790002000058"
    assert ean.is_valid(demo_data.ean13(demo_data.DEBTOR_GLN_PREFIX, 99999))
    with pytest.raises(ValueError):
        demo_data.ean13("5790002", 100000)


@pytest.mark.parametrize("country", ["DK", "SE"])
def test_employees_have_valid_mobiles_and_unique_emails(country):
    staff = list(demo_data.employees(12, country=country))
    for employee in staff:
        validate_email(employee.email)
        assert phonenumbers.is_valid_number_for_region(phonenumbers.parse(employee.mobile), country)
    assert len({e.email for e in staff}) == len(staff)


def test_the_checks_of_this_module_catch_wrong_identifiers():
    fields = IDENTIFIER_FIELDS[Entity.ORGANISATION]
    assert identifier_problems({"EAN": "5790002000058", "CompanyRegNo": "15810459", "VatNumber": "DK15810459"},
                               fields, "DK") == []
    assert len(identifier_problems({"EAN": "5790002000059"}, fields, "DK")) == 1
    assert len(identifier_problems({"CompanyRegNo": "15810458"}, fields, "DK")) == 1
    assert len(identifier_problems({"VatNumber": "SE559681045601"}, fields, "DK")) == 1  # valid, but Swedish
    assert len(identifier_problems({"CompanyRegNo": "15810459", "VatNumber": "DK89498325"}, fields, "DK")) == 1


# -- every sandbox's seeded demo ------------------------------------------------------------------
#: The identifier fields each system's demo fills, so a check cannot pass by reading none.
EXPECTED_IDENTIFIERS = {
    "webcrm": {"OrganisationVatNumber", "OrganisationExtraCustom1"},
    "uniconta": {"EAN", "CompanyRegNo", "VatNumber", "xBarcode", "Account", "Item"},
    "fortnox": {"OrganisationNumber", "VATNumber", "EAN", "CustomerNumber", "ArticleNumber"},
    "vismanet": {"corporateId", "vatRegistrationId", "number", "inventoryNumber"},
    "customers1st": {"vat", "barcode", "customerno", "productno"},
}


def test_every_identifier_of_the_seeded_demo_is_valid_and_unique(demo):
    key, _sandbox, client = demo
    checked = Counter()
    for entity, fields in IDENTIFIER_FIELDS.items():
        records = full_records(client, entity)
        assert records, f"{key} has no demo {entity}"
        problems, seen = [], {name: Counter() for name in fields}
        for record in records:
            country = country_of(record, HOME_COUNTRY[key])
            problems += [f"{entity} {client.record_id(entity, record)}: {p}"
                         for p in identifier_problems(record, fields, country)]
            for name in fields:
                if record.get(name) not in (None, ""):
                    seen[name][str(record[name])] += 1
                    checked[name] += 1
        assert problems == []
        duplicated = {name: [v for v, n in values.items() if n > 1] for name, values in seen.items()}
        assert {name: values for name, values in duplicated.items() if values} == {}
    assert EXPECTED_IDENTIFIERS[key] <= set(checked)


def test_each_sandbox_accepts_its_demo_identifiers_written_back_unchanged(demo):
    key, _sandbox, client = demo
    written = 0
    for entity, fields in IDENTIFIER_FIELDS.items():
        writable = {spec.name for spec in get_system(key).catalog().entity(entity) if not spec.read_only}
        for record in full_records(client, entity):
            values = {name: record[name] for name, kind in fields.items()
                      if kind != "key" and name in writable and record.get(name) not in (None, "")}
            if values:
                record_id = client.record_id(entity, record)
                client.update_record(entity, record_id, values)
                after = client.get_record(entity, record_id)
                assert {name: after.get(name) for name in values} == values
                written += 1
    assert written > 0


def test_customers_1st_accepts_every_ean_of_the_demo_debtors():
    """The demo's POS integration carries a Uniconta debtor's EAN to the Customers 1st customer, where an
    invalid EAN is refused ("Invalid EAN", a dead letter on the first sync)."""
    uniconta = seeded("uniconta")
    debtor_eans = [row["EAN"] for row in uniconta.company().rows("DebtorClient") if row.get("EAN")]
    assert len(debtor_eans) == 60
    pos = get_system("customers1st").sandbox(rate_limit=(0, 0))
    for client in connected("customers1st", pos):
        for number, gln in enumerate(debtor_eans):
            created = client.create_record(Entity.ORGANISATION, {"name": f"Debitor {number}", "ean": gln})
            assert created["ean"] == gln


@pytest.mark.django_db
def test_the_demo_debtors_with_an_ean_reach_customers_1st_without_a_dead_letter(synkro, sandboxes):
    """Customers 1st ↔ Uniconta as the demo runs it: the demo debtors that carry an EAN, synced, all arrive."""
    from integrations.engine.ingest import event_ingest
    from integrations.models import EventState, InboundEvent
    from tests.harness import drain, make_pair

    for key in ("uniconta", "customers1st"):
        sandboxes[key].seed_demo()
    pair = make_pair("customers1st", "uniconta", sandboxes)
    debtors = {row["Account"]: row["EAN"] for row in sandboxes["uniconta"].company().rows("DebtorClient")
               if row.get("EAN")}
    for account in debtors:
        event_ingest(integration=pair.integration, system="uniconta", entity=Entity.ORGANISATION, action="updated",
                     external_id=account)
    drain()

    failed = list(InboundEvent.objects.filter(state=EventState.FAILED).values_list("external_id", "last_error"))
    assert failed == []
    customers = {row.get("customerno"): row.get("ean") for row in sandboxes["customers1st"].customers.values()}
    assert {account: customers.get(account) for account in debtors} == debtors
