"""Previews against the sandboxes: both sides are read, a plan is kept, and nothing is written anywhere."""

from __future__ import annotations

import pytest

from integrations.engine.preview import DryRunClient, dry_run_context, preview_run
from integrations.engine.runs import run_start
from integrations.models import (
    Conflict,
    InboundEvent,
    PlanAction,
    PlannedChange,
    PossibleMatch,
    RunState,
    SyncLink,
    SyncLogEntry,
    SyncRun,
)
from integrations.systems.catalog import Entity
from mappings.models import FieldMapping
from mappings.services import ConfigInvalid
from support.previews import current_rows, preview_start
from tests.harness import QUIET, make_pair
from tests.seeding import linked_organisations, rename_in_webcrm, webcrm_organisations, writes

ORG = Entity.ORGANISATION


@pytest.fixture
def pair(db, synkro, sandboxes):
    return make_pair("webcrm", "uniconta", sandboxes)


def preview(pair, previews: str, entity: str = "", config=None) -> SyncRun:
    run = preview_start(integration=pair.integration, previews=previews, entity=entity, config=config,
                        user=pair.integration.tenant.memberships.first().user)
    run = SyncRun.objects.select_related("integration").get(pk=run.pk)
    preview_run(run=run, client_options=QUIET)
    run.refresh_from_db()
    return run


def nothing_written(pair, *, links: int) -> None:
    assert writes(pair.crm) == 0 and writes(pair.erp) == 0
    assert SyncLink.objects.count() == links
    assert not SyncLogEntry.objects.exists() and not PossibleMatch.objects.exists()
    assert not Conflict.objects.exists() and not InboundEvent.objects.exists()


def test_an_activation_preview_over_a_thousand_records_reads_plans_and_writes_nothing(pair):
    linked = linked_organisations(pair, 700)
    for org, _debtor in linked[:50]:
        rename_in_webcrm(pair, org, f"{org['OrganisationName']} (omdøbt)")
    webcrm_organisations(pair, 250)
    webcrm_organisations(pair, 50, prefix="Emne", OrganisationType="Prospect")
    assert len(pair.crm.store.rows("Organisations")) == 1000
    pair.crm.clear_log(), pair.erp.clear_log()

    run = preview(pair, "activation")

    nothing_written(pair, links=700)
    assert pair.crm.count("GET") > 0 and pair.erp.count("GET") > 0  # both sides were read
    assert run.state == RunState.DONE and run.kind == "preview" and run.previews == "activation"
    assert run.plan == {"organisation": {"to_erp": {"create": 250, "update": 50, "skip": 50}}}
    assert (run.total, run.done) == (350, 350)  # the 650 linked and in step need nothing
    assert run.counts["writes_held_back"] >= 300  # every create and update was answered without being sent
    assert PlannedChange.objects.filter(run=run).count() == 350
    renamed = PlannedChange.objects.filter(run=run, action=PlanAction.UPDATE)
    assert renamed.count() == renamed.filter(identity=True).count() == 50
    sample = renamed.get(crm_id=str(linked[0][0]["OrganisationId"]))
    assert sample.changes["Name"] == ["Kunde 00000 ApS", "Kunde 00000 ApS (omdøbt)"]
    created = PlannedChange.objects.filter(run=run, action=PlanAction.CREATE).first()
    assert created.changes["Name"][0] is None and created.changes["Name"][1].startswith("Ny kunde")
    assert not PlannedChange.objects.filter(run=run, action=PlanAction.CREATE, identity=True).exists()


def test_a_reconciliation_preview_after_a_mapping_change_shows_before_and_after(pair):
    linked_organisations(pair, 6, OrganisationCustom1="Mette Holm")
    entity_sync = pair.sync("organisation")
    FieldMapping.objects.create(tenant=pair.integration.tenant, entity_sync=entity_sync, erp_field="ContactPerson",
                                crm_field="OrganisationCustom1", position=99)

    run = preview(pair, "reconcile", "organisation")

    nothing_written(pair, links=6)
    updates = PlannedChange.objects.filter(run=run, action=PlanAction.UPDATE, direction="to_erp")
    assert updates.count() == 6
    assert all(change.changes == {"ContactPerson": [None, "Mette Holm"]} for change in updates)
    assert not updates.filter(identity=True).exists()  # a contact person says nothing of who the debtor is
    debtor = next(iter(pair.erp.company().tables["DebtorClient"].rows.values()))
    assert debtor.get("ContactPerson") in (None, "")


