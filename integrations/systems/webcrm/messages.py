"""webCRM's refusals in plain English, by the ``Type`` of its error body and the field a message names.

webCRM answers ``{"Message": "…", "Type": "<exception name>"}`` (``TooManyRequestsException`` with
``RetryAfterSeconds``: docs/vendors/webcrm.md, portal); model validation answers ASP.NET's per-field
``{"errors": {"Field": ["…"]}}``. ``BadRequestException`` / ``NotFoundException`` are the sandbox's names for
its 400 / 404 answers (docs/vendors/webcrm.md).
"""

from __future__ import annotations

import re

from ..errors import Refusal

TYPES: dict[str, Refusal] = {
    "BadRequestException": Refusal("a value was not accepted"),
    "NotFoundException": Refusal("the record it refers to does not exist in webCRM"),
    "TooManyRequestsException": Refusal("too many requests were sent in a short time"),
}

#: webCRM field names start with their entity (``OrganisationName``, ``QuotationLinePrice``, ``DeliveryErpId``…).
_FIELD = re.compile(r"\b((?:Organisation|Person|Delivery|QuotationLine|Product|User|Opportunity|Activity)[A-Za-z0-9]*)"
                    r"|The (\w+) field is required")


def webcrm_refusal(type_name: str | None, message: str | None, field_errors: dict | None = None) -> Refusal | None:
    """The refusal for an error ``Type`` (or an ASP.NET field list), with the field its message names."""
    if field_errors:
        field = next(iter(field_errors))
        return Refusal("a value was not accepted", str(field))
    refusal = TYPES.get(str(type_name or ""))
    if refusal is None:
        return None
    found = _FIELD.search(message or "")
    return refusal.with_field(next(g for g in found.groups() if g)) if found else refusal
