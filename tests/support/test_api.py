"""The support API: the log with the screen's filters and cursor pages, runs, conflicts, dead letters, replays."""

from __future__ import annotations

import pytest

from integrations.models import EventState, InboundEvent, RunKind, SyncLogEntry, SyncRun

pytestmark = pytest.mark.django_db


def base(world) -> str:
    return f"/api/v1/t/{world.tenant.slug}"


def test_the_log_filters_and_cursor_pages_through_the_api(api, world, log):
    SyncLogEntry.objects.all().delete()
    for n in range(7):
        log(minutes_ago=n, action="failed" if n % 2 else "updated", label=f"Kunde {n}", crm_id=f"c{n}")
    api.force_authenticate(world.customer)
    failed = api.get(f"{base(world)}/log-entries/", {"action": "failed"}).json()
    assert [e["label"] for e in failed["results"]] == ["Kunde 1", "Kunde 3", "Kunde 5"]
    assert [e["label"] for e in api.get(f"{base(world)}/log-entries/", {"record": "c4"}).json()["results"]] == [
        "Kunde 4"]
    assert len(api.get(f"{base(world)}/log-entries/", {"q": "kunde 6"}).json()["results"]) == 1
    assert api.get(f"{base(world)}/log-entries/", {"since": "not a date"}).status_code == 400

    from support.api import NewestFirst

    NewestFirst.page_size, size = 3, NewestFirst.page_size
    try:
        labels, page = [], api.get(f"{base(world)}/log-entries/").json()
        while True:
            labels.extend(e["label"] for e in page["results"])
            if not page["next"]:
                break
            page = api.get(page["next"]).json()
    finally:
        NewestFirst.page_size = size
    assert labels == [f"Kunde {n}" for n in range(7)]


def test_a_customer_reads_but_cannot_replay_or_start_runs(api, world):
    api.force_authenticate(world.customer)
    for path in ("log-entries", "runs", "conflicts", "dead-letters"):
        assert api.get(f"{base(world)}/{path}/").status_code == 200
    entry, event = world.rows.log_entry, world.rows.dead_letter
    assert api.post(f"{base(world)}/log-entries/{entry.pk}/replay/").status_code == 403
    assert api.post(f"{base(world)}/log-entries/replay/", {"entity": "organisation"}).status_code == 403
    assert api.post(f"{base(world)}/dead-letters/{event.pk}/replay/").status_code == 403
    assert api.post(f"{base(world)}/runs/", {"integration": world.integration.pk, "entity": "organisation",
                                             "kind": "import"}).status_code == 403
    assert InboundEvent.objects.get(pk=event.pk).state == EventState.FAILED


def test_support_replays_one_entry_and_by_filter(api, world, log):
    api.force_authenticate(world.support)
    answer = api.post(f"{base(world)}/log-entries/{world.rows.log_entry.pk}/replay/").json()
    assert answer["put_back"] == 1 and len(answer["runs"]) == 1
    assert InboundEvent.objects.get(pk=world.rows.dead_letter.pk).state == EventState.PENDING
    run = SyncRun.objects.get(pk=answer["runs"][0])
    assert run.kind == RunKind.REPLAY and run.started_by == world.support

    parked = [InboundEvent.objects.create(tenant=world.tenant, integration=world.integration, system="webcrm",
                                          entity=entity, action="updated", external_id=f"x{n}", state="failed")
              for n, entity in enumerate(["organisation", "person", "person"])]
    for event in parked:
        log(action="failed", entity=event.entity, event=event, crm_id=event.external_id)
    answer = api.post(f"{base(world)}/log-entries/replay/", {"entity": "person"}, format="json").json()
    assert answer["put_back"] == 2
    assert [InboundEvent.objects.get(pk=e.pk).state for e in parked] == ["failed", "pending", "pending"]
    assert api.post(f"{base(world)}/log-entries/replay/", {"since": "no"}, format="json").status_code == 400

    answer = api.post(f"{base(world)}/dead-letters/{parked[0].pk}/replay/").json()
    assert answer["put_back"] == 1


def test_support_starts_a_run_and_reads_its_progress(api, world, monkeypatch, django_capture_on_commit_callbacks):
    from integrations import tasks

    sent = []
    monkeypatch.setattr(tasks, "async_task", lambda func, *args, **kwargs: sent.append((func, args)))
    world.integration.entity_syncs.filter(entity="organisation").update(direction="to_crm")
    api.force_authenticate(world.support)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{base(world)}/runs/", {"integration": world.integration.pk, "entity": "organisation",
                                                     "kind": "import"}, format="json")
    run = response.json()
    assert response.status_code == 201 and ("integrations.tasks.run_task", (run["id"],)) in sent
    assert run["kind"] == "import" and run["state"] == "running" and run["started_by"] == "sofie-support"
    assert api.get(f"{base(world)}/runs/{run['id']}/").json()["id"] == run["id"]
    refused = api.post(f"{base(world)}/runs/", {"integration": world.other_integration.pk, "entity": "organisation",
                                                "kind": "import"}, format="json")
    assert refused.status_code == 400
    assert api.post(f"{base(world)}/runs/", {"integration": world.integration.pk, "entity": "organisation",
                                             "kind": "replay"}, format="json").status_code == 400


def test_rows_of_another_tenant_are_not_found(api, world):
    assert world.rows.log_entry.tenant != world.other_rows.log_entry.tenant
    api.force_authenticate(world.outsider)
    own = f"/api/v1/t/{world.other_tenant.slug}"
    assert api.get(f"{own}/log-entries/{world.rows.log_entry.pk}/").status_code == 404
    assert api.post(f"{own}/log-entries/{world.rows.log_entry.pk}/replay/").status_code == 404
    assert api.post(f"{own}/dead-letters/{world.rows.dead_letter.pk}/replay/").status_code == 404
    ids = {e["id"] for e in api.get(f"{own}/log-entries/").json()["results"]}
    assert world.rows.log_entry.pk not in ids and world.other_rows.log_entry.pk in ids
    answer = api.post(f"{own}/log-entries/replay/", {}, format="json").json()
    assert InboundEvent.objects.get(pk=world.rows.dead_letter.pk).state == EventState.FAILED
    assert answer["put_back"] == 1  # only their own dead letter


def test_the_support_endpoints_are_in_the_schema(api, world):
    api.force_authenticate(world.admin)
    paths = api.get("/api/schema/?format=json").json()["paths"]
    for path in ("log-entries/", "log-entries/{id}/", "log-entries/{id}/replay/", "log-entries/replay/", "runs/",
                 "runs/{id}/", "conflicts/", "dead-letters/", "dead-letters/{id}/replay/"):
        assert f"/api/v1/t/{{tenant_slug}}/{path}" in paths, path
    parameters = {p["name"] for p in paths["/api/v1/t/{tenant_slug}/log-entries/"]["get"]["parameters"]}
    assert {"integration", "entity", "action", "direction", "record", "since", "until", "q", "cursor"} <= parameters
