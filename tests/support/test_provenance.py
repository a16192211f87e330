"""A log entry names the settings version it was written under, and its detail shows those settings, not today's."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from integrations.engine.context import context_for
from integrations.engine.log import log_entry_create
from integrations.models import SyncLogEntry
from integrations.services import integration_pause
from integrations.systems.catalog import Entity
from mappings.models import ConfigChange, EntitySync, FieldMapping, WebhookToggle
from mappings.provenance import integration_settings, latest_version_id, settings_in_force
from mappings.services import (
    entity_sync_update,
    field_mapping_add,
    field_mapping_remove,
    field_mapping_update,
    webhook_toggle_set,
)
from tests.harness import drain, make_pair

from .conftest import url

pytestmark = pytest.mark.django_db
ORG = Entity.ORGANISATION


def _organisation_sync(integration) -> EntitySync:
    return EntitySync.objects.get(integration=integration, entity=ORG)


def _row(integration, erp_field: str) -> FieldMapping:
    return FieldMapping.objects.get(entity_sync__integration=integration, entity_sync__entity=ORG, erp_field=erp_field)


def _by_label(lines) -> dict:
    return {line.label: line for line in lines}


# -- what a change keeps ------------------------------------------------------------------------------------------

def test_every_change_keeps_the_whole_configuration_as_it_stood_after_it(world):
    integration = world.integration
    entity_sync = _organisation_sync(integration)
    before = latest_version_id(integration_id=integration.pk)
    entity_sync_update(entity_sync=entity_sync, user=world.admin, changes={"conflict_owner": "erp"})
    change = ConfigChange.objects.filter(integration=integration).latest("pk")
    assert change.pk != before
    assert change.settings_after == integration_settings(integration_id=integration.pk)
    assert change.settings_after["entities"]["organisation"]["settings"]["conflict_owner"] == "erp"
    assert change.user == world.admin


def test_the_migration_builds_the_same_snapshot_as_the_running_code(world):
    migration = importlib.import_module("mappings.migrations.0004_config_snapshots")
    assert migration._settings(apps, world.integration.pk) == integration_settings(integration_id=world.integration.pk)


def test_the_migration_gives_each_integration_s_newest_change_today_s_settings(world):
    migration = importlib.import_module("mappings.migrations.0004_config_snapshots")
    ConfigChange.objects.update(settings_after=None)
    migration.snapshot_newest_changes(apps, None)
    newest = ConfigChange.objects.get(pk=latest_version_id(integration_id=world.integration.pk))
    assert newest.settings_after == integration_settings(integration_id=world.integration.pk)
    older = ConfigChange.objects.filter(integration=world.integration).exclude(pk=newest.pk)
    assert all(change.settings_after is None for change in older)


# -- writing the version --------------------------------------------------------------------------------------------

def test_the_context_reads_the_version_with_the_settings_and_a_proposal_has_none(world):
    integration = world.integration
    ctx = context_for(integration, ORG)
    assert ctx.config_version_id == latest_version_id(integration_id=integration.pk) is not None
    proposed = context_for(integration, ORG, entity_settings={"direction": "two_way"})
    assert proposed.config_version_id is None


def test_an_entry_written_with_its_context_costs_no_query_beyond_its_insert(world, django_assert_num_queries):
    version = latest_version_id(integration_id=world.integration.pk)
    with django_assert_num_queries(1):
        entry = log_entry_create(integration=world.integration, entity=ORG, action="updated",
                                 config_version_id=version)
    assert entry.config_version_id == version


def test_an_entry_written_without_a_context_names_the_newest_version(world, django_assert_num_queries):
    entity_sync_update(entity_sync=_organisation_sync(world.integration), user=world.admin,
                       changes={"conflict_owner": "erp"})
    with django_assert_num_queries(2):
        entry = log_entry_create(integration=world.integration, entity=ORG, action="skipped")
    assert entry.config_version == ConfigChange.objects.filter(integration=world.integration).latest("pk")
    assert entry.config_version.changes == {"conflict_owner": ["newest", "erp"]}


# -- reading it back: every kind of change the trail records -------------------------------------------------------

def test_the_settings_as_then_survive_every_kind_of_change(world):
    integration = world.integration
    version = latest_version_id(integration_id=integration.pk)
    entity_sync = _organisation_sync(integration)
    then_rows = [row.erp_field for row in entity_sync.field_mappings.order_by("position", "pk")]
    city, phone = _row(integration, "City"), _row(integration, "Phone")
    toggle = WebhookToggle.objects.filter(integration=integration, entity=ORG, action="deleted").first()

    entity_sync_update(entity_sync=entity_sync, user=world.admin,
                       changes={"conflict_owner": "erp", "polling_interval_seconds": 300})
    field_mapping_update(mapping=city, user=world.admin, changes={"overflow": "refuse"})
    field_mapping_remove(mapping=phone, user=world.admin)
    field_mapping_add(entity_sync=entity_sync, user=world.admin, erp_field="Phone",
                              crm_field="OrganisationTelephone")
    if toggle is not None:
        webhook_toggle_set(toggle=toggle, user=world.admin, enabled=True)
    integration_pause(integration=integration, user=world.admin)

    shown = settings_in_force(integration=integration, entity=ORG, version_id=version)
    assert shown.recorded and shown.differs
    settings = _by_label(shown.settings)
    assert (settings["When a field changed on both sides"].then, settings["When a field changed on both sides"].today
            ) == ("Newest change wins", "ERP wins")
    assert (settings["Poll every (seconds)"].then, settings["Poll every (seconds)"].today) == ("60", "300")
    assert (settings["Status"].then, settings["Status"].today) == ("Active", "Paused")
    assert not settings["Direction"].changed
    states = [row.state for row in shown.rows]
    assert len(shown.rows) == len(then_rows) + 1 and states[-1] == "added"  # the row added since comes last
    by_erp_then = dict(zip(then_rows, shown.rows[:len(then_rows)], strict=True))
    assert by_erp_then["City"].state == "changed"
    assert "Shorten at a word boundary (and log it)" in by_erp_then["City"].cells
    assert "Refuse: the record waits, nothing written" in by_erp_then["City"].today
    assert by_erp_then["Phone"].state == "removed"  # a row removed and added again is another row
    assert by_erp_then["Name"].state == "same"
    if toggle is not None:
        [line] = [line for line in shown.webhooks if line.changed]
        assert (line.then, line.today) == ("Off", "On") and "deleted" in line.label

    newest = settings_in_force(integration=integration, entity=ORG,
                               version_id=latest_version_id(integration_id=integration.pk))
    assert newest.recorded and not newest.differs


def test_a_version_kept_before_versions_were_and_no_version_say_so(world):
    integration = world.integration
    version = latest_version_id(integration_id=integration.pk)
    ConfigChange.objects.filter(pk=version).update(settings_after=None)
    old = settings_in_force(integration=integration, entity=ORG, version_id=version)
    assert old.version.pk == version and not old.recorded
    none = settings_in_force(integration=integration, entity=ORG, version_id=None)
    assert none.version is None and not none.recorded


def test_a_version_of_another_integration_is_not_shown(world):
    foreign = latest_version_id(integration_id=world.other_integration.pk)
    shown = settings_in_force(integration=world.integration, entity=ORG, version_id=foreign)
    assert shown.version is None and not shown.recorded


# -- the detail page, end to end -------------------------------------------------------------------------------------

@pytest.fixture
def pair(db, synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    pair.webcrm_hooks("Organisations", "Persons")
    pair.erp.subscribe(pair.integration.webhook_url("uniconta"), table="Debtor")
    return pair


def test_the_detail_shows_the_settings_an_entry_was_written_under_not_today_s(client, pair):
    integration = pair.integration
    admin = integration.tenant.memberships.get().user
    org = pair.crm_client.create_record(ORG, {
        "OrganisationName": "Havbrise Byg ApS", "OrganisationType": "Kunde", "OrganisationAddress": "Havnevej 3",
        "OrganisationPostCode": "8000", "OrganisationCity": "Aarhus C"})
    drain()
    created = SyncLogEntry.objects.get(integration=integration, action="created")
    assert created.config_version_id == latest_version_id(integration_id=integration.pk) is not None

    entity_sync_update(entity_sync=_organisation_sync(integration), user=admin, changes={"conflict_owner": "erp"})
    field_mapping_update(mapping=_row(integration, "City"), user=admin, changes={"overflow": "refuse"})
    pair.crm_client.update_record(ORG, str(org["OrganisationId"]), {"OrganisationCity": "Aarhus N"})
    drain()
    updated = SyncLogEntry.objects.get(integration=integration, action="updated")
    assert updated.config_version_id == latest_version_id(integration_id=integration.pk) != created.config_version_id

    client.force_login(admin)
    tenant = integration.tenant
    body = client.get(f"/t/{tenant.slug}/log/{created.pk}/").content.decode()
    assert "Settings in force: version of" in body and f"by {admin}" not in body  # the defaults were Synkro's
    assert "by Synkro" in body
    assert 'id="settings-differ"' in body and "Newest change wins" in body and "Changed since" in body
    body = client.get(f"/t/{tenant.slug}/log/{updated.pk}/").content.decode()
    assert f"by {admin}" in body and 'id="settings-same"' in body and 'id="settings-differ"' not in body


def test_an_entry_without_a_version_shows_today_s_settings_and_says_so(client, world, log):
    entry = log(action="updated")
    assert entry.config_version_id is None
    client.force_login(world.support)
    body = client.get(url("log-detail", world, entry.pk)).content.decode()
    assert "not recorded for this entry" in body and "These are today's settings" in body


def test_the_log_detail_of_another_tenant_stays_hidden(client, world, log):
    entry = log(action="updated", integration=world.other_integration)
    client.force_login(world.admin)
    assert client.get(url("log-detail", world, entry.pk)).status_code == 404


def test_a_pos_entry_shows_the_pos_settings_as_then(world):
    from mappings.services import pos_settings_update

    pos = world.rows.pos_integration
    version = latest_version_id(integration_id=pos.pk)
    pos_settings_update(pos_settings=pos.pos_settings, user=world.admin, changes={"pos_journal": "KASSE"})
    shown = settings_in_force(integration=pos, entity="daily_report", version_id=version)
    journal = _by_label(shown.settings)["POS journal"]
    assert (journal.then, journal.today, journal.changed) == ("(empty)", "KASSE", True)


def test_a_row_whose_target_is_a_number_reads_as_refusing_whatever_its_stored_setting(world):
    """The engine refuses to shorten an identifier (a debtor number), so the settings then say so, as the mapping
    table does — not the "shorten" the row stores."""
    integration = world.integration
    shown = settings_in_force(integration=integration, entity=ORG,
                              version_id=latest_version_id(integration_id=integration.pk))
    erp_fields = [row.erp_field for row in _organisation_sync(integration).field_mappings.order_by("position", "pk")]
    by_erp = dict(zip(erp_fields, shown.rows, strict=True))
    assert _row(integration, "Account").overflow == "shorten"
    assert "Refuse: the record waits, nothing written" in by_erp["Account"].cells
    assert "Shorten at a word boundary (and log it)" in by_erp["Name"].cells
