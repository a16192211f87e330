"""Registering Synkro's webhook URL in each system, through the vendors' own APIs (sandboxes here)."""

from __future__ import annotations

import pytest

from integrations.services import integration_webhooks_register
from integrations.systems.catalog import Entity
from tests.harness import drain, make_pair

PAIRS = [("webcrm", "uniconta"), ("webcrm", "vismanet"), ("webcrm", "fortnox"), ("customers1st", "uniconta")]


@pytest.mark.django_db
@pytest.mark.parametrize(("front", "erp"), PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_registration_is_idempotent_and_says_what_it_did(front, erp, synkro, sandboxes):
    pair = make_pair(front, erp, sandboxes)
    first = {r.system: r for r in integration_webhooks_register(integration=pair.integration)}
    second = {r.system: r for r in integration_webhooks_register(integration=pair.integration)}
    for system in (front, erp):
        if system == "fortnox":
            assert not first[system].ok and "polls" in first[system].message
            continue
        assert first[system].ok, first[system].message
        assert second[system].ok and "in place" in second[system].message


@pytest.mark.django_db
def test_after_registration_a_change_in_each_system_reaches_synkro(synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    integration_webhooks_register(integration=pair.integration)
    pair.crm_client.create_record(Entity.ORGANISATION, {"OrganisationName": "Kystens Handel A/S",
                                                        "OrganisationType": "Kunde"})
    pair.erp_client.create_record(Entity.ORGANISATION, {"Name": "Bøgely Blomster ApS"})
    drain()
    assert sorted(d["Name"] for d in pair.erp_client.list_records(Entity.ORGANISATION)) == [
        "Bøgely Blomster ApS", "Kystens Handel A/S"]
    assert sorted(o["OrganisationName"] for o in pair.crm_client.list_records(Entity.ORGANISATION)) == [
        "Bøgely Blomster ApS", "Kystens Handel A/S"]
