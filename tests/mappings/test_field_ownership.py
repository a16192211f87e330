"""One owner per webCRM field: two active integrations on one webCRM never write the same field."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import Integration
from integrations.services import integration_activate
from mappings.defaults import integration_setup_defaults
from mappings.models import EntitySync, FieldMapping
from mappings.ownership import FrontWrite, IntegrationWrites, clash_message, field_owner_clashes, front_writes
from mappings.services import ConfigInvalid, entity_sync_update, field_mapping_add
from mappings.validation import MappingRow
from tests.factories import ConnectionFactory, ErpConnectionFactory, UserFactory

FORTNOX_CREDENTIALS = {"client_id": "c", "client_secret": "s", "refresh_token": "r"}


@pytest.fixture
def fake_catalogs():
    """The vendors' real catalogs here: the words of a refusal name real fields."""


# -- the rule, on plain data --------------------------------------------------------------------------


def writes(name: str, *slots: tuple[str, str], key: object = None) -> IntegrationWrites:
    return IntegrationWrites(name=name, writes=tuple(FrontWrite(entity, field) for entity, field in slots), key=key)


def test_only_rows_flowing_to_the_front_system_write_it():
    rows = [MappingRow("Name", "OrganisationName"), MappingRow("EAN", "OrganisationExtraCustom2", "to_crm"),
            MappingRow("Www", "OrganisationWww", "to_erp")]
    assert [w.field for w in front_writes(front_entity="organisation", direction="two_way", rows=rows)] == [
        "OrganisationName", "OrganisationExtraCustom2"]
    assert front_writes(front_entity="organisation", direction="to_erp", rows=rows) == []
    assert front_writes(front_entity="organisation", direction="off", rows=rows) == []


def test_a_field_written_by_both_is_a_clash_and_different_fields_are_not():
    uniconta = writes("webCRM ↔ Uniconta", ("organisation", "OrganisationName"), ("user", "UserEmail"))
    fortnox = writes("webCRM ↔ Fortnox", ("organisation", "OrganisationName"), ("organisation", "OrganisationCity"))
    [clash] = field_owner_clashes(candidate=fortnox, others=[uniconta])
    assert clash.other is uniconta
    assert [w.field for w in clash.fields] == ["OrganisationName"]
    apart = writes("webCRM ↔ Visma.net", ("organisation", "OrganisationCity"), ("person", "PersonEmail"))
    assert field_owner_clashes(candidate=apart, others=[uniconta]) == []


def test_the_same_field_name_of_another_entity_is_another_field():
    one = writes("A", ("delivery", "DeliveryDescription"))
    other = writes("B", ("organisation", "DeliveryDescription"))
    assert field_owner_clashes(candidate=one, others=[other]) == []


def test_clashes_that_were_there_before_a_change_are_left_out():
    uniconta = writes("webCRM ↔ Uniconta", ("organisation", "OrganisationName"), ("organisation", "OrganisationCity"))
    changed = writes("webCRM ↔ Fortnox", ("organisation", "OrganisationName"), ("organisation", "OrganisationCity"))
    [clash] = field_owner_clashes(candidate=changed, others=[uniconta], already=[("organisation", "OrganisationName")])
    assert [w.field for w in clash.fields] == ["OrganisationCity"]


def test_the_refusal_names_the_fields_and_the_other_integration():
    uniconta = IntegrationWrites(name="webCRM ↔ Uniconta", writes=(
        FrontWrite("organisation", "OrganisationExtraCustom1", "Debtor number"),
        FrontWrite("organisation", "OrganisationName"), FrontWrite("user", "UserEmail")))
    [clash] = field_owner_clashes(candidate=uniconta, others=[uniconta])
    assert clash_message(clash, front_name="webCRM") == (
        "webCRM ↔ Uniconta already writes OrganisationExtraCustom1 (Debtor number) and OrganisationName of "
        "organisations, and UserEmail of users in this webCRM; pause it or remove those rows first.")


# -- activation through the screens, the API and the mapping screens ----------------------------------


@pytest.fixture
def rivals(world):
    """webCRM ↔ Uniconta running and webCRM ↔ Fortnox paused, on the same webCRM, both with their defaults."""
    webcrm = ConnectionFactory(tenant=world.tenant, system="webcrm", name="webCRM")
    running = Integration.objects.create(tenant=world.tenant, name="webCRM ↔ Uniconta", crm_connection=webcrm,
                                         erp_connection=ErpConnectionFactory(tenant=world.tenant, name="Uniconta"))
    paused = Integration.objects.create(
        tenant=world.tenant, name="webCRM ↔ Fortnox", crm_connection=webcrm, active=False,
        erp_connection=ConnectionFactory(tenant=world.tenant, system="fortnox", name="Fortnox",
                                         credentials=FORTNOX_CREDENTIALS))
    for integration in (running, paused):
        integration_setup_defaults(integration=integration)
    return running, paused


