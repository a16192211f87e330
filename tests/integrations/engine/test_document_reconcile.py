"""Deliveries and their sales orders after a reconciliation: drift only where something really differs."""

from __future__ import annotations

import pytest

from integrations.engine.runs import reconcile_entity, run_start
from integrations.models import EventSource, InboundEvent, RunState
from tests.harness import QUIET, drain

from . import test_sync_documents as documents
from .test_sync_documents import DELIVERY, new_delivery, orders

pair = documents.pair  # the webCRM ↔ Uniconta pair with items and an organisation


def reconcile(pair):
    run = run_start(integration=pair.integration, kind="reconcile", entity="delivery")
    drift = reconcile_entity(run=run, client_options=QUIET)
    run.refresh_from_db()
    assert run.state == (RunState.RUNNING if drift else RunState.DONE), run.error
    return drift


@pytest.mark.django_db
def test_synced_deliveries_are_no_drift_twice_in_a_row(pair):
    for n in range(3):
        new_delivery(pair, DeliveryDescription=f"Tilbud {n}")
    drain()
    assert len(orders(pair)) == 3
    InboundEvent.objects.all().delete()

    assert (reconcile(pair), reconcile(pair)) == (0, 0)
    assert not InboundEvent.objects.filter(source=EventSource.RECONCILE).exists()


@pytest.mark.django_db
def test_an_order_changed_without_notice_is_drift_once(pair):
    new_delivery(pair)
    drain()
    [order] = orders(pair)
    with pair.erp.lock:
        company = pair.erp.company("1234")
        row = next(r for r in company.rows("DebtorOrderClient") if r["OrderNumber"] == order["OrderNumber"])
        row["YourRef"] = "Changed quietly"
    InboundEvent.objects.all().delete()
    assert reconcile(pair) == 1
    drain()
    assert reconcile(pair) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("direction", ["to_erp", "two_way"])
def test_changed_and_many_line_deliveries_settle(pair, direction):
    from mappings.models import EntitySync

    from .test_sync_documents import LINES
    EntitySync.objects.filter(integration=pair.integration, entity="delivery").update(direction=direction)
    lines = [dict(LINES[n % 2], QuotationLineSortOrder=n + 1) for n in range(5)]
    made = [new_delivery(pair, DeliveryDescription=f"Ordre {n}", lines=lines) for n in range(3)]
    drain()
    pair.crm_client.update_record(DELIVERY, str(made[0]["DeliveryId"]), {"lines": lines[:3]})
    drain()
    InboundEvent.objects.all().delete()
    assert (reconcile(pair), reconcile(pair)) == (0, 0)
