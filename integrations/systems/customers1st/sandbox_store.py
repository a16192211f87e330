"""The sandbox's records in Customers 1st's own shapes, and the checks the real API makes on writes.

Field names, types and read-only flags follow the ``Customer``, ``Product``, ``POSPayment``,
``PaymentArticle``, ``POSBalance``, ``POSRegister`` and ``User`` schemas of the OpenAPI description.
Request validation answers like the vendor's OpenAPI middleware (servicepos/laravel-openapi-middleware):
``{"message": "Request validation failed", "errors": [{"name", "code", ...}]}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from werkzeug.wrappers import Response

from ..catalog import FieldSpec
from ..sandbox import SandboxError, json_response, over_long_values

STORE_ID = 4711
DEFAULT_VAT = 25.0

STRING, NUMBER, INTEGER, BOOLEAN, ARRAY = "string", "number", "integer", "boolean", "array"

#: Writable fields of ``Customer``: name → (type, nullable).
CUSTOMER_WRITABLE: dict[str, tuple[str, bool]] = {
    "name": (STRING, True), "phone": (STRING, True), "country": (STRING, True), "email": (STRING, True),
    "address": (STRING, True), "city": (STRING, True), "zipcode": (STRING, True),
    "addr_country": (STRING, True), "birthdate": (STRING, True), "ean": (STRING, True), "vat": (STRING, True),
    "customerno": (STRING, True), "economic_customernumber": (INTEGER, True),
    "economic_balance": (NUMBER, True), "balance": (NUMBER, True), "note": (STRING, True),
    "draft": (INTEGER, False), "tags": (ARRAY, True), "permission_marketing": (STRING, True),
    "updated_at": (STRING, True), "deleted_at": (STRING, True),
}
CUSTOMER_READ_ONLY = ("id", "storeid", "createddate", "phone_e164", "lat", "lng", "deleted",
                      "loyaltypointsbalance", "loyalty_member_since", "store")

PRODUCT_WRITABLE: dict[str, tuple[str, bool]] = {
    "title": (STRING, False), "productno": (STRING, False), "barcode": (STRING, True),
    "alternativebarcode": (STRING, True), "serieno": (STRING, True), "price": (NUMBER, True),
    "costprice": (NUMBER, True), "recommendedretailprice": (NUMBER, True), "stockno": (INTEGER, True),
    "stockmin": (INTEGER, True), "stockmax": (INTEGER, True), "suppliers": (ARRAY, True),
    "color": (STRING, True), "styleno": (STRING, True), "size": (STRING, True), "brand": (STRING, True),
    "vat": (NUMBER, True), "tags": (ARRAY, True), "customfield1": (STRING, True),
    "customfield2": (STRING, True), "customfield3": (STRING, True), "customfield4": (STRING, True),
    "discountprice": (NUMBER, True), "webshopurl": (STRING, True), "vatmode": (STRING, False),
    "updated_at": (STRING, True), "availabletoorder": (INTEGER, True), "syncproductdatawebshop": (BOOLEAN, True),
}
PRODUCT_READ_ONLY = ("id", "pricewithoutvat", "previousstockno", "stocknochangetype", "suppliername",
                     "lastordered", "created", "reservedstock", "totalstock", "totalavailablestock",
                     "tobeordered", "onshoppinglist", "ordered", "needsordering", "calculcatedvat", "storeid",
                     "image")

PAYMENT_WRITABLE: dict[str, tuple[str, bool]] = {
    "customerid": (INTEGER, True), "remainingamount": (NUMBER, True), "cashRegisterId": (INTEGER, True),
    "updated_at": (STRING, True), "invoice": (INTEGER, False), "customerpayment": (INTEGER, False),
    "articles": (ARRAY, True), "taskids": (ARRAY, False), "paymenttypes": (ARRAY, True),
    "cash": (INTEGER, True), "secondhand": (INTEGER, True), "status": (STRING, True),
    "returnpaymentid": (INTEGER, True), "lastmodifiedbyuserid": (INTEGER, True), "note": (STRING, True),
}
PAYMENT_READ_ONLY = ("id", "paymentno", "userid", "date", "numberofmaterials", "sum", "discountsum",
                     "cashRegisterTitle", "cashregister", "user", "customer", "paidwithcash", "storeid",
                     "customerpaymentsum", "lastmodifiedbyuser", "permission")
ARTICLE_WRITABLE: dict[str, tuple[str, bool]] = {
    "title": (STRING, False), "price": (NUMBER, False), "costprice": (NUMBER, True),
    "quantity": (NUMBER, False), "vat": (NUMBER, False), "vatmode": (STRING, True),
    "giftcardno": (STRING, True), "usedGiftcardId": (INTEGER, True), "giftcardid": (INTEGER, True),
    "customerarticleid": (INTEGER, True), "productno": (STRING, True), "productid": (INTEGER, True),
    "taskmaterialid": (INTEGER, True), "discountToken": (NUMBER, False), "discountedToken": (NUMBER, True),
    "paymentid": (INTEGER, True), "deletedpromotion": (INTEGER, True), "discounttagid": (INTEGER, True),
    "promotionid": (INTEGER, True), "bundleid": (INTEGER, True), "type": (STRING, True),
    "recurringpaymentid": (INTEGER, True), "servicesubscriptionid": (INTEGER, True),
}
ARTICLE_READ_ONLY = ("id", "pricewithoutvat", "vatamount", "usedGiftcard", "giftcard", "product",
                     "discount_ppm_id", "servicesubscription", "loyaltypoints", "addonparentmaterialid", "date",
                     "discounttag", "taskmaterial")
PAYMENT_TYPE_FIELDS = ("id", "title", "paymenttypeid", "amount", "cash", "accountno", "currency", "exchangerate",
                       "receipts", "error_message", "status", "bamdesk_messageid")
PAYMENT_STATUSES = ("initialized", "parked", "in_progress", "completed", "cancelled")

#: The events of the vendor's ``pages/_rest-hook-events.md``.
HOOK_EVENTS = (
    "notification.created", "inventorycount.created", "inventorycount.updated", "inventorycount.deleted",
    "product.created", "product.updated", "product.deleted", "inventorylevel.updated", "inventorylevel.created",
    "supplier.updated", "supplier.deleted", "supplier.created", "pospayment.created", "posbalance.created",
    "customer.created", "customer.updated", "customer.deleted", "shoppinglistorder.created",
    "shoppinglistorder.deleted", "shoppinglistitem.created", "shoppinglistitem.updated",
    "shoppinglistitem.deleted", "customertags.created", "customertags.updated", "customertags.deleted",
    "customerarticle.created", "customerarticle.updated", "customerarticle.deleted", "taskmaterial.created",
    "taskmaterial.updated", "taskmaterial.deleted", "task.created", "task.updated", "task.deleted",
    "taskcomment.created", "taskcomment.updated", "taskcomment.deleted", "servicesubscription.created",
    "servicesubscription.deleted", "stocktransaction.committed", "giftcard.created", "giftcard.updated",
    "giftcard.deleted", "loyaltybalance.updated", "salesorder.created", "salesorder.updated",
    "salesorderfulfillment.created", "salesorderfulfillment.updated",
)

CUSTOMER_QUERY = ("count", "filter", "paginationStart", "paginationPageLength", "sortOrder", "customerno",
                  "sortField", "allowMarketing", "name", "email", "phoneno", "ean", "cvr", "tags", "freetext",
                  "partOfLoyaltyClub", "updated_after")
PRODUCT_QUERY = ("cursor", "barcode", "brand", "color", "size", "customfield1", "customfield2", "customfield3",
                 "customfield4", "count", "freetext", "id", "inStock", "needsOrdering", "paginationStart",
                 "paginationPageLength", "productNo", "styleNo", "serieNo", "hasSerieNo", "needsrrppriceupdate",
                 "stocktransactionlistid", "sort-order", "sort-field", "suppliername", "tag", "tags", "supplierid",
                 "partnerstoreid", "vatmode", "updated_after", "created_before", "updated_before",
                 "getDiscountPrice", "hasSyncproductdatawebshop")

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    STRING: (str,), NUMBER: (int, float), INTEGER: (int,), BOOLEAN: (bool,), ARRAY: (list,),
}


class JsonStringError(SandboxError):
    """An error whose body is a bare JSON string, as the spec documents for ``GET /customers/{id}`` 404."""

    def get_response(self, environ=None, scope=None) -> Response:  # type: ignore[override]
        return json_response(self.body, status=self.code)


def error_body(status: int, message: str, errorcode: str) -> dict[str, Any]:
    """The vendor's ``ErrorResponse``."""
    return {"message": message, "errorcode": errorcode, "code": status, "logid": None, "storeid": STORE_ID}


