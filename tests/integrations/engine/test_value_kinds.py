"""Values converted between the kinds of the field read and the field written: countries, numbers, text."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from integrations.engine.values import (
    ValueRefused,
    converts,
    country_name_like,
    parse_number,
    same_country,
    value_convert,
)
from integrations.systems.catalog import FieldSpec, FieldType

WEBCRM_COUNTRY = FieldSpec("OrganisationCountry", "Country", value_kind="country_name", max_length=50)
FORTNOX_CODE = FieldSpec("CountryCode", max_length=2, value_kind="country_code")
FORTNOX_NAME = FieldSpec("Country", value_kind="country_name_en")
C1ST_CODE = FieldSpec("addr_country", "Address country", value_kind="country_code_lower")
UNICONTA_COUNTRY = FieldSpec("Country", type=FieldType.CHOICE, value_kind="country_enum")
VISMA_CODE = FieldSpec("mainAddress.country.id", "Address country", value_kind="country_code")
TEXT = FieldSpec("OrganisationCustom1", "Custom 1")
CREDIT_MAX = FieldSpec("CreditMax", "Credit limit", FieldType.DECIMAL, value_kind="amount")
DECIMAL = FieldSpec("Discount", type=FieldType.DECIMAL)
INTEGER = FieldSpec("OrganisationXInt1", type=FieldType.INTEGER)
BOOLEAN = FieldSpec("Blocked", type=FieldType.BOOLEAN)
DATE = FieldSpec("OrganisationXDate1", type=FieldType.DATE)
DATETIME = FieldSpec("UpdatedAt", type=FieldType.DATETIME)


@pytest.mark.parametrize(("name", "code"), [
    ("Danmark", "DK"), ("Sverige", "SE"), ("Norge", "NO"), ("Tyskland", "DE"), ("Storbritannien", "GB"),  # da
    ("Förenade kungariket", "GB"), ("Nederländerna", "NL"), ("Finland", "FI"),  # sv
    ("Storbritannia", "GB"), ("Nederland", "NL"), ("De forente stater", "US"),  # nb
    ("United Kingdom", "GB"), ("Germany", "DE"), ("Netherlands", "NL"), ("Denmark", "DK"),  # en
    ("Deutschland", "DE"), ("Dänemark", "DK"), ("Schweden", "SE"), ("Vereinigtes Königreich", "GB"),  # de
    ("Holland", "NL"), ("USA", "US"),  # variants pycountry's translations give
    ("  sverige ", "SE"), ("DANMARK", "DK"), ("united  kingdom", "GB"), ("UnitedKingdom", "GB"),  # case and spaces
    ("DK", "DK"), ("se", "SE"), ("DEU", "DE"),  # codes are read too
])
def test_country_names_in_every_language_become_codes(name, code):
    assert value_convert(name, source=WEBCRM_COUNTRY, target=FORTNOX_CODE) == code
    assert value_convert(name, source=WEBCRM_COUNTRY, target=VISMA_CODE) == code
    assert value_convert(name, source=WEBCRM_COUNTRY, target=C1ST_CODE) == code.lower()


@pytest.mark.parametrize(("code", "danish", "enum", "english"), [
    ("DK", "Danmark", "Denmark", "Denmark"), ("SE", "Sverige", "Sweden", "Sverige"),
    ("NO", "Norge", "Norway", "Norway"),
    ("DE", "Tyskland", "Germany", "Germany"), ("GB", "Storbritannien", "UnitedKingdom", "United Kingdom"),
    ("FO", "Færøerne", "FaroeIslands", "Faroe Islands"), ("CZ", "Tjekkiet", "Czechia", "Czech Republic"),
])
def test_codes_become_names_in_each_target_form(code, danish, enum, english):
    assert value_convert(code, source=FORTNOX_CODE, target=WEBCRM_COUNTRY) == danish
    assert value_convert(code.lower(), source=C1ST_CODE, target=WEBCRM_COUNTRY) == danish
    assert value_convert(code, source=VISMA_CODE, target=UNICONTA_COUNTRY) == enum
    assert value_convert(code, source=FORTNOX_CODE, target=FORTNOX_NAME) == english
    assert value_convert(enum, source=UNICONTA_COUNTRY, target=WEBCRM_COUNTRY) == danish


def test_a_country_in_the_same_form_is_left_as_written():
    assert value_convert("Sweden", source=WEBCRM_COUNTRY, target=WEBCRM_COUNTRY) == "Sweden"


@pytest.mark.parametrize("name", ["Sverigee", "Skandinavien", "UK", "England", "Europe", "12"])
def test_a_name_that_names_no_country_is_refused_naming_field_and_value(name):
    with pytest.raises(ValueRefused) as refused:
        value_convert(name, source=WEBCRM_COUNTRY, target=FORTNOX_CODE)
    message = refused.value.message
    assert f"“{name}”" in message and "Country (OrganisationCountry)" in message and "CountryCode" in message
    assert refused.value.field == "CountryCode"


def test_free_text_written_into_a_country_field_is_converted_or_refused_too():
    assert value_convert("Norge", source=TEXT, target=FORTNOX_CODE) == "NO"
    assert value_convert("Norge", source=None, target=FORTNOX_CODE) == "NO"
    with pytest.raises(ValueRefused):
        value_convert("Nordpolen", source=TEXT, target=FORTNOX_CODE)


def test_blank_countries_stay_blank_and_an_unset_enum_is_blank():
    assert value_convert("", source=WEBCRM_COUNTRY, target=FORTNOX_CODE) == ""
    assert value_convert(None, source=WEBCRM_COUNTRY, target=FORTNOX_CODE) is None
    assert value_convert("Unknown", source=UNICONTA_COUNTRY, target=WEBCRM_COUNTRY) is None
    assert value_convert("", source=WEBCRM_COUNTRY, target=UNICONTA_COUNTRY) == "Unknown"


def test_a_code_read_back_names_the_same_country_as_the_name_written():
    assert same_country("Sverige", "SE") and same_country("Sweden", "Sverige") and not same_country("Sverige", "NO")
    assert not same_country("Sverigee", "Sverigee")
    # A new country is written in the language of the name the record holds.
    assert country_name_like("Tyskland", "Sweden") == "Germany"
    assert country_name_like("Tyskland", "Schweden") == "Deutschland"
    assert country_name_like("Tyskland", "") == "Tyskland"


@pytest.mark.parametrize(("value", "source", "text"), [
    (Decimal("25000.50"), DECIMAL, "25000.50"),  # the scale it was read with
    (Decimal("25000.5"), CREDIT_MAX, "25000.50"),  # amounts keep two decimals
    (Decimal("25000"), CREDIT_MAX, "25000.00"),
    (Decimal("0.125"), CREDIT_MAX, "0.125"),
    (0.1, DECIMAL, "0.1"),  # no float artefacts
    (Decimal("0.1"), None, "0.1"),
    (Decimal("1E+3"), DECIMAL, "1000"),
    (12, INTEGER, "12"),
    (Decimal("12.0"), INTEGER, "12"),  # whole numbers without ".0"
    (True, BOOLEAN, "Ja"), (False, BOOLEAN, "Nej"),
    (date(2024, 5, 31), DATE, "2024-05-31"),
    (datetime(2024, 5, 31, 14, 30), DATETIME, "2024-05-31T14:30:00"),
    ("already text", TEXT, "already text"),
])
def test_numbers_booleans_and_dates_into_text(value, source, text):
    assert value_convert(value, source=source, target=TEXT) == text


@pytest.mark.parametrize(("text", "number"), [
    ("25.000,50", Decimal("25000.50")), ("25 000,50", Decimal("25000.50")), ("25\u00a0000,50", Decimal("25000.50")),
    ("1,5", Decimal("1.5")), ("1.234.567,89", Decimal("1234567.89")), ("25000.50", Decimal("25000.50")),
    ("25,000.50", Decimal("25000.50")), ("1 234 567", Decimal("1234567")), ("-1,5", Decimal("-1.5")),
    ("0,125", Decimal("0.125")), ("42", Decimal("42")), (" 7 ", Decimal("7")),
])
def test_text_into_numbers_reads_decimal_commas_and_thousands(text, number):
    assert parse_number(text) == number
    converted = value_convert(text, source=TEXT, target=DECIMAL)
    assert converted == number and str(converted) == str(number)  # the scale is kept: 25000.50, not 25000.5


@pytest.mark.parametrize("text", ["abc", "12,345", "1.000", "1,2,3", "25.000.50,1,2", "1 23", "kr 100", "1.234,5.6"])
def test_text_that_is_not_a_number_or_is_ambiguous_is_refused(text):
    with pytest.raises(ValueRefused) as refused:
        value_convert(text, source=TEXT, target=DECIMAL)
    assert f"“{text}”" in refused.value.message and "Discount" in refused.value.message


def test_text_into_whole_numbers():
    with pytest.raises(ValueRefused, match=r"“1\.234”"):  # 1234 in Denmark, 1.234 in England: not guessed
        value_convert("1.234", source=TEXT, target=INTEGER)
    assert value_convert("1.234.567", source=TEXT, target=INTEGER) == 1234567
    assert value_convert(Decimal("4.0"), source=DECIMAL, target=INTEGER) == 4
    with pytest.raises(ValueRefused, match="whole numbers only"):
        value_convert("1,5", source=TEXT, target=INTEGER)
    with pytest.raises(ValueRefused):
        value_convert(True, source=BOOLEAN, target=INTEGER)


@pytest.mark.parametrize(("text", "flag"), [
    ("ja", True), ("Nej", False), ("YES", True), ("no", False), ("true", True), ("False", False), ("1", True),
    ("0", False), (1, True), (0, False), (True, True),
])
def test_text_into_booleans(text, flag):
    assert value_convert(text, source=TEXT, target=BOOLEAN) is flag


def test_text_that_is_not_yes_or_no_is_refused():
    with pytest.raises(ValueRefused, match="“måske”"):
        value_convert("måske", source=TEXT, target=BOOLEAN)


@pytest.mark.parametrize(("text", "iso"), [
    ("2024-05-31", "2024-05-31"), ("31-05-2024", "2024-05-31"), ("31.05.2024", "2024-05-31"),
    ("1.5.2024", "2024-05-01"), ("2024-05-31T10:00:00", "2024-05-31T10:00:00"),
])
def test_text_into_dates(text, iso):
    assert value_convert(text, source=TEXT, target=DATE) == iso


@pytest.mark.parametrize("text", ["31/13/2024", "maj 2024", "2024-02-30", "05-31-2024"])
def test_text_that_is_not_a_date_is_refused(text):
    with pytest.raises(ValueRefused, match="not a date"):
        value_convert(text, source=TEXT, target=DATE)


def test_unknown_descriptions_leave_values_alone():
    assert value_convert(Decimal("1.50"), source=DECIMAL, target=None) == Decimal("1.50")
    assert value_convert("x", source=None, target=FieldSpec("Ref", type=FieldType.REFERENCE)) == "x"


def test_an_unknown_value_kind_is_refused_rather_than_passed_blind():
    with pytest.raises(ValueRefused, match="does not know"):
        value_convert("SE", source=TEXT, target=FieldSpec("Odd", value_kind="country_colour"))


def test_converts_names_what_happens_for_the_mapping_screens():
    assert converts(WEBCRM_COUNTRY, FORTNOX_CODE) == "country"
    assert converts(WEBCRM_COUNTRY, WEBCRM_COUNTRY) == ""
    assert converts(CREDIT_MAX, TEXT) == "number→text"
    assert converts(TEXT, DECIMAL) == "text→number"
    assert converts(TEXT, BOOLEAN) == "text→bool"
    assert converts(TEXT, TEXT) == ""
