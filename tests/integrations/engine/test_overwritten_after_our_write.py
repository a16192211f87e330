"""A person's save that overwrites a field right after Synkro wrote it is a change, never Synkro's own echo.

webCRM's and Uniconta's APIs take whole records without a version, so a person saving a form opened earlier can put
the old value back in the instant between Synkro's write and its read-back. The value read back is then the
person's, not Synkro's: both sides must still end the same, and no reconciliation may call them in step otherwise.
"""

from __future__ import annotations

import pytest

from integrations.engine.runs import reconcile_entity, run_start
from integrations.models import SyncLink
from integrations.systems.webcrm.client import WebcrmClient
from tests.harness import QUIET, drain, make_pair, organisation

from .test_sync_webcrm_uniconta import ORG


@pytest.fixture
def pair(db, synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    pair.webcrm_hooks("Organisations")
    pair.erp.subscribe(pair.integration.webhook_url("uniconta"), table="Debtor")
    pair.org = pair.crm_client.create_record(ORG, organisation(OrganisationName="Stalegaard ApS",
                                                               OrganisationCity="Vejle"))
    drain()
    pair.account = SyncLink.objects.get(entity="organisation").erp_id
    return pair


def stale_save_right_after_our_put(monkeypatch, pair, **stale):
    """Just after Synkro's PUT of the organisation reaches webCRM, a person saves a form holding ``stale`` values."""
    original = WebcrmClient.request
    state = {"done": False}

    def request(client, method, path, **kwargs):
        response = original(client, method, path, **kwargs)
        if method == "PUT" and path.startswith("/Organisations/") and not state["done"]:
            state["done"] = True
            pair.crm.change_in_webcrm("Organisations", int(pair.org["OrganisationId"]), **stale)
        return response

    monkeypatch.setattr(WebcrmClient, "request", request)
    return state


def test_an_old_value_saved_over_synkros_write_ends_the_same_on_both_sides(pair, monkeypatch):
    state = stale_save_right_after_our_put(monkeypatch, pair, OrganisationCity="Vejle")
    pair.erp_client.update_record(ORG, pair.account, {"City": "Odense"})
    drain()
    monkeypatch.undo()
    drain()

    assert state["done"]
    crm_city = pair.crm_client.get_record(ORG, str(pair.org["OrganisationId"]))["OrganisationCity"]
    erp_city = pair.erp_client.get_record(ORG, pair.account)["City"]
    assert crm_city == erp_city == "Vejle"  # the person's save came last: it is the newest change
    run = run_start(integration=pair.integration, kind="reconcile", entity="organisation")
    assert reconcile_entity(run=run, client_options=QUIET) == 0
