"""Every default mapping row of every pair, both ways: a source that can be longer than its target is handled.

Walks ``mappings.defaults.PAIR_ROWS`` against the real catalogs. Where the target has a known limit and the
source's is larger or unknown, the pipeline (``map_value``) must bring a longer text within the limit at a word
boundary, or — for a target that must arrive whole (a number, code, id, phone, e-mail, web address) — refuse it
with the field and both lengths named; and the rows the defaults create say "shorten".
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from integrations.engine.limits import ValueTooLong
from integrations.engine.mapping import TO_CRM, TO_ERP, map_value, rules_for
from integrations.systems.registry import get_system
from mappings.defaults import PAIR_ROWS
from mappings.models import FieldMapping
from tests.harness import make_pair

TEXT_KINDS = ("string", "text", "email", "choice", "reference")


@dataclass
class Row:
    erp_field: str
    crm_field: str
    direction: str
    required: bool
    value_map: dict
    conflict_owner: str = ""
    overflow: str = "shorten"


def overflowing_rules():
    """(pair, entity, rule) for each default row and flow whose source can hold more than its target."""
    found = []
    for (front, erp), entities in PAIR_ROWS.items():
        front_catalog, erp_catalog = get_system(front).catalog(), get_system(erp).catalog()
        for entity, rows in entities.items():
            crm_spec, erp_spec = front_catalog.entity(entity), erp_catalog.entity(entity)
            objects = [Row(e, c, d, r, {}) for e, c, d, r in rows]
            for flow in (TO_ERP, TO_CRM):
                for rule in rules_for(objects, flow=flow, entity_direction="two_way", crm_spec=crm_spec,
                                      erp_spec=erp_spec):
                    source, target = rule.source_spec, rule.target_spec
                    assert source is not None and target is not None, (front, erp, entity, rule.key)
                    if target.type not in TEXT_KINDS or source.type not in TEXT_KINDS or not target.max_length:
                        continue
                    if source.max_length is not None and source.max_length <= target.max_length:
                        continue
                    found.append(((front, erp), entity, rule))
    return found


OVERFLOWING = overflowing_rules()


def test_the_survey_finds_the_known_cases():
    keys = {(pair, str(entity), rule.source, rule.target) for pair, entity, rule in OVERFLOWING}
    assert (("webcrm", "uniconta"), "organisation", "OrganisationName", "Name") in keys
    assert (("webcrm", "vismanet"), "organisation", "OrganisationName", "name") in keys
    assert (("webcrm", "fortnox"), "organisation", "Name", "OrganisationName") in keys
    assert (("customers1st", "uniconta"), "organisation", "name", "Name") in keys


@pytest.mark.parametrize(("pair", "entity", "rule"), OVERFLOWING,
                         ids=[f"{p[0]}-{p[1]}-{e}-{r.source}-{r.target}" for p, e, r in OVERFLOWING])
def test_a_longer_source_value_is_fitted_to_its_target(pair, entity, rule):
    limit = rule.target_spec.max_length
    words = " ".join(f"ord{n}" for n in range(limit))  # far longer than the limit, words of 4-6 characters
    notes: dict[str, str] = {}
    if rule.exact:  # a cut number, code or address would name something else: refused, nothing written
        with pytest.raises(ValueTooLong, match=f"{rule.target} holds at most {limit}"):
            map_value(rule, words, notes=notes)
        assert notes == {}
        return
    fitted = map_value(rule, words, notes=notes)
    assert isinstance(fitted, str) and 0 < len(fitted) <= limit
    assert words.startswith(fitted) and words[len(fitted)] == " "  # cut between two words
    assert notes[rule.target].startswith(f"{rule.target} shortened from {len(words)} to {len(fitted)} characters")


def test_numbers_codes_and_addresses_are_never_cut():
    exact = {(pair, str(entity), rule.target) for pair, entity, rule in OVERFLOWING if rule.exact}
    for case in ((("webcrm", "uniconta"), "organisation", "Account"),
                 (("webcrm", "uniconta"), "organisation", "OrganisationVatNumber"),
                 (("webcrm", "uniconta"), "organisation", "OrganisationTelephone"),
                 (("webcrm", "fortnox"), "organisation", "ZipCode"),
                 (("webcrm", "fortnox"), "item", "ArticleNumber"),
                 (("customers1st", "uniconta"), "item", "Item")):
        assert case in exact, case
    cut = {(pair, str(entity), rule.target) for pair, entity, rule in OVERFLOWING if not rule.exact}
    assert (("webcrm", "uniconta"), "organisation", "Name") in cut


def test_default_rows_shorten(db, synkro, sandboxes):
    for front, erp in PAIR_ROWS:
        make_pair(front, erp, sandboxes)
    overflow = set(FieldMapping.objects.values_list("overflow", flat=True))
    assert overflow == {"shorten"}
    assert FieldMapping.objects.count() > 40