def edit(client, world, integration, **changes):
    data = {"name": integration.name, "crm_connection": integration.crm_connection_id,
            "erp_connection": integration.erp_connection_id, **changes}
    if data.pop("active", integration.active):
        data["active"] = "on"
    return client.post(reverse("integration-edit", args=[world.tenant.slug, integration.pk]), data)


@pytest.mark.django_db
def test_the_form_refuses_to_switch_on_an_integration_writing_fields_another_one_writes(client, world, rivals):
    _, paused = rivals
    client.force_login(world.admin)
    response = edit(client, world, paused, active=True)
    assert response.status_code == 200
    [error] = response.context["form"].errors["active"]
    assert error.startswith("webCRM ↔ Uniconta already writes OrganisationExtraCustom1 (Debtor number), "
                            "OrganisationName, ")
    assert error.endswith("in this webCRM; pause it or remove those rows first.")
    assert "UserEmail of users" in error
    paused.refresh_from_db()
    assert not paused.active and paused.activated_at is None


@pytest.mark.django_db
def test_the_api_refuses_it_with_a_400_and_saves_nothing(api, world, rivals):
    _, paused = rivals
    api.force_authenticate(world.admin)
    url = f"/api/v1/t/{world.tenant.slug}/integrations/{paused.pk}/"
    response = api.patch(url, {"active": True, "name": "Fortnox now"}, format="json")
    assert response.status_code == 400
    assert "webCRM ↔ Uniconta already writes OrganisationExtraCustom1" in response.json()["active"][0]
    paused.refresh_from_db()
    assert (paused.active, paused.name, paused.activated_at) == (False, "webCRM ↔ Fortnox", None)
    body = {"name": "webCRM ↔ Fortnox", "crm_connection": paused.crm_connection_id,
            "erp_connection": paused.erp_connection_id, "active": True}
    assert api.put(url, body, format="json").status_code == 400


@pytest.mark.django_db
def test_pausing_the_other_one_first_allows_it_and_records_when(client, api, world, rivals):
    running, paused = rivals
    client.force_login(world.admin)
    assert edit(client, world, running, active=False).status_code == 302
    assert edit(client, world, paused, active=True).status_code == 302
    paused.refresh_from_db()
    assert paused.active and paused.activated_at is not None
    first = paused.activated_at
    assert edit(client, world, paused, name="webCRM ↔ Fortnox AB").status_code == 302  # already on: kept
    paused.refresh_from_db()
    assert paused.activated_at == first
    # And now the first one cannot come back while the second runs.
    api.force_authenticate(world.admin)
    response = api.patch(f"/api/v1/t/{world.tenant.slug}/integrations/{running.pk}/", {"active": True}, format="json")
    assert response.status_code == 400
    assert "webCRM ↔ Fortnox AB already writes" in response.json()["active"][0]


@pytest.mark.django_db
def test_different_fields_may_be_written_by_several_integrations(api, world, rivals):
    running, paused = rivals
    clashing = FieldMapping.objects.filter(entity_sync__integration=paused, crm_field__in=set(
        FieldMapping.objects.filter(entity_sync__integration=running).values_list("crm_field", flat=True)))
    assert clashing.exists()
    clashing.delete()
    FieldMapping.objects.create(tenant=world.tenant, entity_sync=paused.entity_syncs.get(entity="organisation"),
                                erp_field="CustomerNumber", crm_field="OrganisationExtraCustom5")
    api.force_authenticate(world.admin)
    response = api.patch(f"/api/v1/t/{world.tenant.slug}/integrations/{paused.pk}/", {"active": True}, format="json")
    assert response.status_code == 200, response.content
    paused.refresh_from_db()
    assert paused.active and paused.activated_at is not None


@pytest.mark.django_db
def test_a_row_added_to_a_running_integration_may_not_take_a_field_another_one_writes(api, world, rivals):
    _, paused = rivals
    FieldMapping.objects.filter(entity_sync__integration=paused).delete()
    paused.active = True
    paused.save()
    organisations = paused.entity_syncs.get(entity="organisation")
    with pytest.raises(ConfigInvalid) as refused:
        field_mapping_add(entity_sync=organisations, user=world.admin, erp_field="Name", crm_field="OrganisationName")
    assert "webCRM ↔ Uniconta already writes OrganisationName of organisations" in str(refused.value)
    api.force_authenticate(world.admin)
    response = api.post(f"/api/v1/t/{world.tenant.slug}/field-mappings/", {
        "entity_sync": organisations.pk, "erp_field": "Name", "crm_field": "OrganisationName"}, format="json")
    assert response.status_code == 400
    assert "pause it or remove those rows first" in response.json()["crm_field"][0]
    # Written only webCRM → ERP, the row writes nothing in webCRM: allowed.
    response = api.post(f"/api/v1/t/{world.tenant.slug}/field-mappings/", {
        "entity_sync": organisations.pk, "erp_field": "Name", "crm_field": "OrganisationName",
        "direction": "to_erp"}, format="json")
    assert response.status_code == 201, response.content
    assert not FieldMapping.objects.filter(entity_sync=organisations, direction="").exists()


