"""Customers 1st's refusals in plain English, by ``errorcode`` and the validator's field list.

Codes from the spec's ``ErrorCode`` enum (docs/vendors/facts/customers1st.json); the validator answers
``{"message": "Request validation failed", "errors": [{"name", "code": "error_required"|"error_type"|…}]}``
and the rate limiter ``{"error": "API Resource limit reached.", …}`` (docs/vendors/customers1st.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import Refusal

ERROR_CODES: dict[str, Refusal] = {
    "PRODUCT_PRODUCTNO_EXISTS": Refusal("the product number is already used", "productno"),
    "PRODUCT_PRODUCTNO_INVALID": Refusal("the product number is not valid", "productno"),
    "PRODUCT_BARCODE_EXISTS": Refusal("the barcode is already used by another product", "barcode"),
    "PRODUCT_TITLE_INVALID": Refusal("the product title is not valid", "title"),
    "PRODUCT_NOT_FOUND": Refusal("the product does not exist in Customers 1st"),
    "PRODUCT_INVALID_STOCKNO": Refusal("the stock number is not valid", "stockno"),
    "PAYMENT_NOT_PAID_ENOUGH": Refusal("the payment is not paid in full"),
    "USER_CANT_DELETE_MAINUSER": Refusal("the main user cannot be deleted"),
    "USER_ALREADY_IN_USE": Refusal("the user name is already used"),
    "UNAUHTORIZED": Refusal("the API token was not accepted"),
    "BAD_REQUEST": Refusal("a value was not accepted"),
    "CLIENT_ERROR": Refusal("the record it refers to does not exist"),
    "SERVER_ERROR": Refusal("Customers 1st had an internal error"),
}

VALIDATION_CODES: dict[str, str] = {
    "error_required": "a required value is missing",
    "error_type": "a value has the wrong type",
    "error_enum": "a value is not one of those allowed",
    "error_additional": "a field is not one Customers 1st knows",
}


def customers1st_refusal(errorcode: str | None, errors: Any = None) -> Refusal | None:
    """The refusal for an ``errorcode`` or the validator's first error (its ``name`` is the field)."""
    if isinstance(errors, list):
        for error in errors:
            if isinstance(error, Mapping):
                meaning = VALIDATION_CODES.get(str(error.get("code") or ""), "a value was not accepted")
                return Refusal(meaning, str(error.get("name") or "").removeprefix("content."))
    return ERROR_CODES.get(str(errorcode or ""))
