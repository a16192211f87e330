"""Organisation triggers offer the values the connected webCRM has, and flag stored values it lacks.

webCRM lists its organisation types in its field metadata (``GET /FieldsMetadata/Organisation``); the list is
read through the connection, kept per connection, and refreshed on request. A trigger value webCRM does not have
never matches, so it is shown and flagged on the tab and by the rules.
"""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import ObservedValues
from mappings.forms import EntitySettingsForm
from mappings.models import ConfigChange, EntitySync
from mappings.trigger_values import trigger_values_for
from mappings.validation import trigger_value_problems
from tenants.models import Role
from tests.factories import MembershipFactory
from tests.harness import make_pair

pytestmark = pytest.mark.django_db

FORTNOX_DEFAULTS = ["Kund – Företag", "Kund – Privat"]  # what a new webCRM ↔ Fortnox starts with (mappings/defaults)


def text(response) -> str:
    return html.unescape(response.content.decode())


def metadata_calls(sandbox) -> int:
    return sum(1 for request in sandbox.requests if request.path.startswith("/FieldsMetadata"))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Failed reads are remembered in Django's cache for a minute; each test starts without any."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def fortnox(sandboxes):
    """webCRM ↔ Fortnox with its defaults, against a webCRM whose types are only Danish ones."""
    pair = make_pair("webcrm", "fortnox", sandboxes)
    pair.crm.field_options["Organisation"]["OrganisationType"] = ["Kunde", "Prospekt", "Leverandør"]
    admin = pair.integration.tenant.memberships.get(role=Role.ADMIN).user
    return pair, admin


def organisation_url(integration, name="entity-settings") -> str:
    return reverse(name, args=[integration.tenant.slug, integration.pk, "organisation"])


# -- the rule ------------------------------------------------------------------------------------
def test_a_value_the_system_lacks_is_named_beside_its_field():
    problems = trigger_value_problems(system_name="webCRM", words="organisation type", offered=["Kunde", "Prospekt"],
                                      trigger_values=["kunde ", "Kund – Företag"], created_type="Kund – Privat")
    assert [(p.field, p.message) for p in problems] == [
        ("trigger_values", "webCRM has no organisation type «Kund – Företag»; this trigger never matches."),
        ("erp_created_type", "webCRM has no organisation type «Kund – Privat»; organisations made from the ERP "
                             "would get a type webCRM does not list."),
    ]


def test_nothing_is_said_when_the_list_is_not_known():
    assert trigger_value_problems(system_name="webCRM", words="organisation type", offered=None,
                                  trigger_values=["Anything"], created_type="Anything") == []


# -- reading and keeping the list ----------------------------------------------------------------------
def test_the_list_is_read_once_and_kept_for_every_worker(fortnox):
    pair, _ = fortnox
    sync = pair.sync("organisation")
    first = trigger_values_for(entity_sync=sync)
    assert first.values == ("Kunde", "Prospekt", "Leverandør") and first.field == "OrganisationType"
    calls = metadata_calls(pair.crm)
    again = trigger_values_for(entity_sync=EntitySync.objects.get(pk=sync.pk))
    assert again.values == first.values and metadata_calls(pair.crm) == calls  # from the database, not webCRM
    kept = ObservedValues.objects.get(connection=pair.integration.crm_connection, field="OrganisationType")
    assert kept.tenant_id == pair.integration.tenant_id and kept.values == ["Kunde", "Prospekt", "Leverandør"]


def test_a_refresh_reads_webcrm_again_and_an_old_list_is_read_again(fortnox):
    pair, _ = fortnox
    sync = pair.sync("organisation")
    trigger_values_for(entity_sync=sync)
    pair.crm.field_options["Organisation"]["OrganisationType"].append("Kund – Företag")
    assert "Kund – Företag" not in trigger_values_for(entity_sync=sync).values  # kept list
    assert "Kund – Företag" in trigger_values_for(entity_sync=sync, refresh=True).values
    pair.crm.field_options["Organisation"]["OrganisationType"].append("Partner")
    ObservedValues.objects.update(read_at=timezone.now() - timedelta(days=2))
    assert "Partner" in trigger_values_for(entity_sync=sync).values


def test_statuses_are_read_for_a_status_trigger(fortnox):
    pair, _ = fortnox
    offer = trigger_values_for(entity_sync=pair.sync("organisation"), trigger_field="status")
    assert offer.field == "OrganisationStatus" and offer.values == ("Aktiv", "Passiv")


def test_an_unreachable_webcrm_gives_a_note_and_keeps_the_last_list(fortnox):
    pair, _ = fortnox
    sync = pair.sync("organisation")
    pair.crm.knobs.error_rate = 1.0
    offer = trigger_values_for(entity_sync=sync)
    assert offer.values is None and "could not be reached" in offer.note
    pair.crm.knobs.error_rate = 0.0
    calls = metadata_calls(pair.crm)
    assert trigger_values_for(entity_sync=sync).values is None  # a page view does not ask again at once
    assert metadata_calls(pair.crm) == calls
    assert trigger_values_for(entity_sync=sync, refresh=True).values == ("Kunde", "Prospekt", "Leverandør")
    pair.crm.knobs.error_rate = 1.0
    stale = trigger_values_for(entity_sync=sync, refresh=True)
    assert stale.values == ("Kunde", "Prospekt", "Leverandør") and "could not be reached just now" in stale.note