def test_a_mapping_preview_plans_with_the_proposed_row_and_saves_nothing(pair):
    linked_organisations(pair, 4, OrganisationCustom1="Mette Holm")
    entity_sync = pair.sync("organisation")
    rows_before = current_rows(entity_sync=entity_sync)
    proposed = [*rows_before, {"erp_field": "ContactPerson", "crm_field": "OrganisationCustom1", "direction": "to_erp"}]

    run = preview(pair, "mapping", "organisation", config={"settings": {}, "rows": proposed})

    nothing_written(pair, links=4)
    assert current_rows(entity_sync=entity_sync) == rows_before
    assert run.cursor["config"]["rows"][-1]["erp_field"] == "ContactPerson"
    changes = PlannedChange.objects.filter(run=run, direction="to_erp", action=PlanAction.UPDATE)
    assert changes.count() == 4 and {c.changes["ContactPerson"][1] for c in changes} == {"Mette Holm"}
    # the same preview without the proposed row finds nothing to change
    plain = preview(pair, "mapping", "organisation", config={"settings": {}, "rows": rows_before})
    assert not PlannedChange.objects.filter(run=plain, action=PlanAction.UPDATE).exists()


def test_a_mapping_preview_of_a_direction_change_plans_the_proposed_direction(pair):
    webcrm_organisations(pair, 3)
    for name in ("Skovly Tømrer I/S", "Fjordens Fisk A/S"):
        pair.erp.company().insert("DebtorClient", {"Name": name, "City": "Odense C"})
    run = preview(pair, "mapping", "organisation", config={"settings": {"direction": "to_crm"}})
    assert run.plan == {"organisation": {"to_crm": {"create": 2}}}  # webCRM's own would no longer go over
    assert pair.sync("organisation").direction == "two_way"
    assert writes(pair.crm) == writes(pair.erp) == 0
    # checked like a save: the rows that only flow back would never be used one way to the ERP
    with pytest.raises(ConfigInvalid, match="would never be used"):
        preview(pair, "mapping", "organisation", config={"settings": {"direction": "to_erp"}})
    assert SyncRun.objects.filter(kind="preview").count() == 1


def test_the_dry_run_client_answers_writes_without_sending_them(pair):
    [(_org, debtor)] = linked_organisations(pair, 1)
    ctx = dry_run_context(pair.integration, "organisation", client_options=QUIET)
    client = ctx.erp.client
    assert isinstance(client, DryRunClient)
    created = client.create_record(ORG, {"Name": "Ny debitor"})
    assert created["Account"] == "new" and created["Name"] == "Ny debitor"
    updated = client.update_record(ORG, str(debtor["Account"]), {"City": "Kolding"})
    assert updated["City"] == "Kolding" and updated["Name"] == debtor["Name"]
    assert client.delete_record(ORG, str(debtor["Account"])) is None
    assert client.writes_swallowed == 3 and writes(pair.erp) == 0
    assert pair.erp.company().tables["DebtorClient"].rows[str(debtor["RowId"])]["City"] == "Vejle"
    assert [r["Name"] for r in client.create_records(ORG, [{"Name": "A"}, {"Name": "B"}])] == ["A", "B"]
    assert client.writes_swallowed == 5 and writes(pair.erp) == 0
    with pytest.raises(RuntimeError, match="writes nothing"):
        client.insert_rows("DebtorClient", [{"Name": "C"}])
    ctx.close()


def test_a_preview_run_is_counted_on_the_runs_it_belongs_to(pair):
    run = run_start(integration=pair.integration, kind="preview", entity="organisation")
    run.previews = "import"
    run.save()
    linked_organisations(pair, 2)
    assert preview_run(run=SyncRun.objects.get(pk=run.pk), client_options=QUIET) == 2
    run.refresh_from_db()
    assert run.plan == {"organisation": {"to_crm": {"unchanged": 2}}}  # in step: nothing to change
    assert not PlannedChange.objects.filter(run=run).exists()  # unchanged records are counted, not sampled


def test_a_long_preview_goes_on_in_slices_and_comes_to_the_same_plan(pair):
    from integrations.engine.preview import preview_unfinished

    linked = linked_organisations(pair, 12)
    for org, _debtor in linked[:4]:
        rename_in_webcrm(pair, org, f"{org['OrganisationName']} (omdøbt)")
    webcrm_organisations(pair, 5)
    run = preview_start(integration=pair.integration, previews="activation", entity="",
                        user=pair.integration.tenant.memberships.first().user)
    slices = 0
    while True:  # a slice of no time plans one record, then hands the rest on, as a slow vendor would make it
        slices += 1
        preview_run(run=SyncRun.objects.select_related("integration").get(pk=run.pk), client_options=QUIET,
                    slice_seconds=0)
        if not preview_unfinished(run.pk):
            break
        run.refresh_from_db()
        assert run.state == RunState.RUNNING and run.done == slices
    run.refresh_from_db()
    assert slices == 9 and run.state == RunState.DONE and (run.total, run.done) == (9, 9)
    assert run.plan == {"organisation": {"to_erp": {"create": 5, "update": 4}}}
    assert PlannedChange.objects.filter(run=run).count() == 9  # each record once in the sample
    nothing_written(pair, links=12)
