"""Identity evidence: whether a record found on the other side is really the same company, person or item.

Plain functions, no HTTP and no database. Identifiers are first brought to one spelling (``org_key``,
``email_key``, ``phone_key``, ``name_key``); ``weigh`` then compares every identity field both sides have
and says, in plain words, what speaks for and against the candidate, and whether the match is proven.
Check digits are validated by python-stdnum, names compared with rapidfuzz, phone numbers by phonenumbers.
Every function takes any value (None, numbers, Decimals, text with stray white space) and never raises.
"""

from __future__ import annotations

import contextlib
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import phonenumbers
from rapidfuzz import fuzz
from stdnum.dk import cvr as dk_cvr
from stdnum.eu import vat as eu_vat
from stdnum.fi import ytunnus as fi_ytunnus
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr
from stdnum.se import personnummer as se_personnummer

SAME_NAME = 90.0  # at or above: the same name
DIFFERENT_NAME = 60.0  # below: a clearly different name

PROVEN, CONTRADICTED, WEAK = "proven", "contradicted", "weak"

#: A phone number shorter than this (in digits) says nothing about identity ("0", "112").
_PHONE_MIN_DIGITS = 6

_EU_COUNTRIES = frozenset(code.upper() for code in eu_vat.MEMBER_STATES) | {"EL"}
_KNOWN_COUNTRIES = _EU_COUNTRIES | {"NO"}

#: Words people put before a registration number ("CVR: 12345678", "Org.nr 556677-8899").
_NUMBER_LABEL = re.compile(
    r"^\s*(?:cvr|org(?:anisations?)?|vat|moms(?:reg)?|y-?tunnus)[\s.\-]*(?:nr|no|nummer|number)?[\s.]*[:#]?\s*"
    r"(?=[a-z]{0,2}\s*\d)",
    re.IGNORECASE,
)
_FINNISH_BUSINESS_ID = re.compile(r"^\d{6,7}-\d$")
_SEPARATORS = re.compile(r"[^0-9A-Z]")


# --- values to text -------------------------------------------------------------------------------------


def _text(value: object) -> str:
    """Text, numbers and bytes as text (1001.0 → "1001"); "" for None, booleans, NaN and any other object."""
    if value is None or isinstance(value, bool):
        return ""
    try:
        if isinstance(value, float):
            if not math.isfinite(value):
                return ""
            return str(int(value)) if value.is_integer() else str(value)
        if isinstance(value, Decimal):
            if not value.is_finite():
                return ""
            return str(int(value)) if value == value.to_integral_value() else str(value.normalize())
        if isinstance(value, bytes):
            return value.decode("utf-8", errors="replace")
        return str(value) if isinstance(value, str | int) else ""
    except Exception:
        return ""


def _safe(check: Callable[[str], bool], number: str) -> bool:
    """A stdnum validity check that never raises."""
    try:
        return bool(check(number))
    except Exception:
        return False


# --- organisation numbers -------------------------------------------------------------------------------


def _swedish(digits: str) -> str:
    """The 10 national digits of a Swedish org. or personal number (also 12-digit forms); "" if invalid."""
    if len(digits) == 10 and _safe(se_orgnr.is_valid, digits):
        return digits
    if len(digits) == 12:
        if _safe(se_personnummer.is_valid, digits):  # personnummer with century, e.g. 198112189876
            return digits[2:]
        if digits.endswith("01") and _safe(se_orgnr.is_valid, digits[:10]):  # VAT form without "SE"
            return digits[:10]
    return ""


def _national_key(country: str, rest: str) -> str:
    """The org_key of a number written with a country prefix, or "" when its check digits refuse it."""
    if country == "SE":
        national = _swedish(rest)
        return f"SE{national}" if national else ""
    if country == "DK":
        return f"DK{rest}" if len(rest) == 8 and _safe(dk_cvr.is_valid, rest) else ""
    if country == "NO":
        rest = rest.removesuffix("MVA")
        return f"NO{rest}" if _safe(no_orgnr.is_valid, rest) else ""
    if country == "FI":
        return f"FI{rest}" if len(rest) == 8 and _safe(fi_ytunnus.is_valid, rest) else ""
    if country in _EU_COUNTRIES and _safe(eu_vat.is_valid, country + rest):
        try:
            return eu_vat.compact(country + rest).upper()
        except Exception:
            return ""
    return ""