@pytest.mark.django_db
def test_turning_an_entity_towards_webcrm_is_refused_but_an_old_clash_blocks_no_other_edit(world, rivals):
    _, paused = rivals
    FieldMapping.objects.filter(entity_sync__integration=paused).exclude(entity_sync__entity="organisation").delete()
    organisations = paused.entity_syncs.get(entity="organisation")
    EntitySync.objects.filter(pk=organisations.pk).update(direction="to_erp")
    paused.refresh_from_db()
    integration_activate(integration=paused)  # nothing flows to webCRM: nothing to clash with
    organisations.refresh_from_db()
    with pytest.raises(ConfigInvalid) as refused:
        entity_sync_update(entity_sync=organisations, user=world.admin, changes={"direction": "two_way"})
    assert refused.value.by_field()["direction"][0].startswith("webCRM ↔ Uniconta already writes")
    assert EntitySync.objects.get(pk=organisations.pk).direction == "to_erp"
    # A clash already there (made behind the rule's back) does not block an unrelated change.
    EntitySync.objects.filter(pk=organisations.pk).update(direction="two_way")
    organisations.refresh_from_db()
    entity_sync_update(entity_sync=organisations, user=world.admin, changes={"reconcile_interval_hours": 12})
    assert EntitySync.objects.get(pk=organisations.pk).reconcile_interval_hours == 12


@pytest.mark.django_db
def test_the_admin_checks_and_records_an_activation_too(client, world, rivals):
    running, paused = rivals
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = f"/admin/integrations/integration/{paused.pk}/change/"
    data = {"tenant": world.tenant.pk, "name": paused.name, "crm_connection": paused.crm_connection_id,
            "erp_connection": paused.erp_connection_id, "guard_share": 5, "guard_minimum": 20, "active": "on"}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "webCRM ↔ Uniconta already writes" in response.content.decode()
    assert not Integration.objects.get(pk=paused.pk).active
    Integration.objects.filter(pk=running.pk).update(active=False)
    assert client.post(url, data).status_code == 302
    paused.refresh_from_db()
    assert paused.active and paused.activated_at is not None


@pytest.mark.django_db
def test_a_new_integration_is_only_created_running_when_its_default_fields_are_free(client, world, rivals):
    running, _ = rivals
    client.force_login(world.admin)
    visma = ConnectionFactory(tenant=world.tenant, system="vismanet", name="Visma.net",
                              credentials={"client_id": "c", "client_secret": "s", "tenant_id": "t"})
    data = {"name": "webCRM ↔ Visma.net", "crm_connection": running.crm_connection_id, "erp_connection": visma.pk}
    response = client.post(reverse("integration-create", args=[world.tenant.slug]), {**data, "active": "on"})
    assert response.status_code == 200
    assert "webCRM ↔ Uniconta already writes" in response.context["form"].errors["active"][0]
    assert not Integration.objects.filter(name="webCRM ↔ Visma.net").exists()
    assert client.post(reverse("integration-create", args=[world.tenant.slug]), data).status_code == 302
    created = Integration.objects.get(name="webCRM ↔ Visma.net")
    assert not created.active and created.activated_at is None


@pytest.mark.django_db
def test_an_integration_on_another_webcrm_is_not_concerned(api, world, rivals):
    running, paused = rivals
    api.force_authenticate(world.admin)
    other_webcrm = ConnectionFactory(tenant=world.tenant, system="webcrm", name="webCRM (Sverige)")
    response = api.patch(f"/api/v1/t/{world.tenant.slug}/integrations/{paused.pk}/",
                         {"active": True, "crm_connection": other_webcrm.pk}, format="json")
    assert response.status_code == 200, response.content
    # Moving it back onto the shared webCRM while running is switching it on there: refused.
    response = api.patch(f"/api/v1/t/{world.tenant.slug}/integrations/{paused.pk}/",
                         {"crm_connection": running.crm_connection_id}, format="json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_the_demo_runs_one_erp_per_webcrm_and_refuses_a_second_one():
    from django.core.management import call_command

    from integrations.services import ActivationRefused

    call_command("demo_setup", base_url="http://127.0.0.1:8000")
    demo = Integration.objects.filter(tenant__slug="demo")
    assert all(i.activated_at is not None for i in demo.filter(active=True))
    assert all(i.activated_at is None for i in demo.filter(active=False))
    fortnox = demo.get(erp_connection__system="fortnox", crm_connection__system="webcrm")
    with pytest.raises(ActivationRefused) as refused:
        integration_activate(integration=fortnox)
    assert refused.value.reasons[0].startswith("webCRM ↔ Uniconta already writes OrganisationExtraCustom1 (Debtor "
                                               "number), OrganisationName")
    fortnox.refresh_from_db()
    assert not fortnox.active and fortnox.activated_at is None
