"""webCRM ↔ Uniconta end to end, with webCRM answering as its API description says.

Hook calls in every body shape reach the right record with the right event; an organisation created
in webCRM from a debtor is linked to the record webCRM made even though the create's answer names no id,
and when webCRM cannot show which record it made, a person is asked and nothing is made twice.
"""

from __future__ import annotations

import pytest

from integrations.models import EventState, InboundEvent, SyncLink, SyncLogEntry
from integrations.services import integration_webhooks_register
from integrations.systems.catalog import Entity
from tests.harness import drain, make_pair

ORG = Entity.ORGANISATION


@pytest.fixture
def pair(db, synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    integration_webhooks_register(integration=pair.integration)
    pair.erp.subscribe(pair.integration.webhook_url("uniconta"), table="Debtor")
    return pair


@pytest.mark.parametrize("shape", ["notice", "record", "notices", "records"])
def test_each_hook_body_shape_brings_a_webcrm_change_to_uniconta(pair, shape):
    pair.crm.hook_body = shape
    created = pair.crm_client.create_record(ORG, {"OrganisationName": "Kystens Handel A/S",
                                                  "OrganisationType": "Kunde"})
    drain()
    pair.crm.change_in_webcrm("Organisations", created["OrganisationId"], OrganisationCity="Skagen")
    drain()

    [debtor] = list(pair.erp_client.list_records(ORG))
    assert (debtor["Name"], debtor["City"]) == ("Kystens Handel A/S", "Skagen")
    events = list(InboundEvent.objects.filter(system="webcrm").order_by("pk"))
    assert {e.external_id for e in events} == {str(created["OrganisationId"])}
    assert events[0].action == "created" and events[-1].action == "updated"


def test_a_debtor_becomes_an_organisation_linked_to_the_record_webcrm_made(pair):
    pair.crm.store.create("Organisations", {"OrganisationName": "Egholm Catering", "OrganisationCity": "Vejle"})
    pair.erp_client.create_record(ORG, {"Name": "Egholm Catering ApS", "City": "Odense"})
    pair.crm.store.index_lag = 1  # the new organisation is missing from webCRM's first answer to a query
    drain()

    link = SyncLink.objects.get(entity="organisation")
    made = pair.crm_client.get_record(ORG, link.crm_id)
    assert (made["OrganisationName"], made["OrganisationCity"]) == ("Egholm Catering ApS", "Odense")
    assert sum(1 for r in pair.crm.requests if r.method == "POST" and r.path == "/Organisations") == 1


def test_an_organisation_webcrm_cannot_point_out_waits_for_a_person_and_is_made_once(pair):
    pair.crm.store.index_lag = 50
    pair.erp_client.create_record(ORG, {"Name": "Bøgely Blomster ApS", "City": "Odense"})
    drain()

    event = InboundEvent.objects.get(system="uniconta")
    assert event.state == EventState.FAILED and event.attempts == 1
    entry = SyncLogEntry.objects.get(action="failed")
    assert "without saying which id" in entry.error and "check webCRM" in entry.error
    assert [o["OrganisationName"] for o in pair.crm_client.list_records(ORG)] == ["Bøgely Blomster ApS"]
    assert sum(1 for r in pair.crm.requests if r.method == "POST" and r.path == "/Organisations") == 1
