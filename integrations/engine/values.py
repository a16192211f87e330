"""Values converted between the kinds of the field read and the field written (countries, numbers, text).

Pure functions over plain data and the catalogs' field descriptions (``FieldSpec.type`` and
``FieldSpec.value_kind``). :func:`value_convert` is what a mapping rule calls for every value it writes:

- **Countries.** A field whose ``value_kind`` names a country form gets the country in that form, whatever
  form it was read in: a localised name ("Danmark", "Sverige", "Deutschland", "Holland"), an ISO 3166-1
  alpha-2 or alpha-3 code, or an English name written without spaces ("UnitedKingdom"). Names come from
  pycountry's ISO 3166-1 data and its gettext translations, never from a table of our own. A value that
  names no country, or a field of a country kind this module does not know, is refused (:class:`ValueRefused`).
- **Numbers, booleans and dates into text** are written out: decimals without float artefacts and with the
  scale they were read with (``Decimal("25000.50")`` → ``"25000.50"``), amounts with at least two decimals,
  whole numbers without ``.0``, dates in ISO form, booleans as "Ja"/"Nej".
- **Text into numbers, booleans and dates** is parsed: Danish/Swedish decimal commas and thousands separators
  ("25.000,50", "25 000,50", "1,5"), "ja/nej", "yes/no", "true/false", "1/0", and ISO or dd-mm-yyyy /
  dd.mm.yyyy dates. What cannot be read with certainty (including "12,345", which is 12.345 in Denmark and
  12345 in England) is refused, naming the field and the value.

Blank values (None, "", spaces) pass through as they are, except that an empty text written into a country enum
becomes its "Unknown" (and "Unknown" read from one is blank). Anything else not listed passes through unchanged.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

import pycountry

from integrations.systems.catalog import FieldSpec, FieldType
from integrations.systems.errors import ExternalSystemError

#: ``FieldSpec.value_kind`` values this module knows.
#: A country's name in the language of the account that keeps it (webCRM's OrganisationCountry).
COUNTRY_NAME = "country_name"
#: An ISO 3166-1 alpha-2 code in capitals (Fortnox CountryCode, Visma.net country.id).
COUNTRY_CODE = "country_code"
#: An ISO 3166-1 alpha-2 code in small letters (Customers 1st country, addr_country).
COUNTRY_CODE_LOWER = "country_code_lower"
#: The English short name written without spaces, as a .NET enum names it (Uniconta's CountryCode: "Denmark",
#: "UnitedKingdom", "FaroeIslands"; docs/vendors/uniconta.md).
COUNTRY_ENUM = "country_enum"
#: An English country name, with Sweden as "Sverige" (Fortnox's Country fields; docs/vendors/fortnox.md).
COUNTRY_NAME_EN = "country_name_en"
#: A sum of money: written into text with at least two decimals ("25000.50").
AMOUNT = "amount"

COUNTRY_KINDS = frozenset({COUNTRY_NAME, COUNTRY_CODE, COUNTRY_CODE_LOWER, COUNTRY_ENUM, COUNTRY_NAME_EN})
VALUE_KINDS = COUNTRY_KINDS | {AMOUNT}

#: The language country names are written in when the account's language is not known (docs/decisions.md).
DEFAULT_LANGUAGE = "da"
#: Languages whose names are recognised when reading; English is pycountry's own data.
NAME_LANGUAGES = ("da", "sv", "nb", "nn", "de", "fi")
#: The order in which a name's language is guessed when several languages spell it alike ("Sverige").
LANGUAGE_PREFERENCE = ("da", "sv", "nb", "en", "de", "nn", "fi")

TEXT_TYPES = frozenset({FieldType.STRING, FieldType.TEXT})
NUMBER_TYPES = frozenset({FieldType.INTEGER, FieldType.DECIMAL})
TRUE_WORDS = frozenset({"ja", "j", "yes", "y", "true", "sand", "sant", "1", "x"})
FALSE_WORDS = frozenset({"nej", "nei", "n", "no", "false", "falsk", "falskt", "0"})


class ValueRefused(ExternalSystemError):
    """A value that cannot be written into its target field with certainty; nothing is written.

    Raised out of the mapping, before any write; the engine parks the change with ``message`` (plain words
    naming the field and the value) and it can be replayed once the record is corrected.
    """

    def __init__(self, message: str, *, field: str = "", value: Any = None):
        super().__init__(message)
        self.field = field
        self.value = value


# -- the entry point -----------------------------------------------------------------------------------------

def value_convert(value: Any, *, source: FieldSpec | None, target: FieldSpec | None) -> Any:
    """``value`` (read from ``source``) as the ``target`` field keeps it.

    Unchanged when the target's description is unknown, when the value is blank, or when the kinds agree.
    Raises :class:`ValueRefused` when the value cannot be converted with certainty.
    """
    if target is None:
        return value
    target_kind = target.value_kind
    if target_kind == COUNTRY_ENUM and isinstance(value, str) and not value.strip():
        return UNSET_ENUM  # an enum has no empty value: a country cleared is "Unknown"
    if _blank(value):
        return value
    if target_kind in COUNTRY_KINDS:
        source_kind = source.value_kind if source is not None else ""
        if source_kind == target_kind and isinstance(value, str):
            return value
        if source_kind == COUNTRY_ENUM and value == UNSET_ENUM:
            return None
        code = country_code_of(value, source=source, target=target)
        return country_render(code, target_kind)
    if target_kind and target_kind not in VALUE_KINDS:
        raise ValueRefused(f"{target.display} is of a kind Synkro does not know ({target_kind}); nothing was "
                           "written.", field=target.name, value=value)
    if target.type in TEXT_TYPES:
        return text_of(value, source=source)
    if target.type in NUMBER_TYPES:
        return number_of(value, source=source, target=target)
    if target.type == FieldType.BOOLEAN:
        return boolean_of(value, source=source, target=target)
    if target.type == FieldType.DATE:
        return date_of(value, source=source, target=target)
    return value


def converts(source: FieldSpec | None, target: FieldSpec | None) -> str:
    """How :func:`value_convert` treats values of ``source`` written into ``target``, in words ("" for as is).

    For the mapping screens: "country", "number→text", "text→number", "bool→text", "text→bool", "date→text",
    "text→date", or "" when the value is passed through unchanged.
    """
    if source is None or target is None:
        return ""
    if target.value_kind in COUNTRY_KINDS:
        return "" if source.value_kind == target.value_kind else "country"
    if target.type in TEXT_TYPES:
        return {FieldType.INTEGER: "number→text", FieldType.DECIMAL: "number→text", FieldType.BOOLEAN: "bool→text",
                FieldType.DATE: "date→text", FieldType.DATETIME: "date→text"}.get(source.type, "")
    if source.type in TEXT_TYPES and source.value_kind not in COUNTRY_KINDS:
        return {FieldType.INTEGER: "text→number", FieldType.DECIMAL: "text→number", FieldType.BOOLEAN: "text→bool",
                FieldType.DATE: "text→date"}.get(target.type, "")
    return ""


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _from(source: FieldSpec | None) -> str:
    return source.display if source is not None else "the field read"


# -- countries -------------------------------------------------------------------------------------------------

def _key(text: str) -> str:
    """A country's spelling compared without case, spaces or punctuation ("United Kingdom" = "UnitedKingdom")."""
    return re.sub(r"[\W_]+", "", text.casefold())


