"""Demo data for the Customers 1st sandbox: a bike and sports shop with a few hundred customers,
styled products in sizes and colours, three registers, cashiers and a week of sales."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .. import demo_data

if TYPE_CHECKING:
    from .sandbox import Customers1stSandbox

DAYS = 7
CASH, CARD, DEBTOR = ({"title": "Kontant", "cash": 1, "paymenttypeid": 1},
                      {"title": "Dankort", "cash": 0, "paymenttypeid": 2},
                      {"title": "Faktura", "cash": 0, "paymenttypeid": 3})


def seed(sandbox: Customers1stSandbox) -> None:
    """Fill ``sandbox`` the same way every time; no REST hooks are raised (nobody has subscribed yet)."""
    rng = random.Random("customers1st-demo")
    real_now = sandbox.now
    start = real_now().replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=DAYS)
    clock = {"now": start - timedelta(days=30)}
    sandbox.now = lambda: clock["now"]
    try:
        customers = _customers(sandbox)
        products = _products(sandbox, rng)
        cashiers = [sandbox.add_user({"name": e.name, "email": e.email, "shopuser": 1, "showincalendar": 1})
                    for e in demo_data.employees(5)]
        registers = [sandbox.add_register(title, default=int(index == 0), startamount=1500.0)
                     for index, title in enumerate(("Kasse 1", "Kasse 2", "Værksted"))]
        for day in range(DAYS):
            for register_id in registers:
                clock["now"] = start + timedelta(days=day, minutes=rng.randrange(0, 30))
                for _ in range(rng.randrange(6, 12)):
                    clock["now"] += timedelta(minutes=rng.randrange(5, 55))
                    sandbox.add_payment(_sale(rng, products, customers, register_id),
                                        user_id=rng.choice(cashiers))
                clock["now"] = clock["now"].replace(hour=18, minute=rng.randrange(0, 30))
                counted = None if rng.random() < 0.7 else -float(rng.randrange(1, 50))
                balance_user = rng.choice(cashiers)
                if counted is not None:
                    expected = _expected_cash(sandbox, register_id)
                    counted = float(expected + Decimal(str(counted)))
                sandbox.close_register(register_id, user_id=balance_user, cash_counted=counted)
    finally:
        sandbox.now = real_now


def _customers(sandbox: Customers1stSandbox) -> list[int]:
    ids = []
    swedish = demo_data.companies(40, country="SE", first_number=20001)  # customer numbers are the shop's keys
    for company in [*demo_data.companies(260, country="DK"), *swedish]:
        country = company.country_code.lower()
        ids.append(sandbox.add_customer({
            "customerno": company.number, "name": company.name, "phone": company.phone.replace(" ", ""),
            "country": country, "email": company.email, "address": company.address, "zipcode": company.zip_code,
            "city": company.city, "addr_country": country, "vat": company.vat_number, "note": None,
        })["id"])
    for company in list(demo_data.companies(20, country="DK"))[:20]:
        for person in demo_data.people(company, 2):
            ids.append(sandbox.add_customer({
                "name": person.name, "email": person.email, "phone": person.mobile.replace(" ", ""),
                "country": "dk", "permission_marketing": "2024-05-01 10:00:00"})["id"])
    return ids


def _products(sandbox: Customers1stSandbox, rng: random.Random) -> list[dict[str, Any]]:
    products = []
    for demo in demo_data.products(48):
        price = (demo.list_price * Decimal("1.25")).quantize(Decimal("1"))
        products.append(sandbox.add_product({
            "productno": demo.number, "title": f"{demo.name} {demo.size} {demo.colour}", "barcode": demo.ean,
            "price": float(price), "costprice": float(demo.cost_price), "styleno": demo.style_no,
            "size": demo.size, "color": demo.colour, "brand": "Nordlys", "customfield1": demo.unit,
            "stockno": rng.randrange(5, 60), "stockmin": 3, "stockmax": 40,
        }))
    return products


def _sale(rng: random.Random, products: list[dict[str, Any]], customers: list[int], register_id: int
          ) -> dict[str, Any]:
    articles = []
    for product in rng.sample(products, rng.randrange(1, 4)):
        token = round(rng.random(), 6)
        quantity = rng.choice((1, 1, 1, 2, 3))
        articles.append({"productid": product["id"], "title": product["title"], "price": product["price"],
                         "costprice": product["costprice"], "quantity": quantity, "vat": 25,
                         "discountToken": token})
        if rng.random() < 0.2:  # a discount is its own line pointing at the discounted one
            discount = float((Decimal(str(product["price"])) * quantity * Decimal("0.10")).quantize(Decimal("1")))
            articles.append({"title": "Rabat 10%", "price": -discount, "quantity": 1, "vat": 25,
                             "discountToken": round(rng.random(), 6), "discountedToken": token})
    total = float(sum(Decimal(str(a["price"])) * Decimal(str(a["quantity"])) for a in articles))
    sale: dict[str, Any] = {"articles": articles, "cashRegisterId": register_id}
    if rng.random() < 0.25:
        sale.update(invoice=1, customerid=rng.choice(customers[:80]), paymenttypes=[{**DEBTOR, "amount": total}])
    else:
        sale["paymenttypes"] = [{**rng.choice((CASH, CARD)), "amount": total}]
        if rng.random() < 0.15:
            sale["customerid"] = rng.choice(customers)
    return sale


def _expected_cash(sandbox: Customers1stSandbox, register_id: int) -> Decimal:
    done = max((b["endpaymentno"] for b in sandbox.balances.values() if b["cashregisterid"] == register_id),
               default=0)
    cash = sum((Decimal(str(p["paidwithcash"])) for p in sandbox.payments.values()
                if p.get("cashRegisterId") == register_id and p["paymenttypes"] and p["paymentno"] > done),
               Decimal(0))
    return Decimal(str(sandbox.registers[register_id]["startamount"])) + cash

