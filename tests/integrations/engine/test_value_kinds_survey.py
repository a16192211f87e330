"""A survey of every catalog and every default mapping: no value is written into a field of another kind blind.

Every field that holds a country says in which form; every row whose source and target differ in kind (a name
into a code field, a number into text, text into a number ...) goes through ``value_convert``, which either
gives a value of the target's kind or refuses it in words. Nothing is passed through as it is.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pycountry
import pytest

from integrations.engine.mapping import TO_CRM, TO_ERP, map_value, rules_for
from integrations.engine.values import (
    COUNTRY_CODE,
    COUNTRY_CODE_LOWER,
    COUNTRY_ENUM,
    COUNTRY_KINDS,
    COUNTRY_NAME,
    COUNTRY_NAME_EN,
    VALUE_KINDS,
    ValueRefused,
    country_lookup,
    country_render,
    value_convert,
)
from integrations.systems.catalog import Catalog, FieldSpec, FieldType
from integrations.systems.registry import get_system
from mappings.defaults import PAIR_ROWS

SYSTEMS = ("webcrm", "uniconta", "fortnox", "vismanet", "customers1st")
#: Fields named for a country that take no conversion, and why.
NOT_A_COUNTRY_FORM = {
    ("webcrm", "OrganisationVatCountry"): "webCRM's spec gives only a 10-character string; its form is not documented",
}


def catalog(system: str) -> Catalog:
    return get_system(system).catalog()


def every_field(system: str):
    for entity in catalog(system).entities:
        for spec in entity.fields:
            yield entity, spec


@pytest.mark.parametrize("system", SYSTEMS)
def test_every_value_kind_in_the_catalogs_is_one_the_conversion_knows(system):
    unknown = {(entity.vendor_name, spec.name, spec.value_kind) for entity, spec in every_field(system)
               if spec.value_kind and spec.value_kind not in VALUE_KINDS}
    assert unknown == set()


@pytest.mark.parametrize("system", SYSTEMS)
def test_every_country_field_says_in_which_form_it_holds_the_country(system):
    missing = {(entity.vendor_name, spec.name) for entity, spec in every_field(system)
               if "country" in spec.name.lower() and spec.value_kind not in COUNTRY_KINDS
               and (system, spec.name) not in NOT_A_COUNTRY_FORM}
    assert missing == set()


def sample(spec: FieldSpec) -> Any:
    """A typical value read from ``spec``: Sweden in the field's country form, else a value of its type."""
    if spec.value_kind in COUNTRY_KINDS:
        return country_render("SE", spec.value_kind)
    return {FieldType.DECIMAL: Decimal("25000.50"), FieldType.INTEGER: 42, FieldType.BOOLEAN: True,
            FieldType.DATE: date(2024, 5, 31), FieldType.DATETIME: datetime(2024, 5, 31, 14, 30),
            FieldType.LIST: []}.get(spec.type, "Sverige")


def fits(value: Any, target: FieldSpec) -> bool:
    """Whether ``value`` is of the kind ``target`` keeps."""
    kind = target.value_kind
    if kind == COUNTRY_CODE:
        return bool(re.fullmatch("[A-Z]{2}", value)) and pycountry.countries.get(alpha_2=value) is not None
    if kind == COUNTRY_CODE_LOWER:
        return bool(re.fullmatch("[a-z]{2}", value)) and pycountry.countries.get(alpha_2=value) is not None
    if kind == COUNTRY_ENUM:
        return bool(re.fullmatch("[A-Za-z0-9]+", value)) and country_lookup(value) == "SE"
    if kind in (COUNTRY_NAME, COUNTRY_NAME_EN):
        return len(value) > 2 and country_lookup(value) == "SE"
    if target.type in (FieldType.STRING, FieldType.TEXT):
        return isinstance(value, str)
    if target.type in (FieldType.INTEGER, FieldType.DECIMAL):
        return isinstance(value, int | Decimal) and not isinstance(value, bool)
    if target.type == FieldType.BOOLEAN:
        return isinstance(value, bool)
    if target.type == FieldType.DATE:
        return isinstance(value, date | str)
    return True


def converted_or_refused(value: Any, *, source: FieldSpec | None, target: FieldSpec) -> bool:
    try:
        return fits(value_convert(value, source=source, target=target), target)
    except ValueRefused as refused:
        return bool(refused.message)


PAIRS = [(front, erp, entity) for (front, erp), entities in PAIR_ROWS.items() for entity in entities]


@pytest.mark.parametrize(("front", "erp", "entity"), PAIRS)
def test_every_default_row_writes_values_of_its_targets_kind(front, erp, entity):
    crm_spec, erp_spec = catalog(front).entity(entity), catalog(erp).entity(entity)
    rows = [type("Row", (), {"erp_field": e, "crm_field": c, "direction": d, "value_map": {}, "required": r,
                             "conflict_owner": "", "overflow": "shorten"})()
            for e, c, d, r in PAIR_ROWS[(front, erp)][entity]]
    checked = 0
    for flow in (TO_ERP, TO_CRM):
        for rule in rules_for(rows, flow=flow, entity_direction="two_way", crm_spec=crm_spec, erp_spec=erp_spec):
            if rule.source_spec is None or rule.target_spec is None:
                continue  # a user-defined field: checked as text by the mapping validation
            try:
                written = map_value(rule, sample(rule.source_spec))
            except ValueRefused:
                continue
            assert fits(written, rule.target_spec), (flow, rule.key, written)
            checked += 1
    assert checked


@pytest.mark.parametrize("front", ["webcrm", "customers1st"])
@pytest.mark.parametrize("erp", ["uniconta", "fortnox", "vismanet"])
def test_any_field_mapped_onto_a_country_field_is_converted_or_refused(front, erp):
    """Every field of the front's organisation onto every country field of the ERP's, and back."""
    crm_spec, erp_spec = catalog(front).entity("organisation"), catalog(erp).entity("organisation")
    assert crm_spec is not None and erp_spec is not None
    pairs = [(s, t) for s in crm_spec.fields for t in erp_spec.fields if t.value_kind in COUNTRY_KINDS]
    pairs += [(s, t) for s in erp_spec.fields for t in crm_spec.fields if t.value_kind in COUNTRY_KINDS]
    assert pairs
    blind = [(s.name, t.name) for s, t in pairs if not converted_or_refused(sample(s), source=s, target=t)]
    assert blind == []
    # A name never reaches a code field as it is, from any field.
    for _, target in pairs:
        if target.value_kind in (COUNTRY_CODE, COUNTRY_CODE_LOWER):
            assert value_convert("Sverige", source=None, target=target).upper() == "SE"


@pytest.mark.parametrize("system", SYSTEMS)
def test_numbers_into_text_fields_and_text_into_number_fields_of_each_catalog(system):
    for entity in catalog(system).entities:
        text = [f for f in entity.fields if f.type in (FieldType.STRING, FieldType.TEXT) and not f.value_kind]
        numbers = [f for f in entity.fields if f.type in (FieldType.INTEGER, FieldType.DECIMAL)]
        for number in numbers[:5]:
            for target in text[:5]:
                assert isinstance(value_convert(sample(number), source=number, target=target), str)
                assert converted_or_refused("25.000,50", source=target, target=number)
                assert converted_or_refused("not a number", source=target, target=number)
