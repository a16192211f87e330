"""Visma.net ERP's two record shapes: the plain read DTO and the value-wrapped update DTO.

Reads answer plain nested JSON (``{"mainAddress": {"country": {"id": "DK"}}}``); writes take every
value wrapped as ``{"value": ...}``, nested objects wrapped too, and some fields under another name
(``vatZone.id`` is written as ``vatZoneId``, ``mainAddress.country.id`` as ``mainAddress.countryId``).
Synkro's records are flat with the read names dotted; this module turns one shape into the other, so
the client and the sandbox agree on one table of names taken from the vendor's Swagger definitions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from ..catalog import Entity

#: Synkro entity -> Visma.net resource path (under ``/v1``). Sales orders are no longer read or written here but in
#: the Sales Order service (:mod:`.salesorders`); their ``/v1`` names stay as the sandbox store's own shape.
RESOURCES: dict[Entity, str] = {
    Entity.ORGANISATION: "customer",
    Entity.PERSON: "contact",
    Entity.ITEM: "inventory",
    Entity.DELIVERY: "salesorder",
    Entity.INVOICE: "customerinvoice",
    Entity.USER: "employee",
}

#: Where a document keeps its lines, in the read DTO.
LINE_LISTS: dict[Entity, str] = {Entity.DELIVERY: "lines", Entity.INVOICE: "invoiceLines"}
#: The line number field of each document's lines (read name, same in the update DTO).
LINE_NUMBERS: dict[Entity, str] = {Entity.DELIVERY: "lineNbr", Entity.INVOICE: "lineNumber"}

_ADDRESS = ("mainAddress", "invoiceAddress", "deliveryAddress")

#: Read name (dotted) -> write name (dotted) where CustomerUpdateDto & co. differ from the read DTO.
WRITE_NAMES: dict[Entity, dict[str, str]] = {
    Entity.ORGANISATION: {
        **{f"{a}.country.id": f"{a}.countryId" for a in _ADDRESS},
        "vatZone.id": "vatZoneId",
        "customerClass.id": "customerClassId",
        "creditTerms.id": "creditTermsId",
        "parentRecord.number": "parentRecordNumber",
    },
    Entity.PERSON: {"address.country.id": "address.countryId"},
    Entity.ITEM: {"itemClass.id": "itemClass", "postingClass.id": "postingClass", "vatCode.id": "vatCode"},
    Entity.DELIVERY: {
        "orderNo": "orderNumber",
        "customer.number": "customer",
        "customerVATZone.id": "customerVATZone",
        "terms.id": "terms",
        "salesPerson.id": "salesPerson",
    },
    Entity.INVOICE: {
        "customer.number": "customerNumber",
        "creditTerms.id": "creditTermsId",
        "paymentMethod.id": "paymentMethodId",
        "location.id": "locationId",
    },
}

#: The same for document lines.
LINE_WRITE_NAMES: dict[Entity, dict[str, str]] = {
    Entity.DELIVERY: {"inventory.number": "inventoryId", "warehouse.id": "warehouse"},
    Entity.INVOICE: {"vatCode.id": "vatCodeId", "account.number": "accountNumber"},
}


def write_name(entity: Entity, read_name: str, *, line: bool = False) -> str:
    table = (LINE_WRITE_NAMES if line else WRITE_NAMES).get(entity, {})
    return table.get(read_name, read_name)


def read_name(entity: Entity, written: str, *, line: bool = False) -> str:
    table = (LINE_WRITE_NAMES if line else WRITE_NAMES).get(entity, {})
    for read, write in table.items():
        if write == written:
            return read
    return written


def jsonable(value: Any) -> Any:
    """Decimals go out as JSON numbers, the way the vendor's DTOs type amounts (``number/double``)."""
    if isinstance(value, Decimal):
        return float(value)
    return value


def wrap(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Flat write names -> an update DTO body: every level wrapped as ``{"value": ...}``."""
    body: dict[str, Any] = {}
    for dotted, value in flat.items():
        parts = dotted.split(".")
        node = body
        for part in parts[:-1]:
            node = node.setdefault(part, {"value": {}})["value"]
        node[parts[-1]] = {"value": jsonable(value)}
    return body


def unwrap(body: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """An update DTO body -> flat write names. Values that are not ``{"value": ...}`` pass as they are."""
    flat: dict[str, Any] = {}
    for key, wrapped in body.items():
        name = f"{prefix}{key}"
        if isinstance(wrapped, dict) and set(wrapped) == {"value"}:
            inner = wrapped["value"]
            if isinstance(inner, dict):
                flat.update(unwrap(inner, f"{name}."))
            else:
                flat[name] = inner
        else:
            flat[name] = wrapped
    return flat


def flatten(dto: Mapping[str, Any], prefix: str = "", *, skip: Iterable[str] = ()) -> dict[str, Any]:
    """A read DTO -> flat dotted read names; lists are left out (lines are handled by the caller)."""
    skipped = set(skip)
    flat: dict[str, Any] = {}
    for key, value in dto.items():
        if key in skipped:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif not isinstance(value, list):
            flat[name] = value
    return flat


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Flat dotted read names -> a nested read DTO (the sandbox keeps records in the read shape)."""
    dto: dict[str, Any] = {}
    for dotted, value in flat.items():
        parts = dotted.split(".")
        node = dto
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return dto
