"""The mapping screens: entity tabs, mapping rows, webhooks, schedules, POS settings, audit; role rules."""

import html

import pytest
from django.urls import reverse

from mappings.models import ConfigChange, EntitySync, FieldMapping, PosRegister, WebhookToggle
from tests.factories import ConnectionFactory, IntegrationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(world):
    from mappings.defaults import integration_setup_defaults

    integration = IntegrationFactory(tenant=world.tenant, name="webCRM ↔ Uniconta")
    integration_setup_defaults(integration=integration)
    return world, integration


def text(response) -> str:
    return html.unescape(response.content.decode())


def url(name, world, integration, *args):
    return reverse(name, args=[world.tenant.slug, integration.pk, *args])


def test_defaults_make_a_new_integration_work(setup):
    _, integration = setup
    syncs = {e.entity: e for e in integration.entity_syncs.all()}
    assert set(syncs) == {"organisation", "person", "item", "delivery", "invoice", "user"}
    organisation = syncs["organisation"]
    assert organisation.direction == "two_way" and organisation.trigger_values == ["Kunde"]
    assert syncs["item"].direction == "to_crm"
    rows = {(m.erp_field, m.crm_field, m.direction) for m in organisation.field_mappings.all()}
    assert ("Name", "OrganisationName", "") in rows
    assert ("EAN", "OrganisationExtraCustom2", "to_crm") in rows
    deleted = WebhookToggle.objects.filter(integration=integration, action="deleted")
    assert deleted.exists() and not deleted.filter(enabled=True).exists()
    assert WebhookToggle.objects.filter(integration=integration, action="updated", enabled=True).exists()


def test_admin_sets_two_way_with_a_type_trigger_and_sees_what_changed(client, setup):
    world, integration = setup
    client.force_login(world.admin)
    response = client.post(url("entity-settings", world, integration, "organisation"), {
        "direction": "two_way", "conflict_owner": "erp", "trigger_field": "type",
        "trigger_values": "Kunde, Kund – Företag", "erp_created_type": "Kunde", "type_lock": "on",
        "number_authority": "erp"}, follow=True)
    assert response.status_code == 200
    body = text(response)
    assert "Organisations / debtors saved" in body
    assert "When a field changed on both sides: Newest change wins → ERP wins" in body
    sync = EntitySync.objects.get(integration=integration, entity="organisation")
    assert sync.trigger_values == ["Kunde", "Kund – Företag"] and sync.conflict_owner == "erp"
    change = ConfigChange.objects.filter(integration=integration, subject__contains="settings").latest("at")
    assert change.user == world.admin
    assert change.changes["trigger_values"] == [["Kunde"], ["Kunde", "Kund – Företag"]]


def test_trigger_without_values_is_refused_beside_the_field_and_nothing_saved(client, setup):
    world, integration = setup
    client.force_login(world.admin)
    response = client.post(url("entity-settings", world, integration, "organisation"), {
        "direction": "off", "conflict_owner": "newest", "trigger_field": "status", "trigger_values": "",
        "number_authority": "erp"})
    assert response.status_code == 400
    assert "Choose at least one Status value" in response.context["form"].errors["trigger_values"][0]
    assert EntitySync.objects.get(integration=integration, entity="organisation").direction == "two_way"


def test_items_cannot_be_sent_to_the_erp_from_webcrm(client, setup):
    world, integration = setup
    client.force_login(world.admin)
    response = client.post(url("entity-settings", world, integration, "item"), {"direction": "to_erp"})
    assert response.status_code == 400
    assert EntitySync.objects.get(integration=integration, entity="item").direction == "to_crm"


def test_webcrm_numbering_needs_a_number_row(client, setup):
    world, integration = setup
    client.force_login(world.admin)
    FieldMapping.objects.filter(entity_sync__integration=integration, erp_field="Account").delete()
    response = client.post(url("entity-settings", world, integration, "organisation"), {
        "direction": "two_way", "conflict_owner": "newest", "trigger_field": "", "number_authority": "crm"})
    assert response.status_code == 400
    assert "Uniconta's Account must be mapped" in response.context["form"].errors["number_authority"][0]


