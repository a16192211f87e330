"""In the browser: support finds a failed sync by name, replays it and sees it succeed; an import's bar advances."""

from __future__ import annotations

import pytest

from integrations.engine.ingest import event_ingest
from integrations.engine.process import event_process, events_due
from integrations.engine.runs import import_entity
from integrations.models import EventState, InboundEvent, RunKind, SyncRun
from integrations.systems.catalog import Entity
from tenants.models import Role
from tests.browser.login import log_in
from tests.factories import MembershipFactory
from tests.harness import QUIET, drain, make_pair, organisation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ORG = Entity.ORGANISATION


@pytest.fixture
def pair(sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    MembershipFactory(tenant=pair.integration.tenant, role=Role.SUPPORT, user__username="sofie-support")
    return pair


def test_support_finds_a_failed_sync_by_name_replays_it_and_sees_it_succeed(page, live_server, pair):
    # Uniconta refuses the new debtor: a user field that does not exist there is mapped.
    broken = pair.sync("organisation").field_mappings.create(
        tenant=pair.integration.tenant, erp_field="xRegion", crm_field="OrganisationCity", direction="to_erp")
    org = pair.crm_client.create_record(ORG, organisation(OrganisationName="Havbrise Byg ApS"))
    pair.crm_client.create_record(ORG, organisation(OrganisationName="Skovly Tømrer I/S", OrganisationType="Prospect"))
    for record in pair.crm_client.list_records(ORG):
        event_ingest(integration=pair.integration, system="webcrm", entity=ORG, action="created",
                     external_id=str(record["OrganisationId"]))
    drain()
    assert InboundEvent.objects.get(external_id=str(org["OrganisationId"])).state == EventState.FAILED
    broken.delete()  # the administrator fixes the cause

    slug = pair.integration.tenant.slug
    log_in(page, live_server, "sofie-support")
    page.goto(f"{live_server.url}/t/{slug}/")
    page.get_by_role("link", name="Sync log").first.click()
    page.fill("#id_q", "havbrise")
    page.get_by_role("button", name="Filter", exact=True).click()
    page.wait_for_selector("#log")
    assert page.locator("#log tbody tr").count() == 1
    page.get_by_role("link", name="Havbrise Byg ApS").click()
    page.wait_for_selector("#error")
    assert "Uniconta refused the debtor" in page.inner_text("#error")
    assert "xRegion" in page.inner_text("#error")

    page.get_by_role("button", name="Replay", exact=True).click()
    page.wait_for_selector("text=1 failed change put back in the queue")
    drain()  # the workers' part

    page.goto(f"{live_server.url}/t/{slug}/log/?q=havbrise")
    page.wait_for_selector("#log .badge.created")
    assert page.locator("#log tbody tr").count() == 2
    assert "replayed" in page.inner_text("#log tbody tr:nth-child(2)")
    assert [d["Name"] for d in pair.erp_client.list_records(ORG)] == ["Havbrise Byg ApS"]
    assert SyncRun.objects.get(kind=RunKind.REPLAY).started_by.username == "sofie-support"


def test_the_progress_bar_of_an_initial_import_advances(page, live_server, pair):
    for n in range(8):
        pair.erp_client.create_record(ORG, {"Name": f"Importkunde {n}", "City": "Odense C", "ZipCode": "5000"})
    slug = pair.integration.tenant.slug
    log_in(page, live_server, "sofie-support")
    page.goto(f"{live_server.url}/t/{slug}/runs/")
    page.select_option("#id_entity", "organisation")
    page.get_by_role("button", name="Start initial import").click()
    page.wait_for_selector("text=Initial import of organisations / debtors started")

    run = SyncRun.objects.get(kind=RunKind.IMPORT)
    assert import_entity(run=run, client_options=QUIET) == 8  # the worker lists the ERP's customers
    bar = f'progress[data-run="{run.pk}"]'
    page.wait_for_selector(f'{bar}[max="8"]')
    assert page.eval_on_selector(bar, "el => el.value") == 0

    seen = [0]
    for _ in range(4):  # two events at a time, while the page polls
        for event_id in events_due()[:2]:
            event_process(event_id=event_id, client_options=QUIET)
        target = seen[-1] + 2
        page.wait_for_selector(f'{bar}[value="{target}"]', timeout=8_000)  # no page-side eval: the CSP forbids it
        seen.append(page.eval_on_selector(bar, "el => el.value"))
    assert seen == sorted(seen) and seen[-1] == 8
    page.wait_for_selector(f'#run-{run.pk}[data-state="done"]')
    assert len(list(pair.crm_client.list_records(ORG))) == 8
