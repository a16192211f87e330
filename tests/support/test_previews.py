"""Preview screens and API: who may start and decide, the plan page, held runs on the runs page, guard settings."""

from __future__ import annotations

import pytest

from integrations.models import (
    PlanAction,
    PlannedChange,
    RunKind,
    RunState,
    SyncRun,
)
from mappings.models import FieldMapping

from .conftest import url

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """Tasks handed to the workers (recorded instead of queued)."""
    from integrations import tasks

    handed = []
    monkeypatch.setattr(tasks, "async_task", lambda func, *args, **kwargs: handed.append((func, args)))
    return handed


@pytest.fixture
def held(world):
    """A reconciliation held by the guard, with three planned renames and one planned create."""
    run = SyncRun.objects.create(tenant=world.tenant, integration=world.integration, kind=RunKind.RECONCILE,
                                 entity="organisation", state=RunState.HELD,
                                 guard={"identity": 34, "linked": 120, "limit": 20, "tripped": True},
                                 plan={"organisation": {"to_erp": {"update": 3, "create": 1}}})
    for n in range(3):
        PlannedChange.objects.create(tenant=world.tenant, run=run, entity="organisation", direction="to_erp",
                                     action=PlanAction.UPDATE, crm_id=str(10 + n), erp_id=str(20 + n),
                                     label=f"Havbrise {n}", identity=True,
                                     changes={"Name": [f"Havbrise {n}", f"Havbrise Byg {n}"]})
    PlannedChange.objects.create(tenant=world.tenant, run=run, entity="organisation", direction="to_erp",
                                 action=PlanAction.CREATE, crm_id="99", label="Skovly",
                                 changes={"Name": [None, "Skovly"]})
    return run


def api_base(world) -> str:
    return f"/api/v1/t/{world.tenant.slug}"


# -- starting previews -----------------------------------------------------------------------------------

def test_an_admin_starts_a_preview_from_the_runs_page_and_lands_on_its_plan(client, world, sent,
                                                                            django_capture_on_commit_callbacks):
    client.force_login(world.admin)
    page = client.get(url("run-list", world)).content.decode()
    assert "Preview reconciliation" in page and url("preview-start", world) in page and "guard_off" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("preview-start", world), {"integration": world.integration.pk,
                                                              "entity": "organisation", "previews": "reconcile"})
    run = SyncRun.objects.get(kind=RunKind.PREVIEW)
    assert response.status_code == 302 and response.url == url("run-plan", world, run.pk)
    assert (run.previews, run.entity, run.started_by) == ("reconcile", "organisation", world.admin)
    assert ("integrations.tasks.run_task", (run.pk,)) in sent


def test_a_preview_of_documents_is_refused_in_words(client, world):
    client.force_login(world.admin)
    response = client.post(url("preview-start", world), {"integration": world.integration.pk, "entity": "delivery",
                                                          "previews": "import"}, follow=True)
    assert "Previews cover organisations, persons, items and users" in response.content.decode()
    assert not SyncRun.objects.filter(kind=RunKind.PREVIEW).exists()


def test_the_integration_page_offers_an_activation_preview_to_admins(client, world):
    client.force_login(world.admin)
    detail = client.get(url("integration-detail", world, world.integration.pk)).content.decode()
    assert 'id="preview-activation"' in detail and 'value="activation"' in detail
    world.integration.active = False
    world.integration.save()
    form = client.get(url("integration-edit", world, world.integration.pk)).content.decode()
    assert 'id="preview-activation"' in form  # paused: the activation form links to its preview
    response = client.post(url("preview-start", world), {"integration": world.integration.pk,
                                                          "previews": "activation"})
    run = SyncRun.objects.get(kind=RunKind.PREVIEW)
    assert response.status_code == 302 and run.previews == "activation" and run.entity == ""
    client.force_login(world.support)
    assert 'id="preview-activation"' not in client.get(url("integration-detail", world,
                                                           world.integration.pk)).content.decode()


