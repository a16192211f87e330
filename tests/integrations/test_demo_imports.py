"""The demo's first imports start once the sandboxes answer, and show progress as their events are processed."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from integrations.demo_imports import demo_first_imports_task
from integrations.engine.runs import run_progress
from integrations.models import RunState, SyncLogEntry, SyncRun
from integrations.systems import transport
from integrations.systems.catalog import Entity
from integrations.tasks import run_task
from tests.harness import BASES, QUIET, drain

pytestmark = pytest.mark.django_db

DEMO_URL = "http://demo.test"


@pytest.fixture
def demo(sandboxes):
    """The demo tenant wired to fresh sandboxes at ``DEMO_URL/sandbox/<system>``, with a few Uniconta debtors."""
    from werkzeug.exceptions import NotFound
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    # As the web server mounts them: under /sandbox/<system>/, each seeing its own paths.
    transport.mount(DEMO_URL, DispatcherMiddleware(NotFound(), {f"/sandbox/{key}": app
                                                                for key, app in sandboxes.items()}))
    try:
        uniconta = transport_client("uniconta")
        for number, name in (("20001", "Havbrise Byg ApS"), ("20002", "Skovly Trælast A/S")):
            uniconta.create_record(Entity.ORGANISATION, {"Account": number, "Name": name, "City": "Odense"})
        uniconta.create_record(Entity.ITEM, {"Item": "SKRUE-550", "Name": "Skruer 5x50"})
        call_command("demo_setup", base_url=DEMO_URL, stdout=io.StringIO())
        yield sandboxes
    finally:
        transport.unmount(DEMO_URL)


def transport_client(key: str):
    from integrations.systems.registry import get_system

    provider = get_system(key)
    return provider.client(base_url=BASES[key], credentials=provider.demo_credentials, **QUIET)


def test_the_first_imports_run_once_the_sandboxes_answer(demo, django_capture_on_commit_callbacks):
    runs = list(SyncRun.objects.filter(tenant__slug="demo").order_by("pk"))
    assert runs and all(run.state == RunState.RUNNING for run in runs)

    with django_capture_on_commit_callbacks() as enqueued:
        started = demo_first_imports_task([run.pk for run in runs], sleep=lambda seconds: None)
    assert started == len(runs) == len(enqueued)  # each run handed to the workers, as "Start" does

    for run in runs:
        run_task(run.pk)
    drain()
    organisations = SyncRun.objects.get(integration__name="webCRM ↔ Uniconta", entity="organisation")
    assert run_progress(organisations).state == RunState.DONE and organisations.total == 2
    created = SyncLogEntry.objects.filter(integration=organisations.integration, entity="organisation",
                                          action="created")
    assert sorted(created.values_list("label", flat=True)) == ["Havbrise Byg ApS", "Skovly Trælast A/S"]


def test_sandboxes_that_never_answer_finish_the_runs_with_the_reason(demo):
    runs = list(SyncRun.objects.filter(tenant__slug="demo"))
    for sandbox in demo.values():
        sandbox.knobs.error_rate = 1.0  # every call a 5xx: nothing is known yet

    assert demo_first_imports_task([run.pk for run in runs], sleep=lambda seconds: None, wait_seconds=0) == 0

    for run in SyncRun.objects.filter(pk__in=[run.pk for run in runs]):
        assert run.state == RunState.FAILED
        assert run.error.startswith("The demo's first import did not start:")
        assert run.error.endswith("Start it again under Runs.")


def test_the_dashboard_and_the_runs_screen_show_the_first_imports(client):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    call_command("demo_setup", base_url=DEMO_URL, stdout=io.StringIO())
    runs = SyncRun.objects.filter(tenant__slug="demo")
    client.force_login(get_user_model().objects.get(username="demo-support"))
    home = client.get(reverse("tenant-home", args=["demo"])).content.decode()
    assert f"{runs.count()} runs in progress" in home
    assert "Initial import of organisations / debtors — webCRM ↔ Uniconta" in home
    listed = client.get(reverse("run-list", args=["demo"])).content.decode()
    assert all(f'data-run="{run.pk}"' in listed for run in runs)