def _bare_key(digits: str) -> str:
    """The org_key of a number written without a country: the country whose check digit accepts it."""
    if len(digits) in (10, 12) and (national := _swedish(digits)):
        return f"SE{national}"
    if len(digits) == 8 and _safe(dk_cvr.is_valid, digits):
        return f"DK{digits}"
    if len(digits) == 9 and _safe(no_orgnr.is_valid, digits):
        return f"NO{digits}"
    return ""


def org_key(value: object) -> str:
    """A company's registration number in one canonical form, "" when blank or unreadable.

    Swedish org. numbers (with or without hyphen, also personal numbers of sole traders and the EU VAT form
    "SE556677889901"), Danish CVR numbers (with or without "DK" and spaces), Norwegian org. numbers (with or
    without "NO"/"MVA"), Finnish business IDs ("2077474-0", "FI20774740") and other EU VAT numbers all become
    "<CC><national part>", e.g. "SE5566778899", "DK12345678". A bare number gets its country when that
    country's check digit accepts it (10 digits → SE, 8 → DK, 9 → NO); anything else with at least one digit
    becomes "?<digits/letters>", upper-cased with separators removed. Text without a digit gives "".
    Applying org_key to an org_key gives the same key.
    """
    text = unicodedata.normalize("NFKC", _text(value)).strip()
    if not text:
        return ""
    text = _NUMBER_LABEL.sub("", text)
    if _FINNISH_BUSINESS_ID.match(text) and _safe(fi_ytunnus.is_valid, text):
        return "FI" + fi_ytunnus.compact(text)
    raw = _SEPARATORS.sub("", text.upper())
    if not any(ch.isdigit() for ch in raw):
        return ""
    if raw.isdigit():
        key = _bare_key(raw)
    elif raw.endswith("MVA") and raw[:-3].isdigit():
        key = _national_key("NO", raw[:-3])
    elif raw[:2].isalpha():
        country = "EL" if raw[:2] == "GR" else raw[:2]
        key = _national_key(country, raw[2:])
    else:
        key = ""
    return key or f"?{raw}"


def _country_and_national(key: str) -> tuple[str, str]:
    """("DK", "12345678") for "DK12345678"; for an unknown key its country only if it starts with one."""
    if key.startswith("?"):
        rest = key[1:]
        if rest[:2] in _KNOWN_COUNTRIES and rest[2:]:
            return rest[:2], rest[2:]
        return "", rest
    return key[:2], key[2:]


def org_keys_agree(a: str, b: str) -> bool | None:
    """True when two org_keys name the same company, False when they clearly name different ones, None when
    either is blank. "?12345678" agrees with "DK12345678" (same national part, unknown country).

    Raw numbers are accepted too: both sides are passed through org_key first.
    """
    key_a, key_b = org_key(a), org_key(b)
    if not key_a or not key_b:
        return None
    if key_a == key_b:
        return True
    country_a, national_a = _country_and_national(key_a)
    country_b, national_b = _country_and_national(key_b)
    if national_a != national_b:
        return False
    return country_a == country_b or not country_a or not country_b


def org_number_spellings(value: object) -> list[str]:
    """The spellings a vendor may have stored the same number under, most likely first, at most 5.

    For SE "5566778899" → ["5566778899", "556677-8899", "SE556677889901"]; for DK "DK12345678" →
    ["12345678", "DK12345678", "DK 12 34 56 78", "12 34 56 78"]; the value as given comes last when it is
    none of these; for an unknown number → [the value as given, stripped]; [] when blank.
    Used to search a vendor whose filter compares exact text.
    """
    key = org_key(value)
    if not key:
        return []
    country, national = key[:2], key[2:]
    if key.startswith("?"):
        spellings = [_text(value).strip()]
    elif country == "SE":
        spellings = [national, f"{national[:6]}-{national[6:]}", f"SE{national}01"]
    elif country == "DK":
        pairs = " ".join(national[i:i + 2] for i in range(0, 8, 2))
        spellings = [national, key, f"DK {pairs}", pairs]
    elif country == "NO":
        spellings = [national, f"{national[:3]} {national[3:6]} {national[6:]}", f"NO{national}MVA"]
    elif country == "FI":
        spellings = [f"{national[:7]}-{national[7:]}", national, key]
    else:
        spellings = [national, key]
    given = " ".join(_text(value).split())
    return list(dict.fromkeys(s for s in (*spellings, given) if s))[:5]


