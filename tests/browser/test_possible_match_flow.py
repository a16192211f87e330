"""In the browser: support compares a waiting webCRM organisation with Fortnox's candidates, links it, and it syncs."""

from __future__ import annotations

import pytest

from integrations.models import LogAction, MatchState, PossibleMatch, SyncLink, SyncLogEntry
from integrations.systems.catalog import Entity
from tenants.models import Role
from tests.browser.login import log_in
from tests.factories import MembershipFactory
from tests.harness import drain, make_pair

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ORG = Entity.ORGANISATION


@pytest.fixture
def pair(sandboxes):
    pair = make_pair("webcrm", "fortnox", sandboxes)
    MembershipFactory(tenant=pair.integration.tenant, role=Role.SUPPORT, user__username="sofie-support")
    return pair


def test_support_links_a_possible_match_in_the_browser_and_the_record_syncs(page, live_server, pair):
    org = pair.crm_client.create_record(ORG, {
        "OrganisationName": "Sjöviks VVS AB", "OrganisationType": "Kund – Företag",
        "OrganisationVatNumber": "556123-4567", "OrganisationAddress": "Storgatan 12",
        "OrganisationPostCode": "852 30", "OrganisationCity": "Sundsvall", "OrganisationExtraCustom1": "1001"})
    same = pair.erp_client.create_record(ORG, {
        "CustomerNumber": "1001", "Name": "Sjöviks VVS", "OrganisationNumber": "556123-4567",
        "Address1": "Box 114", "ZipCode": "851 02", "City": "Sundsvall"})
    other = pair.erp_client.create_record(ORG, {
        "CustomerNumber": "1002", "Name": "Sjöviks Rör AB", "Address1": "Industrivägen 4", "ZipCode": "861 36",
        "City": "Timrå"})
    org_id = str(org["OrganisationId"])
    match = PossibleMatch.objects.create(
        tenant=pair.integration.tenant, integration=pair.integration, entity=ORG, source_role="crm",
        source_id=org_id, source_label="Sjöviks VVS AB",
        source_values={"Number": "1001", "Org./VAT no.": "556123-4567", "Name": "Sjöviks VVS AB"},
        candidates=[
            {"id": same["CustomerNumber"], "label": "Sjöviks VVS",
             "values": {"Number": "1001", "Org./VAT no.": "556123-4567", "Name": "Sjöviks VVS"},
             "for": ["Customer number 1001 is the same on both sides",
                     "Org./VAT no. 556123-4567 is the same on both sides"],
             "against": ["The names differ: “Sjöviks VVS AB” and “Sjöviks VVS”"]},
            {"id": other["CustomerNumber"], "label": "Sjöviks Rör AB",
             "values": {"Number": "1002", "Name": "Sjöviks Rör AB"},
             "for": ["The names are alike"], "against": ["No org./VAT no. in Fortnox to compare"]},
        ],
        reason="Two Fortnox customers could be this organisation, and the evidence disagrees.")

    slug = pair.integration.tenant.slug
    log_in(page, live_server, "sofie-support")
    page.goto(f"{live_server.url}/t/{slug}/")
    page.wait_for_selector("#open-matches")
    assert "1 possible match waits for a person" in page.inner_text("#open-matches")
    page.locator("#open-matches").get_by_role("link").click()

    card = page.locator(f"#match-{match.pk}")
    card.wait_for()
    assert "Two Fortnox customers could be this organisation" in card.inner_text()
    vat_row = card.locator('tr[data-field="Org./VAT no."]').inner_text()
    assert vat_row.count("556123-4567") == 2
    assert "The names differ: “Sjöviks VVS AB” and “Sjöviks VVS”" in card.inner_text()

    card.locator('tr.decide td[data-candidate="1001"]').get_by_role("button", name="Link these").click()
    page.wait_for_selector(f'#match-{match.pk}[data-state="linked"]')
    assert "sofie-support linked it to Fortnox customer 1001 “Sjöviks VVS”" in card.inner_text()
    assert card.get_by_role("button", name="Link these").count() == 0
    link = SyncLink.objects.get(integration=pair.integration, entity=ORG)
    assert (link.crm_id, link.erp_id) == (org_id, "1001")

    drain()  # the workers' part: the manual change stored with the decision syncs the organisation

    customer = pair.erp_client.get_record(ORG, "1001")
    assert (customer["Name"], customer["Address1"], customer["ZipCode"], customer["City"]) == (
        "Sjöviks VVS AB", "Storgatan 12", "852 30", "Sundsvall")
    assert pair.erp_client.get_record(ORG, "1002")["Name"] == "Sjöviks Rör AB"  # the other candidate is untouched
    assert len(list(pair.erp_client.list_records(ORG))) == 2  # nothing created
    assert SyncLogEntry.objects.filter(action=LogAction.UPDATED, crm_id=org_id, erp_id="1001").exists()
    assert PossibleMatch.objects.get(pk=match.pk).state == MatchState.LINKED

    page.goto(f"{live_server.url}/t/{slug}/integrations/{pair.integration.pk}/possible-matches/?show=decided")
    decided = page.locator(f'#match-{match.pk}[data-state="linked"]')
    decided.wait_for()
    assert "Linked" in decided.locator('th[data-candidate="1001"]').inner_text()
    page.goto(f"{live_server.url}/t/{slug}/")
    assert page.locator("#open-matches").count() == 0
