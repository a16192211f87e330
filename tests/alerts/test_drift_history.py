"""A safety reconciliation keeps its drift as history, and a webhook that drops every notice raises an alert."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from alerts.models import DriftRecord
from alerts.rules import AlertKind, alerts_firing
from alerts.selectors import webhook_miss_rates
from integrations.engine.runs import reconcile_entity, run_start
from integrations.models import Integration, SyncRun
from integrations.systems.catalog import Entity
from tests.harness import QUIET, drain, make_pair

ORG = Entity.ORGANISATION


@pytest.fixture
def pair(db, synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    pair.webcrm_hooks("Organisations")
    pair.erp.subscribe(pair.integration.webhook_url("uniconta"), table="Debtor")
    return pair


def reconcile(pair) -> tuple[SyncRun, int]:
    run = run_start(integration=pair.integration, kind="reconcile", entity=ORG)
    drift = reconcile_entity(run=run, client_options=QUIET)
    run.refresh_from_db()
    return run, drift


def test_each_reconciliation_keeps_its_drift_and_the_history_outlives_the_run(pair):
    pair.erp.knobs.webhook_drop_rate = 1.0  # Uniconta's webhook is dead: no notice reaches Synkro
    for n in range(3):
        pair.erp_client.create_record(ORG, {"Name": f"Debitor {n}", "City": "Vejle"})
    drain()
    run, drift = reconcile(pair)
    assert drift == 3
    [record] = DriftRecord.objects.filter(integration=pair.integration)
    assert (record.tenant_id, record.entity, record.run_pk) == (pair.integration.tenant_id, ORG, run.pk)
    assert record.drift == 3 and record.checked == run.cursor["listed"] == 3

    drain()  # the reconciliation's changes are synced: the next run finds nothing, and says so
    second, drift = reconcile(pair)
    assert drift == 0
    assert sorted(DriftRecord.objects.values_list("drift", "checked")) == [(0, 6), (3, 3)]

    SyncRun.objects.filter(pk__in=[run.pk, second.pk]).delete()
    assert DriftRecord.objects.filter(integration=pair.integration).count() == 2
    [row] = webhook_miss_rates(tenant=pair.integration.tenant, now=timezone.now())
    assert (row.total.drift, row.total.checked, row.total.percent) == (3, 9, 33.3)


def test_a_dead_webhook_whose_changes_the_reconciliation_finds_raises_the_silence_alert(pair):
    Integration.objects.filter(pk=pair.integration.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    pair.erp.knobs.webhook_drop_rate = 1.0
    pair.erp_client.create_record(ORG, {"Name": "Havbrise Byg", "City": "Vejle"})
    drain()
    tenant = pair.integration.tenant
    assert not [a for a in alerts_firing(tenant=tenant) if a.kind == AlertKind.WEBHOOK_SILENT]
    reconcile(pair)
    [alert] = [a for a in alerts_firing(tenant=tenant) if a.kind == AlertKind.WEBHOOK_SILENT]
    assert alert.sentence.startswith(f"Uniconta has never sent a notice to “{pair.integration.name}”, but the "
                                     f"reconciliation at ")
    assert alert.sentence.endswith("found 1 change webhooks had missed — its webhook is probably not working.")
