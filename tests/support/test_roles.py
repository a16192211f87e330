"""Who may do what on the support screens: customers read, support replays and starts runs, nobody else's tenant."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import EventState, InboundEvent, RunKind, SyncRun

from .conftest import url

pytestmark = pytest.mark.django_db

READ_PAGES = ["log-list", "dead-letter-list", "run-list", "conflict-list"]


def test_every_member_reads_the_log_runs_and_conflicts(client, world):
    for user in (world.admin, world.customer, world.support):
        client.force_login(user)
        for name in READ_PAGES:
            assert client.get(url(name, world)).status_code == 200, (user, name)
        assert client.get(url("log-detail", world, world.rows.log_entry.pk)).status_code == 200
        assert client.get(url("run-row", world, world.rows.run.pk)).status_code == 200
        assert client.get(url("webhook-health", world, world.integration.pk)).status_code == 200


def test_a_customer_can_neither_replay_nor_start_runs(client, world):
    client.force_login(world.customer)
    entry, event = world.rows.log_entry, world.rows.dead_letter
    assert client.post(url("log-entry-replay", world, entry.pk)).status_code == 403
    assert client.post(url("log-replay-matching", world)).status_code == 403
    assert client.post(url("dead-letter-replay", world, event.pk)).status_code == 403
    assert client.post(url("dead-letters-replay-all", world)).status_code == 403
    assert client.post(url("run-start", world), {"integration": world.integration.pk, "entity": "organisation",
                                                 "kind": "reconcile"}).status_code == 403
    assert client.get(url("queue", world)).status_code == 403
    assert InboundEvent.objects.get(pk=event.pk).state == EventState.FAILED
    assert not SyncRun.objects.filter(kind__in=[RunKind.REPLAY, RunKind.RECONCILE]).exists()
    page = client.get(url("run-list", world)).content.decode()
    assert 'id="run-start"' not in page


@pytest.mark.parametrize("role", ["support", "admin"])
def test_support_and_admins_replay_and_start_runs(client, world, role, monkeypatch,
                                                  django_capture_on_commit_callbacks):
    from integrations import tasks

    sent = []
    monkeypatch.setattr(tasks, "async_task", lambda func, *args, **kwargs: sent.append((func, args)))
    client.force_login(getattr(world, role))
    event = world.rows.dead_letter
    assert client.post(url("log-entry-replay", world, world.rows.log_entry.pk)).status_code == 302
    assert InboundEvent.objects.get(pk=event.pk).state == EventState.PENDING
    world.integration.entity_syncs.filter(entity="organisation").update(direction="two_way")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("run-start", world), {"integration": world.integration.pk,
                                                          "entity": "organisation", "kind": "reconcile"})
    assert response.status_code == 302
    run = SyncRun.objects.get(kind=RunKind.RECONCILE)
    assert run.started_by == getattr(world, role) and run.tenant == world.tenant
    assert ("integrations.tasks.run_task", (run.pk,)) in sent  # the run is handed to the workers
    assert client.get(url("queue", world)).status_code == 200


def test_a_run_of_an_entity_that_is_switched_off_is_refused_in_words(client, world):
    client.force_login(world.support)
    world.integration.entity_syncs.filter(entity="item").update(direction="off")
    response = client.post(url("run-start", world), {"integration": world.integration.pk, "entity": "item",
                                                      "kind": "import"}, follow=True)
    assert "switch it on" in response.content.decode()
    assert not SyncRun.objects.filter(kind=RunKind.IMPORT, entity="item").exists()


def test_an_integration_of_another_tenant_cannot_be_started(client, world):
    client.force_login(world.support)
    client.post(url("run-start", world), {"integration": world.other_integration.pk, "entity": "organisation",
                                          "kind": "reconcile"})
    assert not SyncRun.objects.filter(integration=world.other_integration, kind=RunKind.RECONCILE).exists()


def test_support_changes_no_configuration(client, world):
    client.force_login(world.support)
    integration, toggle = world.integration, world.rows.toggle
    slug = world.tenant.slug
    assert client.post(reverse("entity-settings", args=[slug, integration.pk, "organisation"]),
                       {"direction": "off"}).status_code == 403
    assert client.post(reverse("webhook-toggle", args=[slug, integration.pk, toggle.pk]),
                       {"enabled": "on"}).status_code == 403
    assert client.post(reverse("webhook-register", args=[slug, integration.pk])).status_code == 403
    assert client.post(reverse("integration-edit", args=[slug, integration.pk]), {}).status_code == 403


def test_strangers_get_404_on_every_support_page(client, world):
    client.force_login(world.outsider)
    for name in [*READ_PAGES, "queue"]:
        assert client.get(url(name, world)).status_code == 404
    assert client.post(url("log-entry-replay", world, world.rows.log_entry.pk)).status_code == 404
    # Inside their own tenant, this tenant's rows do not exist either.
    own = world.other_tenant.slug
    assert client.get(reverse("log-detail", args=[own, world.rows.log_entry.pk])).status_code == 404
    assert client.post(reverse("log-entry-replay", args=[own, world.rows.log_entry.pk])).status_code == 404
    assert client.post(reverse("dead-letter-replay", args=[own, world.rows.dead_letter.pk])).status_code == 404
    assert InboundEvent.objects.get(pk=world.rows.dead_letter.pk).state == EventState.FAILED


def test_the_queue_shows_failed_tasks_to_platform_staff_only(client, world, user_factory):
    from django.utils import timezone
    from django_q.models import Failure

    Failure.objects.create(id="a" * 32, name="task-one", func="integrations.tasks.event_process_task",
                           args=("secret-of-another-tenant",), started=timezone.now(), stopped=timezone.now(),
                           success=False, result="Traceback: boom")
    client.force_login(world.support)
    body = client.get(url("queue", world)).content.decode()
    assert "Tasks waiting for a worker" in body and "event_process_task" not in body
    staff = user_factory(username="platform", is_staff=True)
    client.force_login(staff)
    body = client.get(url("queue", world)).content.decode()
    assert "event_process_task" in body and "Traceback: boom" in body
    assert "secret-of-another-tenant" not in body  # never a task's arguments
