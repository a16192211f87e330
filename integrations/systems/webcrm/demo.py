"""The demo's webCRM: Danish customers and prospects, Swedish customers, their people, the item register, sellers and
deliveries.

Built from :mod:`integrations.systems.demo_data` so part of the organisations also exist in the
demo ERPs (their customer number sits in OrganisationExtraCustom1, where webCRM's own ERP
integration keeps the ERP's key) and the rest are webCRM-only. Items sit in the quotation-line register
(number in data column 1, name in 2, unit in 3), and every quotation line copies number and name from its item
and points at it, as a line picked in webCRM's screens does.
"""

from __future__ import annotations

import random
from typing import Any

from .. import demo_data
from .catalog import LINKED
from .sandbox_store import REGISTER, WebcrmStore

ORGANISATIONS = 300
#: Swedish customers kept in the same webCRM (the Fortnox side of the demo), typed as Swedish sellers type them.
SWEDISH_ORGANISATIONS = 40
TYPES = ("Kunde", "Kunde", "Kunde", "Prospekt", "Leverandør")
SWEDISH_TYPES = {"company": "Kund – Företag", "private": "Kund – Privat"}
STATUSES = ("Aktiv", "Aktiv", "Passiv")
#: The demo database's drop-down lists (``/FieldsMetadata``): every Type and Status its organisations hold, so
#: the demo's triggers ("Kunde" for Uniconta and Visma.net, "Kund – Företag" and "Kund – Privat" for Fortnox;
#: mappings/defaults.py) are values this webCRM has.
DEMO_FIELD_OPTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "Organisation": {
        "OrganisationType": ("Kunde", *SWEDISH_TYPES.values(), "Prospekt", "Leverandør"),
        "OrganisationStatus": tuple(dict.fromkeys(STATUSES)),
    },
}
DELIVERY_STATUSES = ("New", "Planned", "OnGoing", "Completed")
ERP_STATUSES = ("NotReadyForSynchronization", "ReadyForSynchronization", "Synchronized")


def seed_demo_data(store: WebcrmStore, *, seed: int = 7) -> None:
    """Fill ``store``; the same seed gives the same database."""
    rng = random.Random(f"{seed}-webcrm")
    users = [store.create("Users", {
        "UserName": employee.name, "UserEmail": employee.email, "UserMobilePhone": employee.mobile,
        "UserInitials": (employee.first_name[0] + employee.last_name[:2]).upper(),
        "UserIntegrationId": employee.number, "UserIsRestApiEnabled": index == 0,
    }, by="System") for index, employee in enumerate(demo_data.employees(8))]
    products = [store.create(REGISTER, {
        f"{LINKED}Data1": product.number, f"{LINKED}Data2": product.name, f"{LINKED}Data3": product.unit or "-",
        **{f"{LINKED}Data{n}": "-" for n in range(4, 10)}, f"{LINKED}DataMemo": product.name,
        f"{LINKED}Price": float(product.list_price), f"{LINKED}CostPrice": float(product.cost_price),
        f"{LINKED}VatCode": "S25", f"{LINKED}EntityType": "Product",
    }, by="System") for product in demo_data.products(48)]

    for company in demo_data.companies(ORGANISATIONS, country="DK", seed=seed):
        owner = rng.choice(users)
        kind = rng.choice(TYPES)
        in_erp = kind == "Kunde" and rng.random() < 0.6
        organisation = store.create("Organisations", {
            "OrganisationName": company.name, "OrganisationAddress": company.address,
            "OrganisationPostCode": company.zip_code, "OrganisationCity": company.city,
            "OrganisationCountry": company.country_name, "OrganisationTelephone": company.phone,
            "OrganisationWww": company.www, "OrganisationDomain": company.email.split("@", 1)[1],
            "OrganisationVatNumber": company.vat_number, "OrganisationType": kind,
            "OrganisationStatus": rng.choice(STATUSES), "OrganisationOwner": owner["UserId"],
            "OrganisationExtraCustom1": company.number if in_erp else "",
        }, by=owner["UserName"])
        _add_persons(store, organisation, demo_data.people(company, rng.randint(1, 3), seed=seed), owner)
        if kind == "Kunde" and rng.random() < 0.4:
            _delivery(store, rng, organisation, owner, products)
    _swedish_customers(store, users, seed=seed)