def test_support_may_read_plans_but_not_start_previews_or_decide(client, world, held):
    client.force_login(world.support)
    assert client.post(url("preview-start", world), {"integration": world.integration.pk,
                                                      "previews": "activation"}).status_code == 403
    assert client.post(url("run-confirm", world, held.pk)).status_code == 403
    assert client.post(url("run-cancel", world, held.pk)).status_code == 403
    assert client.post(url("entity-settings-preview", world, world.integration.pk, "organisation"),
                       {"preview": "settings", "direction": "to_erp"}).status_code == 403
    assert client.post(url("run-start", world), {"integration": world.integration.pk, "entity": "organisation",
                                                  "kind": "reconcile", "guard_off": "on"}).status_code == 403
    assert client.get(url("run-plan", world, held.pk)).status_code == 200
    held.refresh_from_db()
    assert held.state == RunState.HELD and not SyncRun.objects.filter(kind=RunKind.PREVIEW).exists()


def test_strangers_get_404_for_plans_and_decisions(client, world, held):
    client.force_login(world.outsider)
    assert client.get(url("run-plan", world, held.pk)).status_code == 404
    assert client.post(url("run-confirm", world, held.pk)).status_code == 404
    other = f"/t/{world.other_tenant.slug}/runs/{held.pk}/"
    assert client.get(other + "plan/").status_code == 404
    assert client.post(other + "confirm/").status_code == 404
    held.refresh_from_db()
    assert held.state == RunState.HELD


# -- held runs ---------------------------------------------------------------------------------------

def test_a_held_run_waits_on_the_runs_page_with_the_guards_figures_in_words(client, world, held):
    client.force_login(world.admin)
    page = client.get(url("run-list", world)).content.decode()
    row = page[page.index(f'id="run-{held.pk}"'):]
    row = row[:row.index("</tr>")]
    assert "Waiting for confirmation" in row
    assert "Would rewrite names or numbers of 34 of 120 linked organisations; the guard allows 20." in row
    assert url("run-plan", world, held.pk) in row and url("run-confirm", world, held.pk) in row
    assert url("run-cancel", world, held.pk) in row and "hx-trigger" not in row
    client.force_login(world.support)
    page = client.get(url("run-list", world)).content.decode()
    assert "34 of 120 linked organisations" in page and url("run-confirm", world, held.pk) not in page


def test_an_admin_confirms_a_held_run_and_it_goes_to_the_workers(client, world, held, sent,
                                                                 django_capture_on_commit_callbacks):
    client.force_login(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url("run-confirm", world, held.pk)).status_code == 302
    held.refresh_from_db()
    assert held.state == RunState.RUNNING and held.confirmed_by == world.admin and held.confirmed_at is not None
    assert ("integrations.tasks.run_task", (held.pk,)) in sent
    again = client.post(url("run-confirm", world, held.pk), follow=True).content.decode()
    assert "not waiting for confirmation" in again


def test_an_admin_cancels_a_held_run(client, world, held, sent, django_capture_on_commit_callbacks):
    client.force_login(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url("run-cancel", world, held.pk)).status_code == 302
    held.refresh_from_db()
    assert held.state == RunState.DONE and held.error == "Cancelled by anna-admin." and held.finished_at
    assert sent == []


# -- the plan page -------------------------------------------------------------------------------------

def test_the_plan_page_shows_counts_and_changes_before_and_after(client, world, held):
    client.force_login(world.customer)
    page = client.get(url("run-plan", world, held.pk)).content.decode()
    counts = page[page.index('id="plan-counts"'):]
    counts = counts[:counts.index("</table>")]
    assert "Organisations" in counts and "<td class=\"num\">3</td>" in counts and "<td class=\"num\">4</td>" in counts
    assert "Havbrise 0 → Havbrise Byg 0" in page and "(empty) → Skovly" in page
    assert "34 of 120 linked organisations" in page and url("run-confirm", world, held.pk) not in page
    only_created = client.get(url("run-plan", world, held.pk), {"action": "create"}).content.decode()
    assert "Skovly" in only_created and "Havbrise Byg 0" not in only_created
    assert client.get(url("run-plan", world, held.pk), {"action": "everything"}).status_code == 400
    assert client.get(url("run-plan", world, held.pk), {"after": "x"}).status_code == 400


