"""Which entity settings apply to what is chosen: a setting that does not apply is hidden on the page."""

from __future__ import annotations

import json

import pytest

from mappings.defaults import integration_setup_defaults
from mappings.forms import EntitySettingsForm, MappingRowForm, field_labels
from mappings.selectors import entity_sides
from tests.factories import ConnectionFactory, IntegrationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def visma_delivery(world):
    integration = IntegrationFactory(tenant=world.tenant, crm_connection=world.connection,
                                     erp_connection=ConnectionFactory(tenant=world.tenant, system="vismanet"))
    integration_setup_defaults(integration=integration)
    delivery = integration.entity_syncs.get(entity="delivery")
    delivery.direction, delivery.delivery_target = "to_erp", "sales_order"
    delivery.save()
    return delivery


def test_the_order_type_applies_only_to_sales_orders_of_an_erp_that_has_one(world, visma_delivery):
    form = EntitySettingsForm(instance=visma_delivery)
    assert form.applies("outgoing_order_type") and form.applies("delivery_target")
    assert json.loads(form.applies_rule("outgoing_order_type")) == {
        "direction": ["to_erp", "two_way"], "delivery_target": ["sales_order"]}
    as_invoices = EntitySettingsForm({"direction": "to_erp", "delivery_target": "invoice"}, instance=visma_delivery)
    assert not as_invoices.applies("outgoing_order_type")
    # Uniconta's sales orders have no order type: the setting never applies there.
    uniconta = EntitySettingsForm(instance=world.integration.entity_syncs.get(entity="delivery"))
    assert not uniconta.applies("outgoing_order_type") and uniconta.applies_rule("outgoing_order_type") == ""


def test_order_types_accepted_back_apply_only_when_orders_come_back(visma_delivery):
    assert not EntitySettingsForm(instance=visma_delivery).applies("accepted_order_types")
    back = EntitySettingsForm({"direction": "to_crm", "delivery_target": "sales_order"}, instance=visma_delivery)
    assert back.applies("accepted_order_types") and not back.applies("delivery_target")


def test_a_setting_with_an_error_stays_in_sight(visma_delivery):
    form = EntitySettingsForm({"direction": "to_crm", "delivery_target": "sales_order",
                               "accepted_order_types": "SO"}, instance=visma_delivery)
    form.is_valid()
    form.add_error("outgoing_order_type", "Too long.")
    rows = {row["field"].name: row for row in form.setting_rows()}
    assert rows["outgoing_order_type"]["applies"] and not rows["delivery_target"]["applies"]


def test_the_conflict_owner_applies_only_to_two_way_sync(world):
    organisation = world.integration.entity_syncs.get(entity="organisation")
    organisation.direction = "to_erp"
    organisation.save()
    assert not EntitySettingsForm(instance=organisation).applies("conflict_owner")
    assert EntitySettingsForm({"direction": "two_way"}, instance=organisation).applies("conflict_owner")


def test_the_mapping_row_form_knows_the_catalogs_labels(world):
    organisation = world.integration.entity_syncs.get(entity="organisation")
    form = MappingRowForm(entity_sync=organisation)
    front, _ = entity_sides(organisation)
    assert form.crm_labels["OrganisationName"] == "Name" == field_labels(front.spec)["OrganisationName"]
    assert all(field.widget.attrs["form"] == MappingRowForm.FORM_ID for field in form.fields.values())


def test_the_mapping_table_shows_labels_with_the_api_name_below(client, world):
    client.force_login(world.customer)
    url = f"/t/{world.tenant.slug}/integrations/{world.integration.pk}/settings/organisation/"
    body = client.get(url).content.decode()
    assert '<span class="field-label">Name</span><small class="api-name mono">OrganisationName</small>' in body
    assert "Only administrators of Nordlys Handel A/S can change these settings." in body
    assert 'fieldset class="plain" disabled' in body and "Save organisations" not in body
    client.force_login(world.admin)
    assert "Only administrators of" not in client.get(url).content.decode()



def test_a_row_whose_target_is_an_identifier_reads_refused_whatever_its_setting(client, world):
    """The "Longer values" column and the row's note agree: an identifier is never shortened, so it reads "Refused"
    even on a row set to shorten; a name row set to shorten reads "Shortened"."""
    from mappings.models import FieldMapping

    organisation = world.integration.entity_syncs.get(entity="organisation")
    rows = FieldMapping.objects.filter(entity_sync=organisation)
    number = rows.filter(crm_field="OrganisationExtraCustom1").first() or rows.exclude(overflow="refuse").first()
    FieldMapping.objects.filter(pk__in=[m.pk for m in rows]).update(overflow="shorten")
    client.force_login(world.admin)
    body = client.get(f"/t/{world.tenant.slug}/integrations/{world.integration.pk}/settings/organisation/")
    html = body.content.decode()

    def longer_cell(mapping):
        row = html[html.index(f'id="mapping-{mapping.pk}"'):]
        return row[row.index('<td class="longer">') + len('<td class="longer">'):].split("<", 1)[0].strip()

    name = rows.get(crm_field="OrganisationName")
    assert longer_cell(name) == "Shortened"
    assert longer_cell(number) == "Refused", number.crm_field
