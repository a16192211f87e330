"""The audit trail speaks the settings screens' words: labels, choice labels, lists in words, catalog field names."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from integrations.systems.catalog import Catalog, Entity, EntitySpec, FieldSpec
from mappings import selectors
from mappings.audit import change_words, words_joined
from mappings.models import ConfigChange, EntitySync, PosSettings, WebhookToggle
from mappings.services import (
    entity_sync_update,
    field_mapping_add,
    field_mapping_remove,
    field_mapping_update,
    pos_register_add,
    pos_settings_update,
    webhook_toggle_set,
)
from tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

#: What must never show on the audit screen: Python reprs of lists and strings, and the stored codes of choices.
RAW = re.compile(r"\['|'\]|^'|'$|\b(to_erp|to_crm|two_way|newest|sales_order|shorten|refuse)\b")


@pytest.fixture
def integration(world):
    from mappings.defaults import integration_setup_defaults

    integration = IntegrationFactory(tenant=world.tenant, name="webCRM ↔ Uniconta")
    integration_setup_defaults(integration=integration, user=world.admin)
    return integration


def latest(integration) -> ConfigChange:
    return ConfigChange.objects.filter(integration=integration).select_related(
        "integration__crm_connection", "integration__erp_connection").latest("at", "pk")


def lines(change: ConfigChange) -> dict[str, tuple[str, str]]:
    return {line.field: (line.before, line.after) for line in change_words(change).lines}


def assert_no_raw_values(change: ConfigChange) -> None:
    words = change_words(change)
    for text in [words.what, *(part for line in words.lines for part in (line.field, line.before, line.after))]:
        assert not RAW.search(text), text


def test_entity_settings_read_with_the_screen_labels(world, integration):
    organisation = EntitySync.objects.get(integration=integration, entity="organisation")
    entity_sync_update(entity_sync=organisation, user=world.admin, changes={
        "direction": "two_way", "conflict_owner": "erp", "trigger_field": "status",
        "trigger_values": ["Kunde", "Kund – Företag", "Kund – Privat"], "type_lock": False,
        "number_authority": "crm", "reconcile_interval_hours": 24})
    change = latest(integration)
    said = lines(change)
    assert change_words(change).what == "Changed Organisations / debtors settings"
    assert said["When a field changed on both sides"] == ("Newest change wins", "ERP wins")
    assert said["Sync only organisations of type"] == ("“Kunde”", "“Kunde”, “Kund – Företag” and “Kund – Privat”")
    assert said["Customer numbers"] == ("The ERP assigns customer numbers",
                                        "webCRM assigns customer numbers (typed in webCRM, required)")
    assert said["Trigger field"] == ("Type", "Status")
    assert said["Lock the type"] == ("Yes", "No")
    assert said["Safety reconciliation"] == ("Every 6 hours", "Every 24 hours")
    assert_no_raw_values(change)


def test_mapping_rows_are_named_by_their_catalog_labels_with_the_api_name(world, integration, monkeypatch):
    labelled = {
        "webcrm": Catalog("webcrm", (EntitySpec(Entity.ORGANISATION, "Organisations", "OrganisationId", (
            FieldSpec("OrganisationName", label="Name"), FieldSpec("OrganisationExtraCustom5", label="Branch",
                                                                   custom=True))),)),
        "uniconta": Catalog("uniconta", (EntitySpec(Entity.ORGANISATION, "DebtorClient", "RowId", (
            FieldSpec("Name", label="Name"), FieldSpec("Group", label="Debtor group")),
            open_custom_fields=True),)),
    }
    monkeypatch.setattr(selectors, "catalog_of", lambda system: labelled.get(system, Catalog(system)))
    organisation = EntitySync.objects.get(integration=integration, entity="organisation")
    row = field_mapping_add(entity_sync=organisation, user=world.admin, erp_field="Group",
                            crm_field="OrganisationExtraCustom5", direction="to_crm", value_map={"Kunde": "DK"})
    added = latest(integration)
    assert change_words(added).what == ("Added Organisations / debtors mapping row Debtor group (Group) ↔ "
                                        "Branch (OrganisationExtraCustom5)")
    said = lines(added)
    assert said["Uniconta field"] == ("(empty)", "Debtor group (Group)")
    assert said["webCRM field"] == ("(empty)", "Branch (OrganisationExtraCustom5)")
    assert said["Direction"] == ("(empty)", "webCRM ← Uniconta only")
    assert said["Value map"] == ("(empty)", "Kunde = DK")
    assert said["Longer than the target holds"] == ("(empty)", "Shorten at a word boundary (and log it)")
    assert_no_raw_values(added)

    field_mapping_update(mapping=row, user=world.admin, changes={"direction": "", "conflict_owner": "crm",
                                                                 "overflow": "refuse"})
    said = lines(latest(integration))
    assert said["Direction"] == ("webCRM ← Uniconta only", "As the entity")
    assert said["Who wins for this field"] == ("As the entity", "webCRM wins")
    assert said["Longer than the target holds"] == ("Shorten at a word boundary (and log it)",
                                                    "Refuse: the record waits, nothing written")
    field_mapping_remove(mapping=row, user=world.admin)
    removed = latest(integration)
    assert change_words(removed).what.startswith("Removed Organisations / debtors mapping row Debtor group (Group)")
    assert_no_raw_values(removed)


def test_a_webhook_toggle_names_the_system_as_it_writes_itself(world, integration):
    toggle = WebhookToggle.objects.get(integration=integration, system="uniconta", entity="organisation",
                                       action="deleted")
    webhook_toggle_set(toggle=toggle, user=world.admin, enabled=True)
    change = latest(integration)
    assert change_words(change).what == "Changed Webhook of Uniconta: organisations / debtors deleted"
    assert lines(change) == {"Acted on": ("Off", "On")}


def test_the_default_configuration_lists_what_it_added_in_words(world, integration):
    change = ConfigChange.objects.select_related("integration__crm_connection", "integration__erp_connection").get(
        integration=integration, subject="Default configuration")
    said = lines(change)
    assert said["Entities"][1].startswith("“Organisations / debtors”, “Persons / contacts”")
    assert change_words(change).what == "Added Default configuration"
    assert_no_raw_values(change)


def test_pos_settings_and_registers_read_in_words(world):
    from mappings.defaults import integration_setup_defaults
    from tests.factories import ConnectionFactory, ErpConnectionFactory

    front = ConnectionFactory(tenant=world.tenant, system="customers1st", credentials={"api_token": "t"})
    integration = IntegrationFactory(tenant=world.tenant, name="Customers 1st ↔ Uniconta", crm_connection=front,
                                     erp_connection=ErpConnectionFactory(tenant=world.tenant))
    integration_setup_defaults(integration=integration)
    pos = PosSettings.objects.get(integration=integration)
    variants = dict(pos.variant_fields, size="xSz")
    pos_settings_update(pos_settings=pos, user=world.admin, changes={
        "auto_invoice_debtor_sales": True, "variant_fields": variants, "pos_journal": "POS"})
    said = lines(latest(integration))
    assert said["Auto-invoice debtor sales"] == ("No", "Yes")
    assert said["Variants → Uniconta user fields"] == ("Size: xSize", "Size: xSz")
    assert said["POS journal"] == ("(empty)", "POS")
    pos_register_add(pos_settings=pos, user=world.admin, register_id="7", name="Kasse 1")
    change = latest(integration)
    assert change_words(change).what == "Added Register Kasse 1"
    assert lines(change)["Register id in Customers 1st"] == ("(empty)", "7")


def test_entries_stored_before_the_wording_read_in_words_too(world, integration):
    old = ConfigChange.objects.create(
        tenant=world.tenant, integration=integration, action="updated", subject="Organisations / debtors settings",
        changes={"number_authority": ["erp", "crm"], "trigger_values": [["Kunde"], ["Kund – Företag"]],
                 "direction": ["two_way", "to_crm"]})
    old_toggle = ConfigChange.objects.create(
        tenant=world.tenant, integration=integration, action="updated",
        subject="Webhook uniconta organisations / debtors created", changes={"enabled": [True, False]})
    said = lines(ConfigChange.objects.select_related("integration__crm_connection",
                                                     "integration__erp_connection").get(pk=old.pk))
    assert said["Sync only organisations of type"] == ("“Kunde”", "“Kund – Företag”")
    assert said["Direction"] == ("Two way", "webCRM ← Uniconta")
    assert change_words(old_toggle).what == "Changed Webhook of Uniconta: organisations / debtors created"


def test_pausing_and_activating_from_the_screen_are_recorded_with_who(client, world, integration):
    client.force_login(world.admin)
    edit = reverse("integration-edit", args=[world.tenant.slug, integration.pk])
    form = {"name": integration.name, "crm_connection": integration.crm_connection_id,
            "erp_connection": integration.erp_connection_id, "guard_share": 5, "guard_minimum": 20}
    assert client.post(edit, form).status_code == 302  # "active" left unticked: paused
    assert client.post(edit, {**form, "active": "on"}).status_code == 302
    paused, activated = ConfigChange.objects.filter(action__in=["paused", "activated"]).order_by("at", "pk")
    assert (paused.user, activated.user) == (world.admin, world.admin)
    assert change_words(paused).what == "Paused webCRM ↔ Uniconta"
    assert lines(paused) == {"Status": ("Active", "Paused")}
    assert change_words(activated).what == "Activated webCRM ↔ Uniconta"

    body = html.unescape(client.get(reverse("audit-log", args=[world.tenant.slug, integration.pk])).content.decode())
    assert "Paused webCRM ↔ Uniconta" in body and "Activated webCRM ↔ Uniconta" in body
    assert "anna-admin" in body and "'erp'" not in body and "['" not in body


def test_the_flash_message_after_saving_uses_the_same_words(client, world, integration):
    client.force_login(world.admin)
    response = client.post(reverse("entity-settings", args=[world.tenant.slug, integration.pk, "organisation"]), {
        "direction": "two_way", "conflict_owner": "newest", "trigger_field": "type",
        "trigger_values": "Kunde, Kund – Privat", "erp_created_type": "Kunde", "number_authority": "erp"},
        follow=True)
    body = html.unescape(response.content.decode())
    assert "Sync only organisations of type: “Kunde” → “Kunde” and “Kund – Privat”" in body


def test_words_joined():
    assert words_joined([]) == "none"
    assert words_joined(["Kunde"]) == "“Kunde”"
    assert words_joined(["A", "B", "C"]) == "“A”, “B” and “C”"