def test_the_plan_is_paged_by_key(client, world, held, monkeypatch):
    from support import preview_selectors

    monkeypatch.setattr(preview_selectors, "PLAN_PAGE_SIZE", 2)
    client.force_login(world.admin)
    first = client.get(url("run-plan", world, held.pk)).content.decode()
    assert "Havbrise Byg 0" in first and "Havbrise Byg 1" in first and "Havbrise Byg 2" not in first
    second_pk = PlannedChange.objects.filter(run=held).order_by("pk")[1].pk
    assert f"after={second_pk}" in first
    second = client.get(url("run-plan", world, held.pk), {"after": second_pk}).content.decode()
    assert "Havbrise Byg 2" in second and "Skovly" in second and "Havbrise Byg 0" not in second


def test_a_running_preview_shows_live_progress(client, world):
    run = SyncRun.objects.create(tenant=world.tenant, integration=world.integration, kind=RunKind.PREVIEW,
                                 previews="activation", total=200, done=50)
    client.force_login(world.support)
    page = client.get(url("run-plan", world, run.pk)).content.decode()
    assert 'hx-trigger="every 2s"' in page and "50 of 200 records planned" in page
    partial = client.get(url("run-plan", world, run.pk), {"progress": "1"}, HTTP_HX_REQUEST="true")
    assert partial.content.decode().startswith('<div id="plan-progress"') and "HX-Refresh" not in partial
    SyncRun.objects.filter(pk=run.pk).update(state=RunState.DONE, done=200)
    finished = client.get(url("run-plan", world, run.pk), {"progress": "1"}, HTTP_HX_REQUEST="true")
    assert finished["HX-Refresh"] == "true" and "hx-trigger" not in finished.content.decode()


# -- previewing a settings change ----------------------------------------------------------------------

def test_preview_this_change_validates_like_a_save_and_saves_nothing(client, world, sent,
                                                                     django_capture_on_commit_callbacks):
    client.force_login(world.admin)
    entity_sync = world.integration.entity_syncs.get(entity="organisation")
    entity_sync.direction = "two_way"
    entity_sync.save()
    settings_url = url("entity-settings", world, world.integration.pk, "organisation")
    preview_url = url("entity-settings-preview", world, world.integration.pk, "organisation")
    assert preview_url in client.get(settings_url).content.decode()
    rows_before = list(FieldMapping.objects.filter(entity_sync=entity_sync).values_list("pk", "erp_field"))

    broken = client.post(preview_url, {"preview": "settings", "direction": "two_way", "conflict_owner": "newest",
                                       "trigger_field": "type", "trigger_values": "", "number_authority": "erp"})
    assert broken.status_code == 400 and "Choose at least one Type value" in broken.content.decode()
    assert not SyncRun.objects.filter(kind=RunKind.PREVIEW).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(preview_url, {"preview": "settings", "direction": "two_way",
                                             "conflict_owner": "erp", "trigger_field": "type",
                                             "trigger_values": "Kunde, Kund – Privat", "number_authority": "erp"})
    run = SyncRun.objects.get(kind=RunKind.PREVIEW)
    assert response.status_code == 302 and response.url == url("run-plan", world, run.pk)
    assert run.previews == "mapping" and run.entity == "organisation"
    assert run.cursor["config"]["settings"]["trigger_values"] == ["Kunde", "Kund – Privat"]
    assert run.cursor["config"]["settings"]["conflict_owner"] == "erp"
    entity_sync.refresh_from_db()
    assert entity_sync.conflict_owner != "erp" and entity_sync.trigger_values != ["Kunde", "Kund – Privat"]
    assert list(FieldMapping.objects.filter(entity_sync=entity_sync).values_list("pk", "erp_field")) == rows_before
    assert ("integrations.tasks.run_task", (run.pk,)) in sent