@cache
def _translation(language: str) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])


def _english_names(country: Any) -> list[str]:
    return [n for n in (getattr(country, a, None) for a in ("name", "official_name", "common_name")) if n]


@cache
def _spellings() -> dict[str, tuple[str, frozenset[str]]]:
    """Every recognised spelling (as :func:`_key` writes it) → (alpha-2 code, languages spelling it so).

    Spellings claimed by two countries are left out, so they are refused rather than guessed.
    """
    found: dict[str, dict[str, set[str]]] = {}

    def add(spelling: str, code: str, language: str) -> None:
        key = _key(spelling)
        if key:
            found.setdefault(key, {}).setdefault(code, set()).add(language)

    for country in pycountry.countries:
        add(country.alpha_2, country.alpha_2, "code")
        add(country.alpha_3, country.alpha_2, "code")
        for name in _english_names(country):
            add(name, country.alpha_2, "en")
            for language in NAME_LANGUAGES:
                for spelling in _translation(language).gettext(name).split(";"):
                    add(spelling, country.alpha_2, language)
    return {key: (next(iter(codes)), frozenset(codes[next(iter(codes))]))
            for key, codes in found.items() if len(codes) == 1}


def country_lookup(text: str) -> str | None:
    """The ISO 3166-1 alpha-2 code ``text`` names, in any recognised form and language; None if none."""
    entry = _spellings().get(_key(str(text)))
    return entry[0] if entry else None


def country_language(text: str) -> str | None:
    """The language ``text`` is a country name in (the preferred one when several spell it alike), else None."""
    entry = _spellings().get(_key(str(text)))
    if entry is None:
        return None
    return next((lang for lang in LANGUAGE_PREFERENCE if lang in entry[1]), None)