def _swedish_customers(store: WebcrmStore, users: list[dict], *, seed: int) -> None:
    """The first Swedish companies of the demo's Fortnox, as webCRM organisations without a customer number.

    They carry the Fortnox company's organisation and VAT numbers, so switching webCRM ↔ Fortnox on links them by
    those; a customer number is left out, as the Danish ERPs' numbers already sit in OrganisationExtraCustom1.
    """
    rng = random.Random(f"{seed}-webcrm-se")
    for company in demo_data.companies(SWEDISH_ORGANISATIONS, country="SE"):
        owner = rng.choice(users)
        organisation = store.create("Organisations", {
            "OrganisationName": company.name, "OrganisationAddress": company.address,
            "OrganisationPostCode": company.zip_code, "OrganisationCity": company.city,
            "OrganisationCountry": company.country_name, "OrganisationTelephone": company.phone,
            "OrganisationWww": company.www, "OrganisationDomain": company.email.split("@", 1)[1],
            "OrganisationVatNumber": company.vat_number, "OrganisationType": SWEDISH_TYPES[company.kind],
            "OrganisationStatus": "Aktiv", "OrganisationOwner": owner["UserId"],
        }, by=owner["UserName"])
        _add_persons(store, organisation, demo_data.people(company, 1, seed=seed), owner)


def _delivery(store: WebcrmStore, rng: random.Random, organisation: dict, owner: dict, products: list[dict]) -> None:
    erp_status = rng.choice(ERP_STATUSES)
    delivery = store.create("Deliveries", {
        "DeliveryOrganisationId": organisation["OrganisationId"], "DeliveryResponsible": owner["UserId"],
        "DeliveryDescription": rng.choice(["Ordre", "Tilbud accepteret", "faktura"]),
        "DeliveryStatus": rng.choice(DELIVERY_STATUSES), "DeliveryCurrencyName": "DKK",
        "DeliveryNumber": f"D{organisation['OrganisationId']:05d}",
        "DeliveryOrderDate": f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}T00:00:00",
        "DeliveryErpStatus": erp_status,
        "DeliveryErpId": str(rng.randint(5000, 9000)) if erp_status == "Synchronized" else "",
    }, by=owner["UserName"])
    total = 0.0
    for position, product in enumerate(rng.sample(products, rng.randint(1, 4)), start=1):
        quantity = float(rng.randint(1, 20))
        discount = rng.choice([0.0, 0.0, 5.0, 10.0])
        store.create("QuotationLines", {
            "QuotationLineOpportunityId": delivery["DeliveryId"], "QuotationLineData1": product[f"{LINKED}Data1"],
            "QuotationLineData2": product[f"{LINKED}Data2"], "QuotationLineQuantity": quantity,
            "QuotationLineLinkedDataId": product[f"{LINKED}Id"],
            "QuotationLinePrice": product[f"{LINKED}Price"], "QuotationLineListPrice": product[f"{LINKED}Price"],
            "QuotationLineCostPrice": product[f"{LINKED}CostPrice"], "QuotationLineDiscount": discount,
            "QuotationLineVatPercentage": 25.0, "QuotationLineSortOrder": position,
        }, by=owner["UserName"])
        total += quantity * product[f"{LINKED}Price"] * (1 - discount / 100)
    delivery["DeliveryOrderValue"] = round(total, 2)
    store.tables["Deliveries"].rows.touch(str(delivery["DeliveryId"]))  # changed in place: the indexes are told


def _add_persons(store: WebcrmStore, organisation: dict[str, Any], people: Any, owner: dict[str, Any]) -> None:
    """The organisation's contact persons, the first one marked relevant for the ERP."""
    for index, person in enumerate(people):
        store.create("Persons", {
            "PersonOrganisationId": organisation["OrganisationId"], "PersonFirstName": person.first_name,
            "PersonLastName": person.last_name, "PersonEmail": person.email, "PersonTitle": person.title,
            "PersonDirectPhone": person.phone, "PersonMobilePhone": person.mobile,
            "PersonCheckMark1": index == 0,
        }, by=owner["UserName"])
