"""A sales order whose lines never arrived (or arrived in part) is finished, never left short.

Uniconta makes an order in two calls: the header, then its lines (``InsertList``). When the second call fails —
a 5xx before it was applied, or an answer lost after it was — the retry finds the order by Synkro's key and must
bring its lines to the delivery's: all of them, once each.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from integrations.models import EventState, InboundEvent
from integrations.systems.errors import TransientError
from integrations.systems.uniconta.client import UnicontaClient
from tests.harness import drain

from . import test_sync_documents as documents
from .test_crash_between_writes import stop_once
from .test_sync_documents import LINES, new_delivery, orders

pair = documents.pair  # the webCRM ↔ Uniconta pair with items and an organisation

FIVE = [dict(LINES[n % 2], QuotationLineSortOrder=n + 1, QuotationLineQuantity=n + 1) for n in range(5)]


def lines_of(order) -> list:
    return sorted((line["Item"], float(line["Qty"])) for line in order["lines"])


@pytest.mark.parametrize("after_call", [False, True], ids=["lines-refused-with-503", "lines-answer-lost"])
def test_an_order_whose_lines_call_failed_gets_all_its_lines_once(pair, monkeypatch, after_call):
    stop_once(monkeypatch, UnicontaClient, "_insert_order_lines", after_call=after_call,
              error=TransientError("HTTP 503", system="uniconta"))
    new_delivery(pair, lines=FIVE)
    drain()
    monkeypatch.undo()
    InboundEvent.objects.filter(state=EventState.PENDING).update(next_attempt_at=timezone.now())
    drain()

    [order] = orders(pair)
    assert lines_of(order) == sorted((line["QuotationLineData1"], float(line["QuotationLineQuantity"]))
                                     for line in FIVE)

