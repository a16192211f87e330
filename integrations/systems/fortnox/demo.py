"""The demo tenant's Fortnox company: Swedish customers, articles, orders, invoices and employees.

Built from :mod:`integrations.systems.demo_data` so that the same companies and products appear on
the CRM side of the demo, and deterministic so every restart shows the same company.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from .. import demo_data
from ..catalog import Entity
from .sandbox_store import FortnoxCompany

CUSTOMERS, ARTICLES, ORDERS, INVOICES, EMPLOYEES = 300, 120, 150, 160, 12


def seed_company(company: FortnoxCompany) -> None:
    """Fill ``company`` (callers hold the sandbox lock); changes are spread over the last 90 days."""
    rng = random.Random("fortnox-demo")
    now = company.now()

    def earlier(max_days: int) -> dt.datetime:
        return now - dt.timedelta(days=rng.randrange(max_days), minutes=rng.randrange(24 * 60))

    customers = list(demo_data.companies(CUSTOMERS, country="SE"))
    for customer in customers:
        company.put(Entity.ORGANISATION, {
            "CustomerNumber": customer.number, "Name": customer.name, "OrganisationNumber": customer.reg_no,
            "VATNumber": customer.vat_number, "VATType": "SEVAT", "Address1": customer.address,
            "ZipCode": customer.zip_code, "City": customer.city, "CountryCode": customer.country_code,
            "Country": customer.country_name, "Phone1": customer.phone, "Email": customer.email,
            "EmailInvoice": customer.email, "WWW": customer.www, "Currency": customer.currency,
            "Type": "PRIVATE" if customer.kind == "private" else "COMPANY", "TermsOfPayment": rng.choice(["10", "30"]),
            "Active": rng.random() > 0.05,
        }, modified=earlier(90))

    articles = list(demo_data.products(ARTICLES))
    for article in articles:
        company.put(Entity.ITEM, {
            "ArticleNumber": article.number, "Description": article.name, "Unit": article.unit,
            "PurchasePrice": float(article.cost_price), "SalesPrice": float(article.list_price), "EAN": article.ean,
            "VAT": 25.0, "Active": True, "Type": "SERVICE" if article.unit == "time" else "STOCK",
            "QuantityInStock": float(rng.randrange(0, 400)), "StockGoods": article.unit != "time",
        }, modified=earlier(90))

    for employee in demo_data.employees(EMPLOYEES, country="SE"):
        company.put(Entity.USER, {
            "EmployeeId": employee.number, "FirstName": employee.first_name, "LastName": employee.last_name,
            "Email": employee.email, "Phone1": employee.mobile, "JobTitle": "Säljare", "PersonelType": "TJM",
            "EmploymentDate": (now.date() - dt.timedelta(days=rng.randrange(200, 3000))).isoformat(),
            "Inactive": False,
        }, modified=earlier(90))

    for number in range(1, ORDERS + 1):
        customer = customers[(number * 7) % len(customers)]
        order_date = now.date() - dt.timedelta(days=rng.randrange(60))
        company.put(Entity.DELIVERY, {
            "DocumentNumber": str(number), "CustomerNumber": customer.number, "CustomerName": customer.name,
            "OrderDate": order_date.isoformat(), "DeliveryDate": (order_date + dt.timedelta(days=7)).isoformat(),
            "Currency": customer.currency, "OrderType": "Order", "Cancelled": number % 23 == 0, "Sent": number % 3 == 0,
            "OurReference": "Säljare", "YourReference": customer.name.split()[0], "Remarks": "",
            "OrderRows": [_order_row(rng, articles) for _ in range(rng.randrange(1, 5))],
        }, modified=earlier(60))

    for number in range(1, INVOICES + 1):
        customer = customers[(number * 11) % len(customers)]
        invoice_date = now.date() - dt.timedelta(days=rng.randrange(90))
        state = number % 5  # 0 open draft, 1 booked unpaid, 2 booked paid, 3 cancelled, 4 booked part-paid
        invoice = {
            "DocumentNumber": str(number), "CustomerNumber": customer.number, "CustomerName": customer.name,
            "InvoiceDate": invoice_date.isoformat(), "DueDate": (invoice_date + dt.timedelta(days=30)).isoformat(),
            "Currency": customer.currency, "CurrencyUnit": 1, "InvoiceType": "INVOICE",
            "Booked": state in (1, 2, 4), "Cancelled": state == 3, "Sent": state in (1, 2, 4),
            "TermsOfPayment": "30", "OCR": f"{number:06d}{rng.randrange(10)}",
            "InvoiceRows": [_invoice_row(rng, articles) for _ in range(rng.randrange(1, 5))],
        }
        if number <= ORDERS and number % 4 == 0:
            invoice["OrderReference"] = str(number)
        company.put(Entity.INVOICE, invoice, modified=earlier(90))
        if state in (2, 4):
            total = Decimal(str(invoice["TotalToPay"]))
            invoice["Balance"] = 0.0 if state == 2 else float((total / 2).quantize(Decimal("0.01")))
            if state == 2:
                invoice["FinalPayDate"] = (invoice_date + dt.timedelta(days=rng.randrange(5, 30))).isoformat()


def _order_row(rng: random.Random, articles: list[demo_data.DemoProduct]) -> dict:
    article = rng.choice(articles)
    quantity = rng.randrange(1, 20)
    return {"ArticleNumber": article.number, "Description": article.name, "OrderedQuantity": str(quantity),
            "DeliveredQuantity": str(quantity), "Price": float(article.list_price), "Discount": 0.0,
            "DiscountType": "PERCENT", "VAT": 25.0, "Unit": article.unit}


def _invoice_row(rng: random.Random, articles: list[demo_data.DemoProduct]) -> dict:
    article = rng.choice(articles)
    return {"ArticleNumber": article.number, "Description": article.name,
            "DeliveredQuantity": str(rng.randrange(1, 20)), "Price": float(article.list_price),
            "Discount": float(rng.choice([0, 0, 0, 5, 10])), "DiscountType": "PERCENT", "VAT": 25,
            "Unit": article.unit}
