"""What a mapping row does with a value longer than its target: stored, shown, offered through the API, warned about."""

import html

import pytest
from django.urls import reverse

from integrations.systems.registry import get_system
from mappings.defaults import integration_setup_defaults
from mappings.models import FieldMapping
from mappings.validation import EntityConfig, MappingRow, Side, length_warnings, validate_entity_config
from tests.factories import IntegrationFactory

ORG = "organisation"


def sides(front: str, erp: str) -> tuple[Side, Side]:
    return (Side(get_system(front).name, get_system(front).catalog().entity(ORG)),
            Side(get_system(erp).name, get_system(erp).catalog().entity(ORG)))


def test_a_longer_source_is_warned_about_with_both_lengths_and_what_the_row_does():
    crm, erp = sides("webcrm", "uniconta")
    rows = [MappingRow("Name", "OrganisationName", key=1), MappingRow("Name", "OrganisationName", key=2,
                                                                       overflow="refuse")]
    warnings = length_warnings(config=EntityConfig(direction="to_erp"), rows=rows, crm=crm, erp=erp)
    assert [w.row for w in warnings] == [1, 2]
    assert warnings[0].message == ("webCRM's OrganisationName can hold up to 200 characters, Uniconta's Name at "
                                   "most 100: this row shortens a longer value at a word boundary and notes it in "
                                   "the log.")
    assert "refuses a longer value: the record waits and nothing is written" in warnings[1].message
    assert all(w.field == "overflow" for w in warnings)


def test_an_unbounded_source_into_a_bounded_target_is_warned_about_and_a_shorter_one_is_not():
    crm, erp = sides("webcrm", "uniconta")
    rows = [MappingRow("Address1", "OrganisationAddress", key="address"),  # Uniconta gives no limit; webCRM 250
            MappingRow("Account", "OrganisationExtraCustom1", key="number")]  # 20 into 50 fits
    warnings = length_warnings(config=EntityConfig(direction="to_crm"), rows=rows, crm=crm, erp=erp)
    assert [w.row for w in warnings] == ["address"]
    assert "Uniconta's Address1 can hold text of any length, webCRM's OrganisationAddress at most 250" in \
        warnings[0].message
    # The other way the same rows warn only where the target is bounded: Uniconta's Account (20) from webCRM's 50.
    back = length_warnings(config=EntityConfig(direction="to_erp"), rows=rows, crm=crm, erp=erp)
    assert [w.row for w in back] == ["number"] and "up to 50 characters" in back[0].message


def test_warnings_are_no_errors_and_an_unknown_overflow_is_one():
    crm, erp = sides("webcrm", "uniconta")
    row = MappingRow("Name", "OrganisationName", key=1)
    assert validate_entity_config(entity_label="organisations", config=EntityConfig(direction="two_way"),
                                  rows=[row], crm=crm, erp=erp) == []
    wrong = MappingRow("Name", "OrganisationName", key=1, overflow="truncate")
    [problem] = validate_entity_config(entity_label="organisations", config=EntityConfig(direction="two_way"),
                                       rows=[wrong], crm=crm, erp=erp)
    assert problem.field == "overflow" and "shorten it or refuse it" in problem.message


@pytest.fixture
def integration(world):
    integration = IntegrationFactory(tenant=world.tenant, name="webCRM ↔ Uniconta")
    integration_setup_defaults(integration=integration)
    return integration


@pytest.mark.django_db
def test_the_api_takes_and_shows_overflow_and_its_warnings(api, world, integration):
    api.force_authenticate(world.admin)
    base = f"/api/v1/t/{world.tenant.slug}/field-mappings/"
    sync = integration.entity_syncs.get(entity=ORG)
    created = api.post(base, {"entity_sync": sync.pk, "erp_field": "xSegment", "crm_field": "OrganisationExtraCustom5",
                              "overflow": "refuse"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["overflow"] == "refuse"
    assert FieldMapping.objects.get(pk=body["id"]).overflow == "refuse"
    # A user field's length is unknown and webCRM's slot holds 50: the row says what it will do.
    assert any("at most 50" in w and "refuses a longer value" in w for w in body["warnings"])
    changed = api.patch(f"{base}{body['id']}/", {"overflow": "shorten"}, format="json")
    assert changed.status_code == 200 and changed.json()["overflow"] == "shorten"
    wrong = api.patch(f"{base}{body['id']}/", {"overflow": "truncate"}, format="json")
    assert wrong.status_code == 400 and "overflow" in wrong.json()
    assert FieldMapping.objects.get(pk=body["id"]).overflow == "shorten"
    default = api.post(base, {"entity_sync": sync.pk, "erp_field": "xRegion", "crm_field": "OrganisationExtraCustom6"},
                       format="json")
    assert default.status_code == 201 and default.json()["overflow"] == "shorten"


@pytest.mark.django_db
def test_the_mapping_screen_offers_the_choice_and_shows_the_warning(client, world, integration):
    client.force_login(world.admin)
    page = reverse("entity-settings", args=[world.tenant.slug, integration.pk, ORG])
    text = html.unescape(client.get(page).content.decode())
    assert "Longer than the target holds" in text and 'name="overflow"' in text
    # The default Account ↔ OrganisationExtraCustom1 row: Uniconta's Account has no limit here, the slot 50.
    assert "at most 50: this row shortens a longer value at a word boundary" in text
    response = client.post(reverse("mapping-add", args=[world.tenant.slug, integration.pk, ORG]), {
        "erp_field": "", "erp_user_field": "xSegment", "crm_field": "OrganisationExtraCustom5",
        "overflow": "refuse"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200, response.content
    assert FieldMapping.objects.get(crm_field="OrganisationExtraCustom5").overflow == "refuse"
    assert "Refused" in html.unescape(response.content.decode())