def test_add_a_custom_field_row_with_htmx_and_remove_it(client, setup):
    world, integration = setup
    client.force_login(world.admin)
    response = client.post(url("mapping-add", world, integration, "organisation"), {
        "erp_field": "CreditMax", "crm_field": "OrganisationExtraCustom5", "direction": "",
        "value_map": "", }, HTTP_HX_REQUEST="true")
    assert response.status_code == 200  # numbers and text convert both ways; the row says what is refused
    assert "the text must be a number" in text(response) and "numbers are written as text" in text(response)
    FieldMapping.objects.filter(entity_sync__integration=integration, crm_field="OrganisationExtraCustom5").delete()
    response = client.post(url("mapping-add", world, integration, "organisation"), {
        "erp_field": "", "erp_user_field": "xSegment", "crm_field": "OrganisationExtraCustom5"},
        HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="mapping-table"' in text(response) and "<html" not in text(response)
    mapping = FieldMapping.objects.get(entity_sync__integration=integration, crm_field="OrganisationExtraCustom5")
    assert mapping.erp_field == "xSegment"
    response = client.post(url("mapping-remove", world, integration, mapping.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert not FieldMapping.objects.filter(pk=mapping.pk).exists()
    subjects = list(ConfigChange.objects.filter(integration=integration).values_list("action", "subject"))
    assert ("created", "Organisations / debtors mapping xSegment ↔ OrganisationExtraCustom5") in subjects
    assert ("deleted", "Organisations / debtors mapping xSegment ↔ OrganisationExtraCustom5") in subjects


def test_a_second_row_writing_the_same_field_is_refused(client, setup):
    world, integration = setup
    client.force_login(world.admin)
    before = FieldMapping.objects.count()
    response = client.post(url("mapping-add", world, integration, "organisation"), {
        "erp_field": "Name", "crm_field": "OrganisationExtraCustom6"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Two rows write Uniconta's Name" in text(response)
    assert FieldMapping.objects.count() == before


def test_value_map_is_typed_as_pairs(client, setup):
    world, integration = setup
    client.force_login(world.admin)
    response = client.post(url("mapping-add", world, integration, "organisation"), {
        "erp_user_field": "xKind", "crm_field": "OrganisationType", "value_map": "Kunde = K; Prospect = P"},
        HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert FieldMapping.objects.get(erp_field="xKind").value_map == {"Kunde": "K", "Prospect": "P"}
    response = client.post(url("mapping-add", world, integration, "organisation"), {
        "erp_user_field": "xOther", "crm_field": "OrganisationWww", "value_map": "no equals sign"},
        HTTP_HX_REQUEST="true")
    assert "needs the form" in text(response)


def test_removing_the_number_row_under_webcrm_numbering_is_refused(client, setup):
    world, integration = setup
    EntitySync.objects.filter(integration=integration, entity="organisation").update(number_authority="crm")
    client.force_login(world.admin)
    number_row = FieldMapping.objects.get(entity_sync__integration=integration, erp_field="Account")
    response = client.post(url("mapping-remove", world, integration, number_row.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert FieldMapping.objects.filter(pk=number_row.pk).exists()


def test_customer_toggles_webhooks_and_nothing_else(client, setup):
    world, integration = setup
    client.force_login(world.customer)
    toggle = WebhookToggle.objects.filter(integration=integration, action="deleted").first()
    response = client.post(url("webhook-toggle", world, integration, toggle.pk), {"enabled": "on"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    toggle.refresh_from_db()
    assert toggle.enabled
    assert ConfigChange.objects.filter(user=world.customer, changes__enabled=[False, True]).exists()
    assert client.post(url("entity-settings", world, integration, "organisation"),
                       {"direction": "off"}).status_code == 403
    assert client.post(url("mapping-add", world, integration, "organisation"),
                       {"erp_field": "xA", "crm_field": "OrganisationWww"}).status_code == 403
    assert client.post(url("schedules", world, integration), {}).status_code == 403


def test_support_reads_every_page_and_changes_nothing(client, setup):
    world, integration = setup
    client.force_login(world.support)
    for name, args in [("entity-settings", ["organisation"]), ("webhook-settings", []), ("schedules", []),
                       ("audit-log", [])]:
        assert client.get(url(name, world, integration, *args)).status_code == 200, name
    toggle = WebhookToggle.objects.filter(integration=integration).first()
    assert client.post(url("webhook-toggle", world, integration, toggle.pk), {}).status_code == 403
    mapping = FieldMapping.objects.filter(entity_sync__integration=integration).first()
    assert client.post(url("mapping-remove", world, integration, mapping.pk)).status_code == 403
    assert FieldMapping.objects.filter(pk=mapping.pk).exists()


def test_webhook_page_shows_the_inbound_url_per_system(client, setup):
    world, integration = setup
    client.force_login(world.customer)
    body = text(client.get(url("webhook-settings", world, integration)))
    assert integration.webhook_url("webcrm") in body
    assert integration.webhook_url("uniconta") in body


def test_schedules_are_saved_and_checked(client, setup):
    world, integration = setup
    client.force_login(world.admin)
    syncs = list(integration.entity_syncs.all())
    data = {}
    for sync in syncs:
        data.update({f"{sync.entity}-polling_interval_seconds": 60, f"{sync.entity}-polling_offset_seconds": 0,
                     f"{sync.entity}-reconcile_interval_hours": 6})
    data["organisation-polling_interval_seconds"] = 30
    data["organisation-reconcile_interval_hours"] = 3
    assert client.post(url("schedules", world, integration), data).status_code == 302
    organisation = integration.entity_syncs.get(entity="organisation")
    assert (organisation.polling_interval_seconds, organisation.reconcile_interval_hours) == (30, 3)
    data["person-polling_offset_seconds"] = 90
    response = client.post(url("schedules", world, integration), data)
    assert response.status_code == 400
    assert "offset must be shorter than the interval" in text(response)
    data["person-polling_offset_seconds"] = 0
    data["person-polling_interval_seconds"] = 2
    assert client.post(url("schedules", world, integration), data).status_code == 400


def test_pos_settings_and_registers(client, world):
    from mappings.defaults import integration_setup_defaults

    pos = IntegrationFactory(tenant=world.tenant, crm_connection=ConnectionFactory(
        tenant=world.tenant, system="customers1st", credentials={"api_token": "t"}))
    integration_setup_defaults(integration=pos)
    assert set(pos.entity_syncs.values_list("entity", flat=True)) == {"organisation", "item", "pos_sale",
                                                                       "daily_report"}
    client.force_login(world.admin)
    data = {"default_debtor_group": "POS", "default_pos_debtor": "99999", "default_item_group": "Tøj",
            "auto_invoice_cash_sales": "on", "pos_journal": "KASSE", "cash_gl_account": "5600",
            "difference_gl_account": "7290", "cash_payment_name": "Kontant", "debtor_payment_name": "Faktura",
            "daily_report_time": "21:30", "variant_style_no": "xStyleNo", "variant_size": "xSize",
            "variant_color": "xColour", "variant_custom1": "xCustomField1", "variant_custom2": "xCustomField2",
            "variant_custom3": "xCustomField3", "variant_custom4": "xCustomField4", "variant_barcode": "xBarcode"}
    assert client.post(url("pos-settings", world, pos), data).status_code == 302
    pos.pos_settings.refresh_from_db()
    assert pos.pos_settings.variant_fields["color"] == "xColour"
    assert pos.pos_settings.debtor_payment_name == "Faktura"
    response = client.post(url("pos-settings", world, pos), {**data, "variant_size": "Size"})
    assert response.status_code == 400 and "starts with x" in text(response)
    client.post(url("pos-register-create", world, pos), {"register_id": "1", "name": "Kasse 1"})
    client.post(url("pos-register-create", world, pos), {"register_id": "2", "name": "Kasse 2"})
    assert client.post(url("pos-register-create", world, pos), {"register_id": "2", "name": "Dup"}).status_code == 400
    assert list(PosRegister.objects.filter(pos_settings__integration=pos).values_list("name", flat=True)) == [
        "Kasse 1", "Kasse 2"]
    # A webCRM integration has no POS screen.
    assert client.get(url("pos-settings", world, world.integration)).status_code == 404


def test_audit_page_lists_changes_with_before_and_after(client, setup):
    world, integration = setup
    client.force_login(world.admin)
    client.post(url("mapping-add", world, integration, "organisation"),
                {"erp_user_field": "xA", "crm_field": "OrganisationExtraCustom7"})
    body = text(client.get(url("audit-log", world, integration)))
    assert "anna-admin" in body and "xA ↔ OrganisationExtraCustom7" in body