def _org_display(key: str, value: object) -> str:
    """A registration number as people write it: "556677-8899", "12345678"; unknown ones as given."""
    national = key[2:]
    if key.startswith("SE"):
        return f"{national[:6]}-{national[6:]}"
    if key.startswith("NO"):
        return f"{national[:3]} {national[3:6]} {national[6:]}"
    if key.startswith("FI"):
        return f"{national[:7]}-{national[7:]}"
    if key.startswith("DK"):
        return national
    return key if key and not key.startswith("?") else _text(value).strip()


# --- e-mail, phone and names ----------------------------------------------------------------------------

_ANGLE_ADDRESS = re.compile(r"<([^<>]*@[^<>]*)>")


def _without_spaces(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


def email_key(value: object) -> str:
    """Trimmed, case-folded e-mail address; "" when blank or not an address (no "@" with text on both sides).

    All Unicode white space (also non-breaking and zero-width spaces) is removed, the address is taken out of
    angle brackets ("Mette Nielsen <mette@havbrise.dk>") and a leading "mailto:" is dropped.
    """
    text = unicodedata.normalize("NFKC", _text(value))
    found = _ANGLE_ADDRESS.search(text)
    if found:
        text = found.group(1)
    address = _without_spaces(text).strip("\"'<>,;").casefold().removeprefix("mailto:")
    local, at, domain = address.rpartition("@")
    return address if at and local and domain else ""


def phone_key(value: object, *, region: str = "DK") -> str:
    """E.164 ("+4512345678") when phonenumbers can read it as a possible number (``region`` is used for
    numbers without a country code); else the digits; "" when blank or without digits."""
    text = unicodedata.normalize("NFKC", _text(value)).strip()
    digits = "".join(ch for ch in text if ch in "0123456789")
    if not digits:
        return ""
    with contextlib.suppress(Exception):
        number = phonenumbers.parse(text, (region or "").upper() or None)
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return digits


#: Legal-form words removed from names wherever they stand (after case folding).
_LEGAL_FORM_WORDS = frozenset({
    # Sweden
    "ab", "aktiebolag", "publ", "hb", "handelsbolag", "kb", "kommanditbolag", "ef",
    # Denmark
    "aps", "as", "ivs", "amba", "smba", "fmba", "aktieselskab", "anpartsselskab", "iværksætterselskab",
    "interessentskab", "kommanditselskab", "partnerselskab",
    # Norway
    "asa", "ans", "enk", "nuf", "aksjeselskap", "allmennaksjeselskap",
    # Finland
    "oy", "oyj", "ky", "tmi", "osakeyhtiö",
    # elsewhere
    "gmbh", "ag", "kg", "ltd", "limited", "inc", "incorporated", "llc", "plc", "corp", "bv", "nv",
})
#: Legal forms of two words ("& Co", "Enskild firma").
_LEGAL_FORM_PHRASES = (
    ("&", "co"), ("og", "co"), ("och", "co"), ("and", "co"), ("enskild", "firma"), ("enskilt", "firma"),
    ("ekonomisk", "förening"), ("ek", "för"),
)
#: Legal forms written with "/" or dots, removed before punctuation is folded: A/S, I/S, K/S, P/S, a.m.b.a.
_LEGAL_FORM_MARKS = re.compile(r"(?<!\w)(?:[aikpg]\s*/\s*s|[asf]\.\s?m\.\s?b\.\s?a\.?|a\.s\.)(?!\w)")
_NAME_TOKEN = re.compile(r"[^\W_]+|&")


def name_key(value: object) -> str:
    """A company or person name for comparison: case-folded, accents kept, punctuation and white space
    folded to single spaces, legal-form words (AB, Aktiebolag, A/S, ApS, AS, Oy, GmbH, Ltd, "& Co",
    "Enskild firma", …) removed wherever they stand. "" when blank. A name that is only a legal form
    ("AB") keeps it, so it is not mistaken for a blank one."""
    text = unicodedata.normalize("NFKC", _text(value)).casefold()
    tokens = _NAME_TOKEN.findall(text)
    kept = _NAME_TOKEN.findall(_LEGAL_FORM_MARKS.sub(" ", text))
    for first, second in _LEGAL_FORM_PHRASES:
        kept = _drop_phrase(kept, first, second)
    kept = [word for word in kept if word not in _LEGAL_FORM_WORDS and word != "&"]
    return " ".join(kept or [word for word in tokens if word != "&"])


def _drop_phrase(tokens: list[str], first: str, second: str) -> list[str]:
    result: list[str] = []
    index = 0
    while index < len(tokens):
        if tokens[index] == first and index + 1 < len(tokens) and tokens[index + 1] == second:
            index += 2
            continue
        result.append(tokens[index])
        index += 1
    return result


def name_similarity(a: object, b: object) -> float:
    """0–100: rapidfuzz's token_sort_ratio of the two name_keys; 100 when the keys are equal, 0 when either
    is blank."""
    key_a, key_b = name_key(a), name_key(b)
    if not key_a or not key_b:
        return 0.0
    if key_a == key_b:
        return 100.0
    return float(fuzz.token_sort_ratio(key_a, key_b))


def _number_key(value: object) -> str:
    """A customer or item number compared trimmed and case-folded (1001, Decimal("1001") and " 1001" agree)."""
    return _text(value).strip().casefold()


# --- weighing one candidate -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """What speaks for and against taking a candidate as the same record, and the verdict."""

    for_: tuple[str, ...]  # reasons in plain words, e.g. "same org. number 556677-8899"
    against: tuple[str, ...]  # e.g. "different org. number: 556677-8899 in webCRM, 556012-3456 in Fortnox"
    verdict: str  # "proven" | "contradicted" | "weak"
    strong: bool  # an org/VAT number or e-mail agreed

    @property
    def proven(self) -> bool:
        return self.verdict == PROVEN


def _get(values: Mapping[str, object], role: str) -> object:
    try:
        return values.get(role)
    except Exception:
        return None


class _Weighing:
    """The reasons gathered while comparing one source record with one candidate."""

    def __init__(self, source: Mapping[str, object], candidate: Mapping[str, object], *, source_name: str,
                 candidate_name: str) -> None:
        self.source, self.candidate = source, candidate
        self.source_name = _text(source_name) or "the source"
        self.candidate_name = _text(candidate_name) or "the other system"
        self.for_: list[str] = []
        self.against: list[str] = []
        self.strong = False

    def raw(self, role: str) -> tuple[str, str]:
        return _text(_get(self.source, role)).strip(), _text(_get(self.candidate, role)).strip()

    def both(self, left: str, right: str) -> str:
        return f"{left} in {self.source_name}, {right} in {self.candidate_name}"

    def vat(self) -> bool | None:
        """Compares org./VAT numbers; True when they agree, False when they differ, None when one is missing."""
        source_raw, candidate_raw = self.raw("vat")
        source_key, candidate_key = org_key(source_raw), org_key(candidate_raw)
        agree = org_keys_agree(source_key, candidate_key)
        if agree:
            self.for_.append(f"same org. number {_org_display(source_key, source_raw)}")
            self.strong = True
        elif agree is False:
            self.against.append(f"different org. number: {self.both(source_raw, candidate_raw)}")
        return agree

    def name(self) -> float | None:
        """Compares names; the similarity, or None when either is blank."""
        source_raw, candidate_raw = self.raw("name")
        if not name_key(source_raw) or not name_key(candidate_raw):
            return None
        score = name_similarity(source_raw, candidate_raw)
        quoted = self.both(f"'{source_raw}'", f"'{candidate_raw}'")
        if score >= SAME_NAME:
            self.for_.append(f"same name '{source_raw}'" if source_raw == candidate_raw else f"same name: {quoted}")
        elif score < DIFFERENT_NAME:
            self.against.append(f"clearly different name: {quoted}")
        else:
            self.for_.append(f"similar name: {quoted}")
        return score

    def number(self, label: str, *, count_difference: bool) -> bool | None:
        """Compares numbers; True when equal, False when different, None when one is missing."""
        source_raw, candidate_raw = self.raw("number")
        source_key, candidate_key = _number_key(source_raw), _number_key(candidate_raw)
        if not source_key or not candidate_key:
            return None
        if source_key == candidate_key:
            self.for_.append(f"same {label} {source_raw}")
            return True
        if count_difference:
            self.against.append(f"different {label}: {self.both(source_raw, candidate_raw)}")
        return False

    def email(self) -> bool | None:
        """Compares e-mail addresses; an equal one is strong evidence."""
        source_key, candidate_key = email_key(_get(self.source, "email")), email_key(_get(self.candidate, "email"))
        if not source_key or not candidate_key:
            return None
        if source_key == candidate_key:
            self.for_.append(f"same e-mail {source_key}")
            self.strong = True
            return True
        return False

    def phone(self) -> None:
        source_key, candidate_key = phone_key(_get(self.source, "phone")), phone_key(_get(self.candidate, "phone"))
        if sum(ch.isdigit() for ch in source_key) >= _PHONE_MIN_DIGITS and source_key == candidate_key:
            self.for_.append(f"same phone {source_key}")

    def evidence(self, verdict: str) -> Evidence:
        if self.against:
            verdict = CONTRADICTED
        return Evidence(for_=tuple(self.for_), against=tuple(self.against), verdict=verdict, strong=self.strong)


def weigh(entity: str, source: Mapping[str, object], candidate: Mapping[str, object], *,
          source_name: str, candidate_name: str, found_by: str) -> Evidence:
    """Weigh one candidate found on the other side against the source record.

    ``source`` and ``candidate`` map identity roles to values: "number" (customer/item number), "vat"
    (org/CVR/VAT number), "name", "email", "phone". ``found_by`` is the role the candidate was found by;
    ``source_name``/``candidate_name`` are the systems' names used in the words ("webCRM", "Fortnox").

    Organisations: agreeing org. numbers prove the match unless the names are clearly different; an agreeing
    customer number, or the same name, proves it when nothing speaks against it; anything against (different
    org. numbers, a clearly different name, a different customer number on a candidate not found by number
    and without agreeing org. numbers) contradicts it. Persons and users: the same e-mail proves it unless
    the names are clearly different. Items: the same item number proves it. Other entities: the same number
    proves it. Everything else is "weak". Never raises.
    """
    kind = _text(entity).strip().casefold()
    weighing = _Weighing(source if isinstance(source, Mapping) else {},
                         candidate if isinstance(candidate, Mapping) else {},
                         source_name=source_name, candidate_name=candidate_name)
    if kind == "organisation":
        return _weigh_organisation(weighing, found_by=_text(found_by).strip().casefold())
    if kind in ("person", "user"):
        email_agreed = weighing.email()
        weighing.name()
        weighing.phone()
        return weighing.evidence(PROVEN if email_agreed else WEAK)
    if kind == "item":
        return weighing.evidence(PROVEN if weighing.number("item number", count_difference=True) else WEAK)
    return weighing.evidence(PROVEN if weighing.number("number", count_difference=True) else WEAK)


def _weigh_organisation(weighing: _Weighing, *, found_by: str) -> Evidence:
    vat_agreed = weighing.vat() is True
    score = weighing.name()
    number_agreed = weighing.number("customer number", count_difference=found_by != "number" and not vat_agreed)
    weighing.email()
    weighing.phone()
    name_same = score is not None and score >= SAME_NAME
    if vat_agreed or number_agreed or name_same:
        return weighing.evidence(PROVEN)
    return weighing.evidence(WEAK)
