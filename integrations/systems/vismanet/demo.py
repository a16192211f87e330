"""Demo data for the Visma.net sandbox: a Danish company with customers, contacts, items, orders,
invoices in every state and employees, written through the same store rules as the API."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from .. import demo_data
from ..catalog import Entity

if TYPE_CHECKING:
    from .sandbox import VismaNetSandbox

CUSTOMERS_DK = 220
CUSTOMERS_SE = 80
ITEMS = 120
ORDERS = 150
INVOICES = 200
EMPLOYEES = 8


def _v(value: Any) -> dict[str, Any]:
    return {"value": value}


def seed_demo(sandbox: VismaNetSandbox) -> None:
    """Fill the company once; no webhooks go out for the seed."""
    rng = random.Random(11)
    store = sandbox.store
    with sandbox.lock:
        if store.ledgers[Entity.ORGANISATION].rows:
            return
        customers = [*demo_data.companies(CUSTOMERS_DK, country="DK"),
                     *demo_data.companies(CUSTOMERS_SE, country="SE", first_number=20001)]
        for company in customers:
            store.create(Entity.ORGANISATION, {
                "number": _v(company.number), "name": _v(company.name), "status": _v("Active"),
                "currencyId": _v(company.currency), "corporateId": _v(company.reg_no),
                "vatRegistrationId": _v(company.vat_number), "vatZoneId": _v("01"),
                "mainAddress": _v({"addressLine1": _v(company.address), "postalCode": _v(company.zip_code),
                                   "city": _v(company.city), "countryId": _v(company.country_code)}),
                "mainContact": _v({"name": _v(company.name), "email": _v(company.email),
                                   "phone1": _v(company.phone), "web": _v(company.www)}),
            })
            for person in demo_data.people(company, rng.randint(1, 3)):
                store.create(Entity.PERSON, {
                    "firstName": _v(person.first_name), "lastName": _v(person.last_name),
                    "email": _v(person.email), "phone1": _v(person.phone), "phone2": _v(person.mobile),
                    "position": _v(person.title), "businessAccount": _v(company.number),
                })
        products = list(demo_data.products(ITEMS))
        for product in products:
            store.create(Entity.ITEM, {
                "inventoryNumber": _v(product.number), "description": _v(product.name),
                "defaultPrice": _v(float(product.list_price)), "type": _v("FinishedGoodItem"),
                "vatCode": _v("3"), "itemClass": _v("GOODS"),
            })
        for _ in range(ORDERS):
            company = rng.choice(customers)
            store.create(Entity.DELIVERY, {
                "customer": _v(company.number), "description": _v("Ordre fra demo"),
                "lines": [{"operation": "Insert", "inventoryId": _v(item.number), "quantity": _v(rng.randint(1, 20)),
                           "unitPrice": _v(float(item.list_price))}
                          for item in rng.sample(products, rng.randint(1, 4))],
            })
        for index in range(INVOICES):
            company = rng.choice(customers)
            row = store.create(Entity.INVOICE, {
                "customerNumber": _v(company.number), "hold": _v(index % 7 == 0),
                "invoiceLines": [{"operation": "Insert", "inventoryNumber": _v(item.number),
                                  "quantity": _v(rng.randint(1, 10)),
                                  "unitPriceInCurrency": _v(float(item.list_price))}
                                 for item in rng.sample(products, rng.randint(1, 3))],
            })
            state = index % 5
            if state in (1, 2) and not row["hold"]:
                store.release_invoice(row["referenceNumber"])
            elif state == 3 and not row["hold"]:
                store.release_invoice(row["referenceNumber"], paid=True)
        for employee in demo_data.employees(EMPLOYEES):
            number = employee.number.zfill(3)
            store.insert(Entity.USER, number, {
                "employeeId": int(employee.number), "employeeNumber": number, "employeeName": employee.name,
                "status": "Active",
                "contact": {"firstName": employee.first_name, "lastName": employee.last_name,
                            "name": employee.name, "email": employee.email, "phone3": employee.mobile},
            })
