"""The configuration API: same validation and role rules as the screens."""

import pytest

from mappings.defaults import integration_setup_defaults
from mappings.models import ConfigChange, FieldMapping, WebhookToggle
from tests.factories import ConnectionFactory, IntegrationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration(world):
    integration = IntegrationFactory(tenant=world.tenant, name="webCRM ↔ Uniconta")
    integration_setup_defaults(integration=integration)
    return integration


def base(world):
    return f"/api/v1/t/{world.tenant.slug}"


def organisation(integration):
    return integration.entity_syncs.get(entity="organisation")


def test_admin_configures_an_entity_through_the_api(api, world, integration):
    api.force_authenticate(world.admin)
    sync = organisation(integration)
    response = api.patch(f"{base(world)}/entity-syncs/{sync.pk}/", {
        "direction": "two_way", "trigger_field": "type", "trigger_values": ["Kunde"], "conflict_owner": "erp",
        "reconcile_interval_hours": 12}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["reconcile_interval_hours"] == 12
    assert ConfigChange.objects.filter(integration=integration, user=world.admin).exists()
    listing = api.get(f"{base(world)}/entity-syncs/", {"integration": integration.pk}).json()
    assert {e["entity"] for e in listing["results"]} == {"organisation", "person", "item", "delivery", "invoice",
                                                          "user"}


def test_api_names_configuration_problems(api, world, integration):
    api.force_authenticate(world.admin)
    sync = organisation(integration)
    response = api.patch(f"{base(world)}/entity-syncs/{sync.pk}/", {"trigger_field": "type", "trigger_values": []},
                         format="json")
    assert response.status_code == 400
    assert "Choose at least one Type value" in response.json()["trigger_values"][0]
    response = api.post(f"{base(world)}/field-mappings/", {
        "entity_sync": sync.pk, "erp_field": "Nmae", "crm_field": "OrganisationName"}, format="json")
    assert response.status_code == 400
    assert response.json()["erp_field"] == ["Uniconta has no field “Nmae” on organisations / debtors."]
    response = api.post(f"{base(world)}/field-mappings/", {
        "entity_sync": sync.pk, "erp_field": "EAN", "crm_field": "OrganisationExtraCustom8"}, format="json")
    assert response.status_code == 400
    assert "read-only" in response.json()["direction"][0]
    response = api.patch(f"{base(world)}/entity-syncs/{integration.entity_syncs.get(entity='item').pk}/",
                         {"direction": "two_way"}, format="json")
    assert response.status_code == 400


def test_mapping_rows_are_added_changed_and_removed(api, world, integration):
    api.force_authenticate(world.admin)
    sync = organisation(integration)
    created = api.post(f"{base(world)}/field-mappings/", {
        "entity_sync": sync.pk, "erp_field": "xSegment", "crm_field": "OrganisationExtraCustom8",
        "value_map": {"Kunde – Privat": "PRIVATE"}}, format="json")
    assert created.status_code == 201, created.content
    row = created.json()["id"]
    changed = api.patch(f"{base(world)}/field-mappings/{row}/", {"direction": "to_crm"}, format="json")
    assert changed.status_code == 200 and changed.json()["direction"] == "to_crm"
    assert api.delete(f"{base(world)}/field-mappings/{row}/").status_code == 204
    assert not FieldMapping.objects.filter(pk=row).exists()


def test_mapping_of_another_tenants_entity_is_refused(api, world, integration):
    other = IntegrationFactory(tenant=world.other_tenant)
    integration_setup_defaults(integration=other)
    api.force_authenticate(world.admin)
    response = api.post(f"{base(world)}/field-mappings/", {
        "entity_sync": organisation(other).pk, "erp_field": "Name", "crm_field": "OrganisationName"}, format="json")
    assert response.status_code == 400
    assert "entity_sync" in response.json()


def test_customer_changes_toggles_only(api, world, integration):
    api.force_authenticate(world.customer)
    toggle = WebhookToggle.objects.filter(integration=integration, action="deleted").first()
    response = api.patch(f"{base(world)}/webhook-toggles/{toggle.pk}/", {"enabled": True}, format="json")
    assert response.status_code == 200
    toggle.refresh_from_db()
    assert toggle.enabled
    sync = organisation(integration)
    assert api.patch(f"{base(world)}/entity-syncs/{sync.pk}/", {"direction": "off"}, format="json").status_code == 403
    response = api.post(f"{base(world)}/field-mappings/", {"entity_sync": sync.pk, "erp_field": "xA",
                                                           "crm_field": "OrganisationWww"}, format="json")
    assert response.status_code == 403


def test_support_reads_only(api, world, integration):
    api.force_authenticate(world.support)
    for path in ["entity-syncs", "field-mappings", "webhook-toggles", "pos-settings", "pos-registers",
                 "config-changes"]:
        assert api.get(f"{base(world)}/{path}/").status_code == 200, path
    toggle = WebhookToggle.objects.filter(integration=integration).first()
    assert api.patch(f"{base(world)}/webhook-toggles/{toggle.pk}/", {"enabled": False},
                     format="json").status_code == 403
    mapping = FieldMapping.objects.filter(entity_sync__integration=integration).first()
    assert api.delete(f"{base(world)}/field-mappings/{mapping.pk}/").status_code == 403


def test_pos_settings_through_the_api(api, world):
    pos = IntegrationFactory(tenant=world.tenant, crm_connection=ConnectionFactory(
        tenant=world.tenant, system="customers1st", credentials={"api_token": "t"}))
    integration_setup_defaults(integration=pos)
    api.force_authenticate(world.admin)
    settings_id = pos.pos_settings.pk
    response = api.patch(f"{base(world)}/pos-settings/{settings_id}/", {
        "auto_invoice_debtor_sales": True, "variant_fields": {"size": "xStørrelse"}}, format="json")
    assert response.status_code == 400  # user field names are ASCII identifiers
    response = api.patch(f"{base(world)}/pos-settings/{settings_id}/", {
        "auto_invoice_debtor_sales": True, "variant_fields": {"size": "xSizeDK"}}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["variant_fields"]["size"] == "xSizeDK"
    assert response.json()["variant_fields"]["style_no"] == "xStyleNo"
    response = api.post(f"{base(world)}/pos-registers/", {"pos_settings": settings_id, "register_id": "7",
                                                          "name": "Kasse 7"}, format="json")
    assert response.status_code == 201
    assert api.post(f"{base(world)}/pos-registers/", {"pos_settings": settings_id, "register_id": "7",
                                                      "name": "Again"}, format="json").status_code == 400
