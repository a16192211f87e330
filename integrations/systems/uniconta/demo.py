"""The demo company: debtors, contacts, items with variant user fields, employees, orders and invoices.

Built from :mod:`integrations.systems.demo_data` so the same companies (by number and CVR) also exist
in the CRM sandboxes, through the same rules the REST face applies, so totals and numbers are real.
"""

from __future__ import annotations

import random
from decimal import Decimal

from .. import demo_data
from .sandbox_store import UnicontaCompany

DEBTORS = 300
ITEMS = 120
ORDERS = 80
#: Every ``INVOICE_EVERY``-th order has been invoiced; the rest are still open sales orders.
INVOICE_EVERY = 2
PAYMENT_TERMS = ("Netto 8", "Netto 14", "Netto 30", "LM+30")
DEBTOR_GROUPS = ("Indland", "Indland", "Indland", "EU", "Udland")
POS_DEBTOR = "99999"


def seed_demo_company(company: UnicontaCompany) -> None:
    """Fill an empty company; calling it twice adds nothing.

    Every fifth debtor has an EAN (the GLN Danish e-invoices (OIOUBL/NemHandel) are addressed to), valid and
    its own; items carry their barcode in EAN and xBarcode.
    """
    if company.rows("DebtorClient"):
        return
    rng = random.Random("uniconta-demo")
    employees = list(demo_data.employees(8))
    for employee in employees:
        company.insert("EmployeeClient", {"Number": employee.number, "Name": employee.name,
                                          "Email": employee.email, "Mobil": employee.mobile,
                                          "Title": "Sælger", "Group": "Salg"})
    debtors = list(demo_data.companies(DEBTORS, country="DK"))
    for index, debtor in enumerate(debtors):
        group = DEBTOR_GROUPS[index % len(DEBTOR_GROUPS)]
        company.insert("DebtorClient", {
            "Account": debtor.number, "Name": debtor.name, "Address1": debtor.address,
            "ZipCode": debtor.zip_code, "City": debtor.city, "Country": "Denmark", "Phone": debtor.phone,
            "ContactEmail": debtor.email, "InvoiceEmail": debtor.email, "CompanyRegNo": debtor.reg_no,
            "VatNumber": debtor.vat_number, "VatZone": "Domestic" if group == "Indland" else
            ("EU" if group == "EU" else "Abroad"), "Payment": PAYMENT_TERMS[index % len(PAYMENT_TERMS)],
            "Group": group, "Currency": debtor.currency, "Employee": employees[index % len(employees)].number,
            "CreditMax": Decimal(rng.choice((0, 25000, 50000, 100000))), "Blocked": index % 37 == 0,
            "Www": debtor.www, "EAN": demo_data.ean13(demo_data.DEBTOR_GLN_PREFIX, index) if index % 5 == 0 else None,
        })
        if index < 200:
            for person in demo_data.people(debtor, 1 + index % 3):
                company.insert("ContactClient", {"Name": person.name, "Email": person.email,
                                                 "Mobil": person.mobile, "Title": person.title,
                                                 "DCType": "Debtor", "DCAccount": debtor.number})
    # The debtor the POS books sales without a customer on (Customers 1st → Uniconta, "default POS debtor").
    company.insert("DebtorClient", {"Account": POS_DEBTOR, "Name": "Kontantsalg (POS)", "Group": "Indland",
                                    "Country": "Denmark", "Currency": "DKK"})
    products = list(demo_data.products(ITEMS))
    for product in products:
        company.insert("InvItemClient", {
            "Item": product.number, "Name": product.name, "Group": "Varer", "Unit": product.unit,
            "CostPrice": product.cost_price, "SalesPrice1": product.list_price, "EAN": product.ean,
            "UseVariants": False, "xStyleNo": product.style_no, "xSize": product.size,
            "xColor": product.colour, "xBarcode": product.ean,
        })
    for number in range(ORDERS):
        debtor = debtors[rng.randrange(DEBTORS)]
        order, _ = company.insert("DebtorOrderClient", {
            "Account": debtor.number, "YourRef": f"Indkøb {number + 1}", "OurRef": employees[number % 8].name,
            "DeliveryDate": f"2025-{1 + number % 12:02d}-{1 + number % 27:02d}T00:00:00"})
        for _line in range(1 + number % 4):
            product = products[rng.randrange(ITEMS)]
            company.insert("DebtorOrderLineClient", {
                "OrderNumber": order["OrderNumber"], "Item": product.number, "Qty": Decimal(1 + rng.randrange(9)),
                "DiscountPct": Decimal(rng.choice((0, 0, 5, 10))), "Vat": "S25"})
        if number % INVOICE_EVERY == 0:
            company.post_invoice(order["OrderNumber"], f"2025-{1 + number % 12:02d}-28")
