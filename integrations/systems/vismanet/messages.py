"""Visma.net's refusals in plain English, recognised by their fault code and words.

Visma.net answers ``{"ExceptionType": "IPPException", "ExceptionMessage", "ExceptionFaultCode", …}``
(stackoverflow.com/questions/53636772: fault 12002 with 400; community.visma.com: fault 12027 "No license for
this company."). Its messages name the field in quotes ("'Customer' cannot be empty"); the wording of the
validation messages below is the sandbox's (docs/vendors/vismanet.md, "Still guesses").
"""

from __future__ import annotations

import re

from ..errors import Refusal

FAULT_CODES: dict[str, Refusal] = {
    "12027": Refusal("the Visma.net company has no licence for the API"),
}

#: (pattern over ExceptionMessage, refusal); a ``field`` group names the field.
MESSAGE_REFUSALS: tuple[tuple[re.Pattern[str], Refusal], ...] = (
    (re.compile(r"Invoice \S+ is released and cannot be changed"),
     Refusal("the invoice is released (booked) and can no longer be changed", locked=True)),
    (re.compile(r"Sales order \S+ is \w+ and cannot be changed"),
     Refusal("the sales order is completed, cancelled or invoiced and can no longer be changed", locked=True)),
    (re.compile(r"'(?P<field>[^']+)' cannot be empty"), Refusal("a required value is empty")),
    (re.compile(r"'(?P<field>[^']+)' may be at most"), Refusal("a value is too long")),
    (re.compile(r"is not a valid value for '(?P<field>[^']+)'"), Refusal("a value is not one Visma.net accepts")),
    (re.compile(r"'[^']*' is not a valid number"), Refusal("a value must be a number")),
    (re.compile(r"Country '[^']*' cannot be found"), Refusal("the country code is not valid", "countryId")),
    (re.compile(r"VAT zone '[^']*' cannot be found"), Refusal("the VAT zone does not exist", "vatZoneId")),
    (re.compile(r"Customer '[^']*' cannot be found"), Refusal("the customer does not exist in Visma.net",
                                                              "customer")),
    (re.compile(r"Inventory item '[^']*' cannot be found"), Refusal("the inventory item does not exist in Visma.net",
                                                                   "inventoryId")),
    (re.compile(r"already exists"), Refusal("a record with that number already exists")),
    (re.compile(r"number cannot be changed"), Refusal("a record's number cannot be changed through the API")),
)


def vismanet_refusal(fault_code: str | None, message: str | None) -> Refusal | None:
    """The refusal for an IPP exception's fault code and message; None when neither is a known one."""
    known = FAULT_CODES.get(str(fault_code or ""))
    if known is not None:
        return known
    for pattern, refusal in MESSAGE_REFUSALS:
        found = pattern.search(message or "")
        if found:
            field = found.groupdict().get("field")
            return refusal.with_field(field) if field else refusal
    return None
