"""Fortnox's refusals in plain English: its error codes, what each means and the field it names.

Codes and Swedish messages from Fortnox's published error list (fortnox.se/developer/guides-and-good-to-know/
errors, also developer.fortnox.se/general/errors) and the same list as mirrored by the ``fortnox`` Rust crate
(docs.rs/crate/fortnox, ``src/api_error_code.rs``), which adds 2000204/2000433, 2001302/2000428 and 2003125.
Fortnox ends many messages with the field in parentheses ("… (PurchaseAccount)", accodeing/fortnox-api wiki
"Fortnox API"); where a code's parentheses hold the refused value instead ("Värdet måste vara numeriskt
({Value})"), the field is not read from them. See docs/vendors/fortnox.md.
"""

from __future__ import annotations

from typing import Any

from ..errors import Refusal, field_named_in

#: code -> (the refusal, whether the message's trailing parentheses name the field)
REFUSALS: dict[int, tuple[Refusal, bool]] = {
    1000003: (Refusal("Fortnox had an internal error"), False),
    1000030: (Refusal("the answer type asked for (Accept) is not one Fortnox gives"), False),
    1000031: (Refusal("the request was not sent as JSON (Content-Type)"), False),
    2000106: (Refusal("a value must contain letters and digits only"), False),
    2000108: (Refusal("a value must be a number"), False),
    2000134: (Refusal("a value must be true or false"), False),
    2000310: (Refusal("the access token is missing or wrong; the connection must be activated again"), False),
    2000311: (Refusal("the access token or client secret is missing; the connection must be activated again"),
              False),
    2000359: (Refusal("a value contains characters Fortnox does not allow"), False),
    2000588: (Refusal("a parameter of the request is not valid"), False),
    2000637: (Refusal("the customer number is taken (also by a deleted customer, which keeps it reserved)",
                      "CustomerNumber"), False),
    2000729: (Refusal("no valid identifier was given"), False),
    2001101: (Refusal("the Fortnox company has no active licence for this part of the API"), False),
    2001103: (Refusal("the Fortnox company has no API licence"), False),
    2000663: (Refusal("the app has no access to this part of the API (scope)"), False),
    2001392: (Refusal("the request held no data or data of the wrong type"), False),
    2001740: (Refusal("the document could not be read"), False),
    2002115: (Refusal("the request was not valid JSON"), False),
    2001304: (Refusal("the account does not exist in the chart of accounts"), True),
    2001399: (Refusal("a field name is not one Fortnox knows"), True),
    2000204: (Refusal("the customer does not exist in Fortnox", "CustomerNumber"), False),
    2000433: (Refusal("the customer does not exist in Fortnox", "CustomerNumber"), False),
    2001302: (Refusal("the article does not exist in Fortnox", "ArticleNumber"), False),
    2000428: (Refusal("the article does not exist in Fortnox", "ArticleNumber"), False),
    2000755: (Refusal("the supplier invoice does not balance"), False),
    2003125: (Refusal("the document is marked completed and can no longer be changed", locked=True), False),
    2003399: (Refusal("the document is cancelled in the warehouse module", locked=True), False),
}


#: Refusals recognised by their words where the code is not on Fortnox's list (the sandbox answers them with
#: code 0): a booked or cancelled document cannot be changed. The behaviour is documented (a booked invoice
#: cannot be changed: docs/vendors/fortnox.md); the exact wording is the sandbox's.
MESSAGE_REFUSALS: tuple[tuple[str, Refusal], ...] = (
    ("är bokförd", Refusal("the invoice is booked and can no longer be changed", locked=True)),
    ("är makulerad", Refusal("the document is cancelled and can no longer be changed", locked=True)),
    ("är redan fakturerad", Refusal("the order is already invoiced", locked=True)),
)
UNKNOWN_WITH_FIELD = Refusal("a value was not accepted")


def fortnox_refusal(code: Any, message: str | None) -> Refusal | None:
    """The refusal for ``ErrorInformation`` ``code`` (int or text) and ``message``.

    Unknown codes are explained by their words where these are known, or by the field the message names;
    otherwise None (the vendor's words then stand alone).
    """
    try:
        known = REFUSALS.get(int(code))
    except (TypeError, ValueError):
        known = None
    if known is not None:
        refusal, field_in_parens = known
        return refusal.with_field(field_named_in(message)) if field_in_parens else refusal
    text = (message or "").lower()
    for words, refusal in MESSAGE_REFUSALS:
        if words in text:
            return refusal
    field = field_named_in(message)
    return UNKNOWN_WITH_FIELD.with_field(field) if field else None