def test_preview_with_this_row_proposes_the_row_without_adding_it(client, world):
    client.force_login(world.admin)
    entity_sync = world.integration.entity_syncs.get(entity="organisation")
    rows_before = FieldMapping.objects.filter(entity_sync=entity_sync).count()
    erp_field = "ContactPerson" if world.integration.erp_connection.system == "uniconta" else None
    crm_field = "OrganisationCustom1"
    spec = world.integration.erp_connection.provider.catalog().entity("organisation")
    erp_field = erp_field or next(f.name for f in spec.fields if f.type in ("string", "text") and not f.read_only
                                  and not FieldMapping.objects.filter(entity_sync=entity_sync,
                                                                      erp_field=f.name).exists())
    preview_url = url("entity-settings-preview", world, world.integration.pk, "organisation")
    response = client.post(preview_url, {"preview": "row", "erp_field": erp_field, "crm_field": crm_field,
                                         "direction": "to_erp"}, HTTP_HX_REQUEST="true")
    run = SyncRun.objects.get(kind=RunKind.PREVIEW)
    assert response.status_code == 204 and response["HX-Redirect"] == url("run-plan", world, run.pk)
    assert run.cursor["config"]["rows"][-1] == {"erp_field": erp_field, "crm_field": crm_field,
                                                "direction": "to_erp", "value_map": {}, "required": False,
                                                "conflict_owner": "", "overflow": "shorten"}
    assert len(run.cursor["config"]["rows"]) == rows_before + 1
    assert FieldMapping.objects.filter(entity_sync=entity_sync).count() == rows_before
    missing = client.post(preview_url, {"preview": "row", "crm_field": crm_field}, HTTP_HX_REQUEST="true")
    assert missing.status_code == 400 and 'id="mapping-table"' in missing.content.decode()


# -- the guard's settings ---------------------------------------------------------------------------

def test_admins_set_the_guard_on_the_integration_form_within_bounds(client, world):
    client.force_login(world.admin)
    edit = url("integration-edit", world, world.integration.pk)
    base = {"name": world.integration.name, "crm_connection": world.integration.crm_connection_id,
            "erp_connection": world.integration.erp_connection_id, "active": ""}
    for share, minimum in (("0", "20"), ("101", "20"), ("5", "0")):
        response = client.post(edit, {**base, "guard_share": share, "guard_minimum": minimum})
        assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert client.post(edit, {**base, "guard_share": "12", "guard_minimum": "3"}).status_code == 302
    world.integration.refresh_from_db()
    assert (world.integration.guard_share, world.integration.guard_minimum) == (12, 3)
    assert client.post(edit, base).status_code == 302  # left empty: kept
    world.integration.refresh_from_db()
    assert (world.integration.guard_share, world.integration.guard_minimum) == (12, 3)


def test_the_guard_settings_through_the_api(api, world):
    api.force_authenticate(world.admin)
    detail = f"{api_base(world)}/integrations/{world.integration.pk}/"
    assert api.get(detail).json()["guard_share"] == 5
    assert api.patch(detail, {"guard_share": 0}, format="json").status_code == 400
    assert api.patch(detail, {"guard_share": 101}, format="json").status_code == 400
    assert api.patch(detail, {"guard_minimum": 0}, format="json").status_code == 400
    answer = api.patch(detail, {"guard_share": 10, "guard_minimum": 50}, format="json")
    assert answer.status_code == 200 and (answer.json()["guard_share"], answer.json()["guard_minimum"]) == (10, 50)
    api.force_authenticate(world.support)
    assert api.patch(detail, {"guard_share": 50}, format="json").status_code == 403


# -- the API -----------------------------------------------------------------------------------------

