"""A restart of the demo (``demo_setup`` again, as every ``make run`` does) adds nothing and records nothing."""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.core.management import call_command

from integrations.models import Integration
from mappings.models import ConfigChange, EntitySync, WebhookToggle

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("tenants", "integrations", "mappings", "support")


def _row_counts() -> dict[str, int]:
    """Rows of every model of Synkro's own apps, by model label."""
    return {model._meta.label: model.objects.count() for model in apps.get_models()
            if model._meta.app_label in PROJECT_APPS and not model._meta.proxy}


def _setup() -> None:
    call_command("demo_setup", base_url="http://127.0.0.1:8000", stdout=io.StringIO())


def test_a_second_run_adds_no_audit_entry_and_no_row():
    _setup()
    first_audit = ConfigChange.objects.count()
    first_rows = _row_counts()
    assert first_audit > 0  # the first run does record what it configured

    _setup()
    _setup()

    assert ConfigChange.objects.count() == first_audit
    assert _row_counts() == first_rows


def test_a_run_that_restores_something_records_only_that():
    _setup()
    integration = Integration.objects.get(tenant__slug="demo", crm_connection__system="webcrm",
                                          erp_connection__system="uniconta")
    toggle = WebhookToggle.objects.filter(integration=integration).exclude(entity="item").order_by("pk").first()
    missing = f"{toggle.system} {toggle.entity} {toggle.action}"
    toggle.delete()
    EntitySync.objects.filter(integration=integration, entity="item").delete()
    before = set(ConfigChange.objects.values_list("pk", flat=True))

    _setup()

    new = ConfigChange.objects.exclude(pk__in=before)
    assert [(c.integration_id, c.subject) for c in new] == [(integration.pk, "Default configuration")]
    changes = new.get().changes
    assert changes["entities"] == [None, ["item"]]
    assert changes["webhook_toggles"] == [None, [missing]]
    assert EntitySync.objects.filter(integration=integration, entity="item").exists()


def test_a_new_integration_records_its_entities_once():
    _setup()
    integration = Integration.objects.get(tenant__slug="demo", crm_connection__system="customers1st")
    [entry] = ConfigChange.objects.filter(integration=integration, subject="Default configuration")
    assert sorted(entry.changes) == ["entities", "pos_settings"]
    assert set(entry.changes["entities"][1]) == set(
        EntitySync.objects.filter(integration=integration).values_list("entity", flat=True))


# -- the first start queues the initial imports; a restart queues nothing --------------------------------
def _queued_tasks() -> list:
    from django_q.models import OrmQ

    return sorted(task.task["func"] for task in OrmQ.objects.all())


def test_the_first_start_queues_the_initial_imports_once():
    from integrations.demo_imports import FIRST_IMPORT_ENTITIES, TASK
    from integrations.models import SyncRun

    _setup()
    runs = SyncRun.objects.filter(tenant__slug="demo")
    expected = {(i.name, e) for i in Integration.objects.filter(tenant__slug="demo", active=True)
                for e in FIRST_IMPORT_ENTITIES if i.entity_syncs.filter(entity=e).exclude(direction="off").exists()}
    assert {(run.integration.name, run.entity) for run in runs} == expected
    assert {("webCRM ↔ Uniconta", "organisation"), ("Customers 1st ↔ Uniconta", "item")} <= expected
    assert {(run.kind, run.state, run.done) for run in runs} == {("import", "running", 0)}
    queued = _queued_tasks()
    assert queued.count(TASK) == 1
    first_rows = _row_counts()

    _setup()
    _setup()

    assert _row_counts() == first_rows and _queued_tasks() == queued  # no run, no task, no audit entry added


def test_the_former_empty_second_tenant_goes_and_a_used_one_stays():
    from tenants.models import Tenant
    from tests.factories import ConnectionFactory

    Tenant.objects.create(slug="demo-sverige", name="Fjällvind AB (demo)")
    _setup()
    assert list(Tenant.objects.values_list("slug", flat=True)) == ["demo"]

    used = Tenant.objects.create(slug="demo-sverige", name="Fjällvind AB (demo)")
    ConnectionFactory(tenant=used)
    _setup()
    assert sorted(Tenant.objects.values_list("slug", flat=True)) == ["demo", "demo-sverige"]