def country_code_of(value: Any, *, source: FieldSpec | None = None, target: FieldSpec | None = None) -> str:
    """The alpha-2 code ``value`` names; :class:`ValueRefused` naming both fields when it names no country."""
    code = country_lookup(value) if isinstance(value, str) else None
    if code is None:
        what = target.display if target is not None else "a country field"
        raise ValueRefused(
            f"{_from(source)} holds “{value}”, which Synkro does not recognise as a country, so it was not written "
            f"into {what}. Correct the country (for example “Danmark”, “Sverige” or “DK”) and save the record "
            "again.", field=target.name if target is not None else "", value=value)
    return code


def country_name(code: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The country's short name in ``language`` (da, sv, nb, nn, de, fi, en), from pycountry's translations."""
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        raise ValueRefused(f"“{code}” is not an ISO 3166 country code.", value=code)
    return _translation(language).gettext(country.name).split(";")[0].strip()


def country_enum_name(code: str) -> str:
    """The English short name without spaces or punctuation, as a .NET enum spells it ("UnitedKingdom")."""
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        raise ValueRefused(f"“{code}” is not an ISO 3166 country code.", value=code)
    name = getattr(country, "common_name", None) or country.name
    return re.sub(r"[^0-9A-Za-z]+", "", " ".join(w[:1].upper() + w[1:] for w in name.split()))


#: The enum value of a country left unset (Uniconta's ``CountryCode.Unknown``): no country, not a wrong one.
UNSET_ENUM = "Unknown"

#: English short names a vendor does not take, and what it takes instead (Fortnox answers "Ogiltigt land: Sweden"
#: and wants "Czech Republic" for Czechia; docs/vendors/fortnox.md).
ENGLISH_NAME_EXCEPTIONS = {"SE": "Sverige", "CZ": "Czech Republic"}


def country_render(code: str, kind: str, *, language: str = DEFAULT_LANGUAGE) -> str:
    """The country ``code`` in the form of a field of ``kind`` (one of :data:`COUNTRY_KINDS`)."""
    if kind == COUNTRY_CODE:
        return code.upper()
    if kind == COUNTRY_CODE_LOWER:
        return code.lower()
    if kind == COUNTRY_ENUM:
        return country_enum_name(code)
    if kind == COUNTRY_NAME_EN:
        return ENGLISH_NAME_EXCEPTIONS.get(code.upper()) or country_name(code, "en")
    return country_name(code, language)


def same_country(a: Any, b: Any) -> bool:
    """Whether two spellings name one country ("Sweden" and "Sverige"); False when either names none."""
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    code = country_lookup(a)
    return code is not None and code == country_lookup(b)


def country_name_like(value: Any, current: Any) -> Any:
    """``value`` (a country name) in the language ``current`` (the name the record holds now) is written in.

    The account's language is not known to Synkro; the names it already holds say it. Unchanged when either
    is not a recognised country name.
    """
    language = country_language(current) if isinstance(current, str) else None
    code = country_lookup(value) if isinstance(value, str) else None
    if language in (None, "code") or code is None:
        return value
    return country_name(code, language)


# -- numbers, booleans and dates into text -----------------------------------------------------------------------

def text_of(value: Any, *, source: FieldSpec | None = None) -> Any:
    """A number, boolean or date as text; text and anything else unchanged."""
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueRefused(f"{_from(source)} holds “{value}”, which is not a number.", value=value)
        if source is not None and source.value_kind == AMOUNT and value.as_tuple().exponent > -2:
            value = value.quantize(Decimal("0.01"))
        if source is not None and source.type == FieldType.INTEGER and value == value.to_integral_value():
            value = value.quantize(Decimal(1))
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


# -- text into numbers -----------------------------------------------------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
_DIGITS = re.compile(r"^[+-]?\d+$")
#: Whole numbers with thousands separators, ``{sep}`` filled in: "1.234.567".
_GROUPED = r"[+-]?\d{{1,3}}(?:{sep}\d{{3}})+"


def parse_number(text: str) -> Decimal | None:
    """The number in ``text`` read as a Dane, Swede or machine writes it; None when unreadable or ambiguous.

    "25.000,50", "25 000,50", "1.234.567,89", "1,5", "25000.50" and "-3" are read; "12,345" and "12.345" (a
    decimal comma or a thousands separator?) are not.
    """
    cleaned = _SPACES.sub(" ", text.strip().replace("\u2212", "-"))
    if " " in cleaned:
        if not re.fullmatch(r"[+-]?\d{1,3}(?: \d{3})+(?:[.,]\d+)?", cleaned):
            return None
        cleaned = cleaned.replace(" ", "")
    if not cleaned:
        return None
    commas, dots = cleaned.count(","), cleaned.count(".")
    if commas and dots:
        decimal_mark = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        whole, _, fraction = cleaned.rpartition(decimal_mark)
        if whole.count(decimal_mark) or not re.fullmatch(_GROUPED.format(sep=re.escape(thousands)), whole):
            return None
        if not fraction.isdigit():
            return None
        return _decimal(whole.replace(thousands, "") + "." + fraction)
    for mark, count in ((",", commas), (".", dots)):
        if count > 1:  # only thousands separators: "1.234.567"
            if not re.fullmatch(_GROUPED.format(sep=re.escape(mark)), cleaned):
                return None
            return _decimal(cleaned.replace(mark, ""))
        if count == 1:
            whole, _, fraction = cleaned.partition(mark)
            if not _DIGITS.match(whole or "0") or not fraction.isdigit():
                return None
            digits = whole.lstrip("+-")
            if len(fraction) == 3 and 1 <= len(digits) <= 3 and digits.strip("0"):
                return None  # "12,345": a decimal comma in Danish, a thousands separator in English
            return _decimal((whole or "0") + "." + fraction)
    return _decimal(cleaned) if _DIGITS.match(cleaned) else None


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def number_of(value: Any, *, source: FieldSpec | None = None, target: FieldSpec) -> Any:
    """Text read as a number for ``target`` (an integer or decimal field); numbers as they are."""
    if isinstance(value, bool):
        raise ValueRefused(f"{_from(source)} holds a yes/no value, which cannot be written into the number field "
                           f"{target.display}.", field=target.name, value=value)
    number: Any = value
    if isinstance(value, str):
        number = parse_number(value)
        if number is None:
            raise ValueRefused(
                f"{_from(source)} holds “{value}”, which is not a number Synkro can read with certainty, so it was "
                f"not written into {target.display}. Write it as digits with a decimal comma, e.g. 25000,50.",
                field=target.name, value=value)
    if target.type == FieldType.INTEGER and isinstance(number, Decimal | float):
        exact = Decimal(repr(number)) if isinstance(number, float) else number
        if exact != exact.to_integral_value():
            raise ValueRefused(f"{_from(source)} holds “{value}”, but {target.display} takes whole numbers only.",
                               field=target.name, value=value)
        return int(exact)
    return number


# -- text into booleans and dates ------------------------------------------------------------------------------

def boolean_of(value: Any, *, source: FieldSpec | None = None, target: FieldSpec) -> Any:
    """Text ("ja/nej", "yes/no", "true/false", "1/0") or 1/0 read as a boolean; booleans as they are."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().casefold() if isinstance(value, str | int | Decimal) else None
    if isinstance(value, Decimal) and value in (0, 1):
        word = str(int(value))
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueRefused(f"{_from(source)} holds “{value}”, which is not a yes or a no, so it was not written into "
                       f"{target.display}. Use ja/nej, yes/no, true/false or 1/0.", field=target.name, value=value)


_DAY_FIRST = re.compile(r"^(\d{1,2})[-./](\d{1,2})[-./](\d{4})$")


def parse_date(text: str) -> date | str | None:
    """An ISO date, an ISO date-time (kept as written) or dd-mm-yyyy / dd.mm.yyyy; None when none of them."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
        return text
    except ValueError:
        pass
    match = _DAY_FIRST.match(text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        try:
            return date(year, month, day)
        except ValueError:
            return None
    return None


def date_of(value: Any, *, source: FieldSpec | None = None, target: FieldSpec) -> Any:
    """Text read as a date for ``target``; dates and anything not text as they are."""
    if not isinstance(value, str):
        return value
    parsed = parse_date(value)
    if parsed is None:
        raise ValueRefused(f"{_from(source)} holds “{value}”, which is not a date Synkro can read, so it was not "
                           f"written into {target.display}. Use 2024-05-31 or 31-05-2024.",
                           field=target.name, value=value)
    return parsed.isoformat() if isinstance(parsed, date) else parsed


def kinds_in(specs: Iterable[FieldSpec]) -> set[str]:
    """The value kinds used by ``specs`` (for checks that every kind in a catalog is one this module knows)."""
    return {spec.value_kind for spec in specs if spec.value_kind}
