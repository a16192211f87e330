"""The small set of failures every external system's client raises.

The sync engine only ever sees these, never a vendor's own error shape, so the decision
"retry later" versus "fail now and tell a person" is made in one place for all vendors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    """A vendor's refusal explained: what it means in plain English and the field it names.

    ``meaning`` is a clause that follows "refused the <record>: " ("the country code is not valid");
    ``field`` is the vendor's field name ("CountryCode"), "" when the refusal names none; ``locked`` marks a
    refusal because of the document's state (booked, released, cancelled, completed) rather than its data.
    Each vendor's table of refusals lives in ``integrations/systems/<vendor>/messages.py``.
    """

    meaning: str
    field: str = ""
    locked: bool = False

    def with_field(self, field: str) -> Refusal:
        return Refusal(self.meaning, field or self.field, self.locked)


class ExternalSystemError(Exception):
    """Base of every failure talking to an external system."""

    #: Whether waiting and trying again can succeed.
    transient: bool = False

    def __init__(self, message: str, *, status: int | None = None, vendor_message: str | None = None,
                 system: str = "", refusal: Refusal | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.vendor_message = vendor_message
        #: The registry key of the system that failed, where the client knew it ("" otherwise).
        self.system = system
        #: The vendor's refusal in plain words, when its code or message is a known one.
        self.refusal = refusal

    def __str__(self) -> str:
        return self.message


#: A trailing "(Name)" naming a field the way Fortnox and ASP.NET end their messages ("… (PurchaseAccount)").
_FIELD_IN_PARENS = re.compile(r"\(([A-Za-z][A-Za-z0-9_.]*)\)\s*\.?\s*$")


def field_named_in(message: str | None) -> str:
    """The field a vendor message names in trailing parentheses (``"… (CountryCode)"`` → ``"CountryCode"``)."""
    found = _FIELD_IN_PARENS.search(message or "")
    return found.group(1) if found else ""


def plain_refusal(error: ExternalSystemError, system_name: str, *, what: str = "") -> str | None:
    """A refusal in words support can act on, the vendor's own words kept beside them; None if unexplained.

    ``"Fortnox refused the customer: the country code is not valid (field CountryCode). Fortnox said:
    «Ogiltig landskod»"``. ``what`` is the record in the vendor's words ("customer"); "the data" when "".
    """
    refusal = error.refusal
    if refusal is None:
        return None
    field = f" (field {refusal.field})" if refusal.field else ""
    said = f" {system_name} said: «{error.vendor_message}»" if error.vendor_message else ""
    return f"{system_name} refused {f'the {what}' if what else 'the data'}: {refusal.meaning}{field}.{said}"


class AuthError(ExternalSystemError):
    """The credentials were refused (wrong key, expired refresh token, missing scope)."""


class NotFoundError(ExternalSystemError):
    """The record or endpoint does not exist in the external system."""


class VendorValidationError(ExternalSystemError):
    """The vendor refused the data; ``vendor_message`` carries its own words."""


class RateLimitedError(ExternalSystemError):
    """The vendor answered 429; ``retry_after`` is how long it asked us to wait, in seconds."""

    transient = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class TransientError(ExternalSystemError):
    """A 5xx, a timeout or a dropped connection: worth another try later."""

    transient = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ChangedSinceRead(TransientError):
    """A record changed at the vendor, in a field about to be written, since the engine read it.

    Raised by a client whose vendor takes only whole records (read, merge, put back) when the fresh read it
    makes just before the write no longer holds what the engine planned against: writing would erase a
    person's edit. ``fields`` names the fields that moved (the vendor's names); nothing was written. The
    engine plans again against the record as it now stands; if the error escapes, the event is retried.
    """

    def __init__(self, message: str, *, fields: list[str], **kwargs):
        super().__init__(message, **kwargs)
        self.fields = fields


class WebhookRejected(Exception):
    """An inbound webhook that is malformed or fails its signature check."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status