# -- the tab --------------------------------------------------------------------------------------------
def test_the_tab_offers_webcrms_types_and_flags_the_ones_it_lacks(client, fortnox):
    pair, admin = fortnox
    client.force_login(admin)
    response = client.get(organisation_url(pair.integration))
    assert response.status_code == 200
    form = response.context["form"]
    assert [value for value, _ in form.fields["trigger_values"].choices] == [
        "Kunde", "Prospekt", "Leverandør", *FORTNOX_DEFAULTS]
    assert dict(form.fields["erp_created_type"].choices)["Kund – Företag"] == "Kund – Företag (not in webCRM)"
    body = text(response)
    assert "webCRM has no organisation type «Kund – Företag»; this trigger never matches." in body
    assert "webCRM has no organisation type «Kund – Privat»; this trigger never matches." in body
    assert "Refresh from webCRM" in body


def test_choosing_webcrms_types_saves_them_and_the_flags_go(client, fortnox):
    pair, admin = fortnox
    client.force_login(admin)
    response = client.post(organisation_url(pair.integration), {
        "direction": "two_way", "conflict_owner": "newest", "trigger_field": "type",
        "trigger_values": ["Kunde", "Prospekt"], "erp_created_type": "Kunde", "type_lock": "on",
        "number_authority": "erp"}, follow=True)
    assert response.status_code == 200
    sync = pair.sync("organisation")
    assert sync.trigger_values == ["Kunde", "Prospekt"] and sync.erp_created_type == "Kunde"
    assert "this trigger never matches" not in text(response)


def test_a_value_neither_offered_nor_stored_is_refused_and_nothing_saved(client, fortnox):
    pair, admin = fortnox
    client.force_login(admin)
    audit = ConfigChange.objects.count()
    response = client.post(organisation_url(pair.integration), {
        "direction": "two_way", "conflict_owner": "newest", "trigger_field": "type",
        "trigger_values": ["Kunde", "Kunder"], "erp_created_type": "Kunde", "number_authority": "erp"})
    assert response.status_code == 400
    assert "Kunder is not one of the available choices" in text(response)
    assert pair.sync("organisation").trigger_values == FORTNOX_DEFAULTS and ConfigChange.objects.count() == audit


def test_without_webcrm_the_tab_still_works_with_free_text_and_a_note(client, fortnox):
    pair, admin = fortnox
    pair.crm.knobs.error_rate = 1.0
    client.force_login(admin)
    response = client.get(organisation_url(pair.integration))
    assert response.status_code == 200
    assert "could not be reached to list its organisation types" in text(response)
    saved = client.post(organisation_url(pair.integration), {
        "direction": "two_way", "conflict_owner": "newest", "trigger_field": "type",
        "trigger_values": "Kunde, Kund – Företag", "erp_created_type": "Kunde", "number_authority": "erp"})
    assert saved.status_code == 302
    assert pair.sync("organisation").trigger_values == ["Kunde", "Kund – Företag"]


def test_refresh_from_webcrm_reads_the_list_again(client, fortnox):
    pair, admin = fortnox
    client.force_login(admin)
    client.get(organisation_url(pair.integration))
    pair.crm.field_options["Organisation"]["OrganisationType"] += FORTNOX_DEFAULTS
    response = client.post(organisation_url(pair.integration, "trigger-values-refresh"), follow=True)
    assert response.status_code == 200
    body = text(response)
    assert "Read 5 organisation types from webCRM" in body and "this trigger never matches" not in body
    assert EntitySync.objects.get(pk=pair.sync("organisation").pk).trigger_values == FORTNOX_DEFAULTS  # unchanged


def test_only_an_admin_refreshes_and_only_in_their_own_tenant(client, fortnox, world):
    pair, _ = fortnox
    support = MembershipFactory(tenant=pair.integration.tenant, role=Role.SUPPORT).user
    client.force_login(support)
    assert client.post(organisation_url(pair.integration, "trigger-values-refresh")).status_code in (403, 404)
    client.force_login(world.outsider)
    assert client.post(organisation_url(pair.integration, "trigger-values-refresh")).status_code == 404
    assert not ObservedValues.objects.exists()


def test_a_pos_integration_keeps_free_text(world):
    from mappings.defaults import integration_setup_defaults

    pos = world.rows.pos_integration
    integration_setup_defaults(integration=pos)
    form = EntitySettingsForm(instance=pos.entity_syncs.get(entity="organisation"))
    assert form.trigger_offer is None or form.trigger_offer.values is None


# -- the demo ------------------------------------------------------------------------------------------
def test_every_demo_trigger_is_a_value_the_demo_webcrm_has():
    import io

    from django.core.management import call_command

    from integrations.systems.registry import get_system

    call_command("demo_setup", base_url="http://127.0.0.1:8000", stdout=io.StringIO())
    webcrm = get_system("webcrm").sandbox(rate_limit=(0, 0))
    webcrm.seed_demo()
    offered = webcrm.field_options["Organisation"]
    syncs = EntitySync.objects.filter(tenant__slug="demo", entity="organisation",
                                      integration__crm_connection__system="webcrm")
    assert {tuple(s.trigger_values) for s in syncs} == {("Kunde",), tuple(FORTNOX_DEFAULTS)}
    for sync in syncs:
        field = {"type": "OrganisationType", "status": "OrganisationStatus"}[sync.trigger_field]
        assert trigger_value_problems(system_name="webCRM", words="organisation type", offered=offered[field],
                                      trigger_values=sync.trigger_values) == []
        assert trigger_value_problems(system_name="webCRM", words="organisation type",
                                      offered=offered["OrganisationType"], created_type=sync.erp_created_type) == []
    with webcrm.lock:
        held = {row["OrganisationType"] for row in webcrm.store.rows("Organisations")}
    assert set(FORTNOX_DEFAULTS) <= held  # the Fortnox trigger has organisations to match
