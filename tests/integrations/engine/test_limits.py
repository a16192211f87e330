"""Values longer than their field: shortened at a word boundary, or refused (``integrations/engine/limits.py``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations.engine.limits import REFUSE, SHORTEN, ValueTooLong, text_shorten, value_fit
from integrations.engine.mapping import FieldRule, map_record, map_value
from integrations.systems.catalog import FieldSpec, FieldType

NAME_100 = FieldSpec("Name", max_length=100)


def test_text_that_fits_is_left_alone():
    assert text_shorten("Havbrise Byg ApS", 16) == "Havbrise Byg ApS"
    assert value_fit("Havbrise Byg ApS", target=NAME_100, overflow=REFUSE).value == "Havbrise Byg ApS"


def test_text_is_cut_at_the_last_word_that_fits():
    assert text_shorten("Nordlys Handel og Byggemarked A/S", 20) == "Nordlys Handel og"
    assert text_shorten("Nordlys Handel og Byggemarked A/S", 14) == "Nordlys Handel"  # the cut falls on a space


def test_no_trailing_space_or_punctuation_is_left():
    assert text_shorten("Havbrise Byg, Tømrer & Snedker ApS", 14) == "Havbrise Byg"
    assert text_shorten("Skovly (Odense) – Tømrerfirma", 17) == "Skovly (Odense)"
    assert text_shorten("Alfa, Beta, Gamma", 11) == "Alfa, Beta"


def test_a_single_word_longer_than_the_limit_is_cut_inside_it():
    assert text_shorten("Donaudampfschifffahrtsgesellschaft GmbH", 10) == "Donaudampf"
    assert text_shorten("Ålesund", 3) == "Åle"


def test_shorten_mode_notes_the_field_and_both_lengths():
    text = "Havbrise " * 20  # 180 characters
    fitted = value_fit(text.strip(), target=NAME_100)
    assert len(fitted.value) <= 100 and not fitted.value.endswith(" ")
    assert fitted.value.split() == ["Havbrise"] * len(fitted.value.split())
    assert fitted.note == f"Name shortened from 179 to {len(fitted.value)} characters (it holds at most 100)."


def test_refuse_mode_raises_a_plain_refusal_naming_the_field_and_both_lengths():
    with pytest.raises(ValueTooLong) as refused:
        value_fit("x" * 150, target=NAME_100, overflow=REFUSE, source="OrganisationName")
    message = str(refused.value)
    assert "Name (from OrganisationName)" in message and "150 characters" in message and "at most 100" in message
    assert refused.value.transient is False  # parked at once, not retried


@pytest.mark.parametrize("value", [None, 12345678901, Decimal("1.5"), True, ["a" * 200]])
def test_only_text_is_measured(value):
    assert value_fit(value, target=FieldSpec("Name", max_length=3), overflow=REFUSE).value == value


def test_a_field_without_a_known_limit_takes_any_length():
    long = "ord " * 300
    assert value_fit(long, target=FieldSpec("Remark", type=FieldType.TEXT), overflow=REFUSE).value == long
    assert value_fit(long, target=None, overflow=REFUSE).value == long


def test_map_value_fits_after_the_value_map_and_reports_the_note():
    rule = FieldRule("OrganisationName", "Name", "Name", "OrganisationName", {"Kort": "Et meget langt navn i alt"},
                     target_spec=FieldSpec("Name", max_length=12), overflow=SHORTEN)
    notes: dict[str, str] = {}
    assert map_value(rule, "Kort", notes=notes) == "Et meget"
    assert notes == {"Name": "Name shortened from 25 to 8 characters (it holds at most 12)."}


def test_map_record_refuses_before_returning_anything():
    rules = [FieldRule("OrganisationCity", "City", "City", "OrganisationCity"),
             FieldRule("OrganisationName", "Name", "Name", "OrganisationName", target_spec=NAME_100, overflow=REFUSE)]
    with pytest.raises(ValueTooLong):
        map_record({"OrganisationCity": "Aarhus", "OrganisationName": "y" * 101}, rules)
    mapped = map_record({"OrganisationCity": "Aarhus", "OrganisationName": "y" * 100}, rules)
    assert mapped.values == {"City": "Aarhus", "Name": "y" * 100} and mapped.notes == {}


@pytest.mark.parametrize("name", ["CustomerNumber", "ZipCode", "Phone1", "VATNumber", "EAN", "WWW", "customerno",
                                  "OrganisationVatNumber", "Account", "UserIntegrationId"])
def test_a_number_code_or_address_is_refused_even_on_a_row_that_shortens(name):
    target = FieldSpec(name, max_length=10)
    assert target.exact
    with pytest.raises(ValueTooLong, match="a shortened copy would make wrong"):
        value_fit("12 34 56 78 90 12", target=target, overflow=SHORTEN)


def test_a_field_the_entity_matches_by_is_refused_when_the_rule_says_exact():
    target = FieldSpec("Item", max_length=5)
    assert not target.exact
    assert value_fit("Big red hat", target=target).value == "Big"
    with pytest.raises(ValueTooLong):
        value_fit("Big red hat", target=target, exact=True)


def test_free_text_without_a_word_break_within_the_limit_is_refused_not_cut():
    target = FieldSpec("Name", max_length=10)
    with pytest.raises(ValueTooLong, match="no word break"):
        value_fit("Aktieselskabet Nordlys", target=target)
    assert value_fit("Nordlys Aktieselskab", target=target).value == "Nordlys"