def test_the_api_starts_previews_for_admins_only(api, world, sent, django_capture_on_commit_callbacks):
    start = f"{api_base(world)}/runs/preview/"
    body = {"integration": world.integration.pk, "previews": "reconcile", "entity": "organisation"}
    api.force_authenticate(world.support)
    assert api.post(start, body, format="json").status_code == 403
    api.force_authenticate(world.outsider)
    assert api.post(start, body, format="json").status_code == 404
    api.force_authenticate(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(start, body, format="json")
    run = response.json()
    assert response.status_code == 201 and run["kind"] == "preview" and run["previews"] == "reconcile"
    assert ("integrations.tasks.run_task", (run["id"],)) in sent
    assert api.post(start, {**body, "previews": "everything"}, format="json").status_code == 400
    assert api.post(start, {**body, "integration": world.other_integration.pk}, format="json").status_code == 400
    assert api.post(start, {**body, "config": {"settings": {}}}, format="json").status_code == 400


def test_the_api_previews_a_proposed_configuration_checked_like_a_save(api, world):
    api.force_authenticate(world.admin)
    start = f"{api_base(world)}/runs/preview/"
    body = {"integration": world.integration.pk, "previews": "mapping", "entity": "organisation"}
    bad = api.post(start, {**body, "config": {"settings": {"trigger_field": "type", "trigger_values": []}}},
                   format="json")
    assert bad.status_code == 400 and "trigger_values" in bad.json()
    unknown = api.post(start, {**body, "config": {"rows": [{"erp_field": "NoSuchField", "crm_field": "X"}]}},
                       format="json")
    assert unknown.status_code == 400 and "erp_field" in unknown.json()
    assert api.post(start, {**body, "config": {"settings": {"direction": "sideways"}}},
                    format="json").status_code == 400
    good = api.post(start, {**body, "config": {"settings": {"conflict_owner": "erp"}}}, format="json")
    assert good.status_code == 201
    run = SyncRun.objects.get(pk=good.json()["id"])
    assert run.cursor["config"]["settings"] == {"conflict_owner": "erp"}
    assert len(run.cursor["config"]["rows"]) == FieldMapping.objects.filter(
        entity_sync__integration=world.integration, entity_sync__entity="organisation").count()


def test_the_api_reads_a_held_run_its_plan_and_lets_admins_decide(api, world, held, sent,
                                                                  django_capture_on_commit_callbacks):
    api.force_authenticate(world.support)
    run = api.get(f"{api_base(world)}/runs/{held.pk}/").json()
    assert run["state"] == "held" and run["guard"]["tripped"] and run["plan"]["organisation"]["to_erp"]["update"] == 3
    changes = api.get(f"{api_base(world)}/runs/{held.pk}/planned-changes/").json()["results"]
    assert [c["label"] for c in changes] == ["Havbrise 0", "Havbrise 1", "Havbrise 2", "Skovly"]
    assert changes[0]["changes"] == {"Name": ["Havbrise 0", "Havbrise Byg 0"]} and changes[0]["identity"]
    created = api.get(f"{api_base(world)}/runs/{held.pk}/planned-changes/", {"action": "create"}).json()
    assert [c["label"] for c in created["results"]] == ["Skovly"]
    assert api.get(f"{api_base(world)}/runs/{held.pk}/planned-changes/", {"action": "x"}).status_code == 400
    assert api.post(f"{api_base(world)}/runs/{held.pk}/confirm/").status_code == 403
    assert api.post(f"{api_base(world)}/runs/", {"integration": world.integration.pk, "entity": "organisation",
                                                 "kind": "reconcile", "guard_off": True},
                    format="json").status_code == 403
    api.force_authenticate(world.outsider)
    assert api.get(f"{api_base(world)}/runs/{held.pk}/planned-changes/").status_code == 404
    assert api.post(f"{api_base(world)}/runs/{held.pk}/cancel/").status_code == 404

    api.force_authenticate(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = api.post(f"{api_base(world)}/runs/{held.pk}/confirm/")
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "running"
    assert confirmed.json()["confirmed_by"] == "anna-admin" and ("integrations.tasks.run_task", (held.pk,)) in sent
    assert api.post(f"{api_base(world)}/runs/{held.pk}/cancel/").status_code == 400  # no longer held


def test_the_api_cancels_a_held_run(api, world, held):
    api.force_authenticate(world.admin)
    cancelled = api.post(f"{api_base(world)}/runs/{held.pk}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "done"
    assert cancelled.json()["error"] == "Cancelled by anna-admin."


def test_an_admin_may_start_a_run_with_the_guard_off(api, world, sent, django_capture_on_commit_callbacks):
    world.integration.entity_syncs.filter(entity="organisation").update(direction="two_way")
    api.force_authenticate(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{api_base(world)}/runs/", {"integration": world.integration.pk, "entity": "organisation",
                                                         "kind": "reconcile", "guard_off": True}, format="json")
    assert response.status_code == 201 and response.json()["guard_off"] is True
    assert SyncRun.objects.get(pk=response.json()["id"]).guard_off
