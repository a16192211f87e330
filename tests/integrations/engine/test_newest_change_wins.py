""""Newest change wins" means the change made last, by the records' own change times — not the one handled last."""

from __future__ import annotations

import datetime as dt

import pytest

from integrations.services import integration_webhooks_register
from integrations.systems.catalog import Entity
from mappings.models import EntitySync
from tests.harness import drain, make_pair

ORG = Entity.ORGANISATION


@pytest.fixture
def pair(db, synkro, sandboxes):
    pair = make_pair("webcrm", "vismanet", sandboxes)
    EntitySync.objects.filter(integration=pair.integration, entity="organisation").update(
        direction="two_way", conflict_owner="newest")
    integration_webhooks_register(integration=pair.integration)
    pair.org = pair.crm_client.create_record(ORG, {"OrganisationName": "Lyngby Smed", "OrganisationType": "Kunde",
                                                   "OrganisationCity": "Lyngby"})
    drain()
    pair.number = next(c["number"] for c in pair.erp_client.list_records(ORG) if c["name"] == "Lyngby Smed")
    return pair


@pytest.mark.parametrize("erp_minutes, winner", [(-10, "Kolding"), (+10, "Vejle")],
                         ids=["webcrm-changed-last", "visma-changed-last"])
def test_the_later_edit_wins_whichever_notice_is_handled_first(pair, erp_minutes, winner):
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    pair.crm_client.update_record(ORG, str(pair.org["OrganisationId"]), {"OrganisationCity": "Kolding"})
    pair.erp.now = lambda: now + dt.timedelta(minutes=erp_minutes)
    pair.erp_client.update_record(ORG, pair.number, {"mainAddress.city": "Vejle"})
    drain()
    assert pair.crm_client.get_record(ORG, str(pair.org["OrganisationId"]))["OrganisationCity"] == winner
    assert pair.erp_client.get_record(ORG, pair.number)["mainAddress.city"] == winner