def refuse(status: int, message: str, errorcode: str) -> SandboxError:
    return SandboxError(status, error_body(status, message, errorcode))


def validation_failed(errors: list[dict[str, Any]]) -> SandboxError:
    return SandboxError(400, {"message": "Request validation failed", "errors": errors})


def check_fields(content: Any, writable: Mapping[str, tuple[str, bool]], read_only: tuple[str, ...],
                 prefix: str = "content", fields: Iterable[FieldSpec] = ()) -> dict[str, Any]:
    """Type-check a written object like the vendor's schema validator; read-only fields are ignored.

    With the entity's catalog ``fields``, text longer than the schema's ``maxLength`` is refused too
    (``error_maxLength``, the validator's name for that keyword).
    """
    if not isinstance(content, dict):
        raise validation_failed([{"name": prefix, "code": "error_type", "expected": ["object"],
                                  "used": type(content).__name__}])
    errors: list[dict[str, Any]] = []
    accepted: dict[str, Any] = {}
    for name, value in content.items():
        path = f"{prefix}.{name}" if prefix else name
        if name in read_only:
            continue
        if name not in writable:
            errors.append({"name": path, "code": "error_additional"})
            continue
        kind, nullable = writable[name]
        if value is None and nullable:
            accepted[name] = None
            continue
        ok = isinstance(value, _PYTHON_TYPES[kind]) and not (kind != BOOLEAN and isinstance(value, bool))
        if not ok:
            error = {"name": path, "code": "error_type", "expected": [kind], "used": _json_type(value)}
            if value is not None and not isinstance(value, list):
                error["value"] = value
            errors.append(error)
            continue
        accepted[name] = value
    for too_long in over_long_values(accepted, fields):
        errors.append({"name": f"{prefix}.{too_long.name}" if prefix else too_long.name, "code": "error_maxLength",
                       "limit": too_long.limit, "used": too_long.length})
    if errors:
        raise validation_failed(errors)
    return accepted


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "string"


