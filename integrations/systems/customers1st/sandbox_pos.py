"""The point-of-sale half of the Customers 1st sandbox: registers, cashiers (users), POS payments and
POS balances (the day's closing of a register)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from ..sandbox import json_response, read_json
from . import sandbox_store as store

if TYPE_CHECKING:
    from .sandbox import Customers1stSandbox

PAYMENT_QUERY = ("freetext", "note", "fromdate", "cash", "invoice", "todate", "productid", "paymentno_after",
                 "updated_after", "userid", "customerid", "customerPaymentSum", "paymenttypeid", "paymentid",
                 "bamdeskdevice", "fromPartnerStores", "returnedpayments", "extra", "paginationStart",
                 "paginationPageLength", "sortOrder", "sortField", "cashRegisterId", "status")
BALANCE_QUERY = ("paginationStart", "paginationPageLength", "sortOrder", "sortField", "userId", "cashRegisterId",
                 "toDate", "fromDate")


def _rule(path: str, method: str, endpoint: str) -> Rule:
    return Rule(path, methods=[method], endpoint=endpoint)


class PosRoutes:
    """Mixed into :class:`Customers1stSandbox`; ``self`` is that sandbox."""

    pos_rules = [
        _rule("/pospayments", "GET", "payments_search"), _rule("/pospayments", "POST", "payment_add"),
        _rule("/pospayments/<int:payment_id>", "GET", "payment_get"),
        _rule("/pospayments/<int:payment_id>", "PUT", "payment_update"),
        _rule("/posbalances", "GET", "balances_search"),
        _rule("/registers", "GET", "registers_list"), _rule("/registers", "POST", "register_add_route"),
        _rule("/registers/<int:register_id>", "GET", "register_get"),
        _rule("/registers/<int:register_id>", "PUT", "register_update"),
        _rule("/registers/<int:register_id>", "DELETE", "register_delete"),
        _rule("/users", "GET", "users_list"), _rule("/users", "POST", "user_add_route"),
        _rule("/users/<int:user_id>", "PUT", "user_update"), _rule("/users/<int:user_id>", "DELETE", "user_delete"),
    ]

    def init_pos(self: Customers1stSandbox) -> None:
        self.registers: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.payments: dict[int, dict[str, Any]] = {}
        self.balances: dict[int, dict[str, Any]] = {}

    # -- registers -------------------------------------------------------------------------------
    def add_register(self: Customers1stSandbox, title: str, *, default: int = 0, startamount: float = 0.0) -> int:
        register_id = self.next_id("registers")
        with self.lock:
            self.registers[register_id] = {
                "id": register_id, "title": title, "paymenttypes": [], "bamdeskdevices": [], "netsdevices": [],
                "paymenttypeids": None, "netsdeviceids": None, "bamdeskdeviceids": None, "cashactive": 1,
                "default": default, "startamount": startamount, "pospaymentmethodrelations": [],
                "deleted_at": None}
        return register_id

    def _register(self: Customers1stSandbox, register_id: int) -> dict[str, Any]:
        row = self.registers.get(register_id)
        if row is None:
            raise store.refuse(404, f"Register {register_id} not found", "CLIENT_ERROR")
        return row

    def registers_list(self: Customers1stSandbox, request: Request) -> Response:
        deleted = request.args.get("includeDeleted") in ("1", "true")
        with self.lock:
            rows = [dict(r) for r in self.registers.values() if deleted or not r["deleted_at"]]
        return json_response({"content": rows})

    def _register_content(self: Customers1stSandbox, request: Request) -> dict[str, Any]:
        body = read_json(request)
        content = body.get("content") if isinstance(body, dict) else None
        if not isinstance(content, dict) or not isinstance(content.get("title"), str):
            raise store.validation_failed([{"name": "content.title", "code": "error_required"}])
        return content

    def register_add_route(self: Customers1stSandbox, request: Request) -> Response:
        content = self._register_content(request)
        register_id = self.add_register(content["title"], default=int(content.get("default") or 0),
                                        startamount=float(content.get("startamount") or 0))
        with self.lock:
            return json_response({"content": dict(self.registers[register_id])}, status=201)

    def register_get(self: Customers1stSandbox, request: Request, register_id: int) -> Response:
        with self.lock:
            return json_response({"content": dict(self._register(register_id))})

    def register_update(self: Customers1stSandbox, request: Request, register_id: int) -> Response:
        content = self._register_content(request)
        with self.lock:
            row = self._register(register_id)
            row.update(title=content["title"], default=content.get("default") or 0,
                       startamount=content.get("startamount"))
            return json_response({"content": dict(row)})

    def register_delete(self: Customers1stSandbox, request: Request, register_id: int) -> Response:
        with self.lock:
            row = self._register(register_id)
            row["deleted_at"] = self.stamp()
            return json_response({"content": dict(row)})

    # -- users -----------------------------------------------------------------------------------
    def add_user(self: Customers1stSandbox, content: Mapping[str, Any]) -> int:
        user_id = self.next_id("users")
        with self.lock:
            self.users[user_id] = {
                "id": user_id, "name": str(content.get("name") or ""), "email": content.get("email"), "amount": 0,
                "shopuser": int(content.get("shopuser", 1) or 0), "apiuser": int(content.get("apiuser") or 0),
                "hasPasscode": 0, "hasPassword": 0, "apitoken": None, "restrictions": [], "deleted": 0,
                "mainuser": 1 if user_id == 1 else 0, "showincalendar": int(content.get("showincalendar") or 0),
                "newauthuser": 1}
        return user_id

    def _user(self: Customers1stSandbox, user_id: int) -> dict[str, Any]:
        row = self.users.get(user_id)
        if row is None or row["deleted"]:
            raise store.refuse(404, f"User {user_id} not found", "CLIENT_ERROR")
        return row

    def users_list(self: Customers1stSandbox, request: Request) -> Response:
        trashed = request.args.get("withTrashed") in ("1", "true")
        with self.lock:
            rows = [dict(r) for r in self.users.values() if trashed or not r["deleted"]]
        return json_response({"content": rows})

    def _user_content(self: Customers1stSandbox, request: Request) -> dict[str, Any]:
        body = read_json(request)
        content = body.get("content") if isinstance(body, dict) else None
        if not isinstance(content, dict) or not str(content.get("name") or "").strip():
            raise store.validation_failed([{"name": "content.name", "code": "error_required"}])
        return content

    def user_add_route(self: Customers1stSandbox, request: Request) -> Response:
        user_id = self.add_user(self._user_content(request))
        with self.lock:
            return json_response({"content": dict(self.users[user_id]), "apitoken": None})

    def user_update(self: Customers1stSandbox, request: Request, user_id: int) -> Response:
        content = self._user_content(request)
        with self.lock:
            row = self._user(user_id)
            row.update({k: content[k] for k in ("name", "email", "shopuser", "apiuser", "showincalendar")
                        if k in content})
            return json_response({"content": dict(row), "apitoken": None})

    def user_delete(self: Customers1stSandbox, request: Request, user_id: int) -> Response:
        with self.lock:
            row = self._user(user_id)
            if row["mainuser"]:
                raise store.refuse(400, "The main user cannot be deleted", "USER_CANT_DELETE_MAINUSER")
            row["deleted"] = 1
        return Response(status=204)

    # -- POS payments ----------------------------------------------------------------------------
    def add_payment(self: Customers1stSandbox, content: Any, *, user_id: int,
                    request: Request | None = None) -> dict[str, Any]:
        """Ring up a sale: check it, number it, total it, take the stock and raise ``pospayment.created``."""
        fields = store.check_fields(content, store.PAYMENT_WRITABLE, store.PAYMENT_READ_ONLY, prefix="")
        articles = store.check_articles(fields.get("articles"))
        paymenttypes = store.check_paymenttypes(fields.get("paymenttypes"))
        status = fields.get("status") or "completed"
        totals = store.payment_totals(articles, paymenttypes)
        if status == "completed" and paymenttypes and totals["paid"] + 0.005 < totals["sum"]:
            raise store.refuse(400, f"Paid {totals['paid']:.2f} of {totals['sum']:.2f}", "PAYMENT_NOT_PAID_ENOUGH")
        with self.lock:
            if fields.get("customerid") is not None and fields["customerid"] not in self.customers:
                raise store.refuse(400, f"Customer {fields['customerid']} not found", "BAD_REQUEST")
            if fields.get("cashRegisterId") is not None:
                self._register(fields["cashRegisterId"])
            payment_id = self.next_id("payments", 880_001)
            stamp = self.stamp()
            rows = []
            for article in articles:
                rows.append({**article, "id": self.next_id("articles", 5_500_001), "paymentid": payment_id,
                             "date": stamp, "discountToken": article.get("discountToken") or round(
                                 self.random.random(), 6)})
            for row in rows:  # a discount line points at the line it discounts through the tokens
                if store.is_discount(row):
                    for target in rows:
                        if not store.is_discount(target) and target["discountToken"] == row["discountedToken"]:
                            target["discount_ppm_id"] = row["id"]
                product = self.products.get(row.get("productid") or 0)
                if product is not None and product.get("stockno") is not None and not store.is_discount(row):
                    product["stockno"] -= int(Decimal(str(row["quantity"])))
            self.payments[payment_id] = {
                **{k: fields.get(k) for k in ("customerid", "cashRegisterId", "note", "returnpaymentid")},
                "id": payment_id, "paymentno": self.next_id("paymentno", 10_001), "userid": user_id,
                "date": stamp, "updated_at": stamp, "invoice": int(fields.get("invoice") or 0),
                "customerpayment": int(fields.get("customerpayment") or 0), "status": status,
                "remainingamount": max(0.0, store.money(totals["sum"] - totals["paid"])) if paymenttypes else 0.0,
                "articles": rows, "paymenttypes": [
                    {**p, "id": self.next_id("paymenttypes", 990_001), "paymentid": payment_id,
                     "cash": int(p.get("cash") or 0), "status": p.get("status") or "captured",
                     "unroundedcash": p["amount"] if p.get("cash") else None} for p in paymenttypes],
                **{k: totals[k] for k in ("sum", "discountsum", "paidwithcash", "numberofmaterials")},
            }
            payment = self.payment_object(self.payments[payment_id], with_articles=True)
        self.notify(request, "pospayment.created", payment)
        return payment

    def payment_object(self: Customers1stSandbox, row: Mapping[str, Any], *, with_articles: bool) -> dict[str, Any]:
        """A stored payment as ``POSPayment``; articles only when asked for (``extra=1``)."""
        register = self.registers.get(row.get("cashRegisterId") or 0)
        user = self.users.get(row["userid"])
        customer = self.customers.get(row.get("customerid") or 0)
        payment = {k: v for k, v in row.items() if k != "articles"}
        payment.update(
            cashRegisterTitle=register["title"] if register else None,
            cashregister={"title": register["title"], "id": register["id"]} if register else None,
            user={"name": user["name"], "id": user["id"]} if user else None,
            taskids=[], cash=None, secondhand=0, lastmodifiedbyuserid=None, lastmodifiedbyuser=None)
        if customer:  # a null ``$ref`` object is left out rather than sent as null
            payment["customer"] = store.customer_object(customer)
        if with_articles:
            payment["articles"] = [store.article_object(a, self.products.get(a.get("productid") or 0))
                                   for a in row["articles"]]
        return payment

    def _payment(self: Customers1stSandbox, payment_id: int) -> dict[str, Any]:
        row = self.payments.get(payment_id)
        if row is None:
            raise store.refuse(404, f"Payment {payment_id} not found", "CLIENT_ERROR")
        return row

    def payments_search(self: Customers1stSandbox, request: Request) -> Response:
        extra = request.args.get("extra") not in (None, "", "0")
        with self.lock:
            rows = [self.payment_object(r, with_articles=extra) for r in self.payments.values()]
        rows = self.after(request, "updated_after", rows)
        if request.args.get("fromdate"):
            rows = [r for r in rows if r["date"] >= request.args["fromdate"].replace("T", " ")]
        if request.args.get("todate"):
            rows = [r for r in rows if r["date"] <= request.args["todate"].replace("T", " ")]
        for param in ("customerid", "cashRegisterId", "invoice", "userid", "status"):
            if request.args.get(param):
                rows = [r for r in rows if str(r.get(param)) == request.args[param]]
        if request.args.get("paymentno_after"):
            rows = [r for r in rows if r["paymentno"] >= self.int_arg(request, "paymentno_after", 0)]
        return json_response(self.page(request, rows, PAYMENT_QUERY))

    def payment_add(self: Customers1stSandbox, request: Request) -> Response:
        """POST takes and answers the bare ``POSPayment`` (no ``content`` wrapper)."""
        return json_response(self.add_payment(read_json(request), user_id=self.api_user(request) or 0,
                                              request=request))

    def payment_get(self: Customers1stSandbox, request: Request, payment_id: int) -> Response:
        with self.lock:
            return json_response({"content": self.payment_object(self._payment(payment_id), with_articles=True)})

    def payment_update(self: Customers1stSandbox, request: Request, payment_id: int) -> Response:
        """Only the note, status, customer and register of a rung-up payment change."""
        body = read_json(request)
        content = body.get("content") if isinstance(body, dict) else None
        fields = store.check_fields(content, store.PAYMENT_WRITABLE,
                                    (*store.PAYMENT_READ_ONLY, "articles", "paymenttypes", "taskids"))
        if fields.get("status") not in (None, *store.PAYMENT_STATUSES):
            raise store.validation_failed([{"name": "content.status", "code": "error_enum",
                                            "expected": list(store.PAYMENT_STATUSES)}])
        with self.lock:
            row = self._payment(payment_id)
            row.update({k: fields[k] for k in ("note", "status", "customerid", "cashRegisterId") if k in fields})
            row["updated_at"] = self.stamp()
            return json_response({"content": self.payment_object(row, with_articles=True)})

    # -- POS balances ----------------------------------------------------------------------------
    def close_register(self: Customers1stSandbox, register_id: int, *, user_id: int, cash_counted: float | None = None,
                       request: Request | None = None) -> dict[str, Any]:
        """The day's closing ("kasseopgørelse") of one register over the payments since the last one."""
        with self.lock:
            register = self._register(register_id)
            done = max((b["endpaymentno"] for b in self.balances.values() if b["cashregisterid"] == register_id),
                       default=0)
            rows = sorted((p for p in self.payments.values() if p.get("cashRegisterId") == register_id
                           and p["paymentno"] > done and p["status"] == "completed"), key=lambda p: p["paymentno"])
            revenue = sum((Decimal(str(p["sum"])) for p in rows), Decimal(0))
            cash = sum((Decimal(str(p["paidwithcash"])) for p in rows), Decimal(0))
            vat: dict[float, Decimal] = {}
            cost = Decimal(0)
            for payment in rows:
                for article in payment["articles"]:
                    amount = store.article_object(article, None)["vatamount"]
                    vat[article["vat"]] = vat.get(article["vat"], Decimal(0)) + Decimal(str(amount)) * Decimal(
                        str(article["quantity"]))
                    cost += Decimal(str(article.get("costprice") or 0)) * Decimal(str(article["quantity"]))
            by_type: dict[str, Decimal] = {}
            for payment in rows:
                for relation in payment["paymenttypes"]:
                    by_type[relation["title"]] = by_type.get(relation["title"], Decimal(0)) + Decimal(
                        str(relation["amount"]))
            start = float(register.get("startamount") or 0)
            expected = store.money(Decimal(str(start)) + cash)
            counted = expected if cash_counted is None else cash_counted
            balance_id = self.next_id("balances", 3_001)
            stamp = self.stamp()
            balance = {
                "id": balance_id, "date": stamp, "startdate": rows[0]["date"] if rows else stamp, "enddate": stamp,
                "numpayments": len(rows), "cashstart": start, "cashcounted": counted, "expense": 0.0,
                "cashrevenue": store.money(cash),
                "cashtobank": store.money(Decimal(str(counted)) - Decimal(str(start))),
                "cashdifference": store.money(Decimal(str(counted)) - Decimal(str(expected))),
                "totalrevenue": store.money(revenue), "cashregistertitle": register["title"],
                "cashregisterid": register_id, "lastdinerosync": None, "lasteconomicsync": None, "userid": user_id,
                "paymenttypes": [{"paymenttypeid": index + 1, "title": title, "amount": store.money(amount)}
                                 for index, (title, amount) in enumerate(sorted(by_type.items()))],
                "giftcardissued": 0.0, "giftcardused": 0.0, "returnsum": 0.0, "economicinvoicesum": None,
                "totalsenttobookkeeping": store.money(revenue), "totalvat": store.money(sum(vat.values(), Decimal(0))),
                "totalvatbypercentage": [{"percentage": rate, "amount": store.money(amount)}
                                         for rate, amount in sorted(vat.items())],
                "totalcostprice": store.money(cost), "note": None, "customerpaymentsum": 0.0,
                "startpaymentno": rows[0]["paymentno"] if rows else done + 1,
                "endpaymentno": rows[-1]["paymentno"] if rows else done,
            }
            self.balances[balance_id] = balance
        self.notify(request, "posbalance.created", balance)
        return dict(balance)

    def balances_search(self: Customers1stSandbox, request: Request) -> Response:
        with self.lock:
            rows = [dict(b) for b in self.balances.values()]
        if request.args.get("fromDate"):
            rows = [r for r in rows if r["date"] >= request.args["fromDate"].replace("T", " ")]
        if request.args.get("toDate"):
            rows = [r for r in rows if r["date"] <= request.args["toDate"].replace("T", " ")]
        for param, field in (("cashRegisterId", "cashregisterid"), ("userId", "userid")):
            if request.args.get(param):
                rows = [r for r in rows if str(r.get(field)) == request.args[param]]
        return json_response(self.page(request, rows, BALANCE_QUERY))