def money(value: Any) -> float:
    return float(Decimal(str(value or 0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def valid_ean(value: str) -> bool:
    """An EAN-13 / GLN with a correct check digit (what Danish e-invoicing uses)."""
    if not re.fullmatch(r"\d{13}", value):
        return False
    digits = [int(d) for d in value]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:12])) % 10) % 10
    return check == digits[12]


def e164(phone: str | None) -> str | None:
    if not phone:
        return None
    digits = re.sub(r"[^\d+]", "", phone)
    return digits if digits.startswith("+") else f"+45{digits}"


#: Fields a ``Customer`` / ``Product`` object takes unchanged from the stored row: filters and sorts on them can read
#: the stored rows (see ``Customers1stSandbox.page``).
CUSTOMER_STORED_FIELDS = frozenset({"id", "createddate", *CUSTOMER_WRITABLE} - {"draft", "tags"})
PRODUCT_STORED_FIELDS = frozenset({"id", "created", *PRODUCT_WRITABLE} - {"vatmode", "suppliers", "tags"})


def customer_object(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored customer as ``Customer``."""
    return {
        "id": row["id"], "storeid": STORE_ID, "createddate": row["createddate"],
        **{name: row.get(name) for name in CUSTOMER_WRITABLE},
        "draft": row.get("draft") or 0, "tags": row.get("tags") or [],
        "phone_e164": e164(row.get("phone")), "lat": None, "lng": None,
        "deleted": row.get("deleted", 0), "loyaltypointsbalance": None, "loyalty_member_since": None,
    }


def product_object(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored product as ``Product``, with its VAT-derived prices."""
    vat = row.get("vat")
    price = row.get("price")
    without = money(Decimal(str(price)) / (1 + Decimal(str(vat if vat is not None else DEFAULT_VAT)) / 100)) \
        if price is not None else None
    return {
        "id": row["id"], **{name: row.get(name) for name in PRODUCT_WRITABLE},
        "vatmode": row.get("vatmode") or "normal", "suppliers": row.get("suppliers") or [],
        "tags": row.get("tags") or [], "pricewithoutvat": without,
        "calculcatedvat": money(price - without) if price is not None and without is not None else None,
        "previousstockno": None, "stocknochangetype": None, "suppliername": None, "lastordered": None,
        "created": row["created"], "reservedstock": 0, "totalstock": None, "totalavailablestock": None,
        "tobeordered": 0, "onshoppinglist": 0, "ordered": 0, "needsordering": 0, "storeid": STORE_ID,
    }


def article_object(row: Mapping[str, Any], product: Mapping[str, Any] | None) -> dict[str, Any]:
    vat = Decimal(str(row.get("vat") or 0))
    price = Decimal(str(row.get("price") or 0))
    without = money(price / (1 + vat / 100))
    return {
        "id": row["id"], "title": row["title"], "price": row["price"], "costprice": row.get("costprice"),
        "quantity": row["quantity"], "vat": row["vat"], "vatmode": row.get("vatmode") or "normal",
        "pricewithoutvat": without, "vatamount": money(price - Decimal(str(without))),
        "productno": row.get("productno") or (product or {}).get("productno"), "productid": row.get("productid"),
        **({"product": product_object(product)} if product else {}),
        "discount_ppm_id": row.get("discount_ppm_id"), "discountToken": row.get("discountToken") or 0,
        "discountedToken": row.get("discountedToken"), "paymentid": row["paymentid"], "date": row["date"],
        "giftcardno": row.get("giftcardno"), "usedGiftcardId": row.get("usedGiftcardId"),
    }


def is_discount(article: Mapping[str, Any]) -> bool:
    return article.get("discountedToken") is not None


def payment_totals(articles: list[Mapping[str, Any]], paymenttypes: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Sum, discounts, count and cash share of a payment, in decimals."""
    total = sum((Decimal(str(a["price"])) * Decimal(str(a["quantity"])) for a in articles), Decimal(0))
    discounts = sum((-Decimal(str(a["price"])) * Decimal(str(a["quantity"])) for a in articles if is_discount(a)),
                    Decimal(0))
    paid = sum((Decimal(str(p.get("amount") or 0)) for p in paymenttypes), Decimal(0))
    cash = sum((Decimal(str(p.get("amount") or 0)) for p in paymenttypes if p.get("cash")), Decimal(0))
    count = sum((Decimal(str(a["quantity"])) for a in articles if not is_discount(a)), Decimal(0))
    return {"sum": money(total), "discountsum": money(discounts), "paid": money(paid),
            "paidwithcash": money(cash), "numberofmaterials": float(count)}


def check_articles(articles: Any) -> list[dict[str, Any]]:
    if not isinstance(articles, list) or not articles:
        raise validation_failed([{"name": "articles", "code": "error_minItems"}])
    checked = []
    for index, article in enumerate(articles):
        fields = check_fields(article, ARTICLE_WRITABLE, ARTICLE_READ_ONLY, prefix=f"articles.{index}")
        missing = [name for name in ("title", "price", "quantity", "vat") if fields.get(name) is None]
        if missing:
            raise validation_failed([{"name": f"articles.{index}.{name}", "code": "error_required"}
                                     for name in missing])
        checked.append(fields)
    return checked


def check_paymenttypes(paymenttypes: Any) -> list[dict[str, Any]]:
    if paymenttypes is None:
        return []
    if not isinstance(paymenttypes, list):
        raise validation_failed([{"name": "paymenttypes", "code": "error_type", "expected": ["array"],
                                  "used": _json_type(paymenttypes)}])
    checked = []
    for index, relation in enumerate(paymenttypes):
        if not isinstance(relation, dict) or not isinstance(relation.get("amount"), int | float) \
                or not isinstance(relation.get("title"), str):
            raise validation_failed([{"name": f"paymenttypes.{index}", "code": "error_required"}])
        checked.append({k: relation.get(k) for k in PAYMENT_TYPE_FIELDS if k in relation})
    return checked
