"""Uniconta publishes no machine-readable API description, so the contract is the catalog.

A full round of the client's work runs against the sandbox through a recorder. Every body the client
sends and every row the sandbox answers must name only catalog fields (or defined user fields) with
the catalog's types, and every insert must carry the fields Uniconta requires.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from integrations.systems.catalog import Entity, FieldSpec, FieldType
from integrations.systems.uniconta import provider
from integrations.systems.uniconta.catalog import (
    DAILY_JOURNAL_FIELDS,
    GL_TRANS_FIELDS,
    POS_VARIANT_USER_FIELDS,
    TABLE_CHANGE_EVENT_FIELDS,
)

from .conftest import HOOKS_URL

CATALOG = provider.catalog()
#: Uniconta entity name → its fields, from the catalog (and the helper tables the REST face serves).
FIELDS: dict[str, dict[str, FieldSpec]] = {
    spec.vendor_name: {f.name: f for f in spec.fields if f.type != FieldType.LIST} for spec in CATALOG.entities}
FIELDS |= {name: {f.name: f for f in fields} for name, fields in (
    ("GLDailyJournalClient", DAILY_JOURNAL_FIELDS), ("GLTransClient", GL_TRANS_FIELDS),
    ("TableChangeEventClient", TABLE_CHANGE_EVENT_FIELDS))}
USER_FIELDS = {"InvItemClient": set(POS_VARIANT_USER_FIELDS)}


def _type_ok(spec: FieldSpec, value: Any) -> bool:
    if value is None:
        return True
    if spec.type in (FieldType.INTEGER,):
        return isinstance(value, int) and not isinstance(value, bool)
    if spec.type == FieldType.DECIMAL:
        return isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    if spec.type == FieldType.BOOLEAN:
        return isinstance(value, bool)
    if spec.type in (FieldType.DATE, FieldType.DATETIME):
        return isinstance(value, str) and bool(datetime.fromisoformat(value))
    if spec.choices:
        return value in spec.choices
    return isinstance(value, str)


def assert_matches_catalog(vendor_name: str, row: Any, *, inserting: bool = False) -> None:
    """One entity body has only catalog fields, typed as the catalog says."""
    assert isinstance(row, dict), f"{vendor_name}: {row!r} is not an object"
    fields = FIELDS[vendor_name]
    for name, value in row.items():
        if name in USER_FIELDS.get(vendor_name, set()):
            assert isinstance(value, str), f"{vendor_name}.{name}"
            continue
        assert name in fields, f"{vendor_name}.{name} is not in the catalog"
        assert _type_ok(fields[name], value), f"{vendor_name}.{name} = {value!r} is not {fields[name].type}"
    if inserting:
        missing = [n for n, f in fields.items() if f.required and row.get(n) in (None, "") and n != "OrderNumber"]
        assert missing == [], f"{vendor_name} insert without {missing}"


def _entity_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _bodies(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.fixture
def full_round(client, sandbox, recorder, receiver):
    """The client does everything it does for Synkro once, with a Change URL listening."""
    client.create_record(Entity.ITEM, {"Item": "1001", "Name": "Arbejdsjakke", "CostPrice": Decimal("212.5"),
                                       "SalesPrice1": Decimal("340"), "xStyleNo": "ST1", "xSize": "M"})
    sandbox.subscribe(f"{HOOKS_URL}/in")
    debtor = client.create_record(Entity.ORGANISATION, {"Name": "Nordlys Byg A/S", "ZipCode": "8000",
                                                        "VatZone": "Domestic", "Blocked": False})
    account = client.record_id(Entity.ORGANISATION, debtor)
    client.update_record(Entity.ORGANISATION, account, {"Www": "www.nordlys.dk", "CreditMax": Decimal("1000")})
    client.create_record(Entity.PERSON, {"Name": "Mette", "Email": "m@nordlys.dk", "DCType": "Debtor",
                                         "DCAccount": account})
    client.create_record(Entity.USER, {"Number": "7", "Name": "Lars Hansen", "Email": "lh@nordlys.dk"})
    order = client.create_record(Entity.DELIVERY, {"Account": account, "DeliveryDate": date(2025, 6, 1),
                                                   "lines": [{"Item": "1001", "Qty": Decimal("2")}]})
    client.update_record(Entity.DELIVERY, str(order["OrderNumber"]), {"lines": [{"Item": "1001", "Qty": 3}]})
    client.create_record(Entity.POS_SALE, {"Account": account, "lines": [{"Text": "Kaffe", "Qty": 1,
                                                                         "Price": Decimal("35")}]})
    client.create_record(Entity.INVOICE, {"Account": account, "lines": [{"Item": "1001", "Qty": 1}]})
    client.post_invoice(order["OrderNumber"])
    for line in ({"Account": "5820", "Debit": Decimal("100")}, {"Account": "1010", "Credit": Decimal("100")}):
        client.create_record(Entity.JOURNAL_LINE, {"Journal": "POS", "Date": date(2025, 6, 1), **line})
    client.post_daily_journal("POS")
    for entity in (Entity.ORGANISATION, Entity.PERSON, Entity.ITEM, Entity.DELIVERY, Entity.INVOICE, Entity.USER):
        list(client.list_records(entity, modified_since=datetime(2000, 1, 1)))
    client.delete_record(Entity.DELIVERY, str(order["OrderNumber"]))
    return recorder.exchanges


def test_every_request_body_names_catalog_fields(full_round):
    writes = [e for e in full_round if e.path.startswith("/api/Entities/")]
    assert {e.path.split("/")[3] for e in writes} == {"Insert", "Update", "Delete"}
    for exchange in writes:
        for body in _bodies(exchange.request_body):
            assert_matches_catalog(_entity_of(exchange.path), body, inserting="/Insert/" in exchange.path)


def test_every_answer_is_made_of_catalog_rows(full_round):
    assert all(e.status < 400 for e in full_round), [(e.path, e.response_body) for e in full_round if e.status >= 400]
    for exchange in full_round:
        body = exchange.response_body
        if exchange.path.startswith("/odata/"):
            assert set(body) <= {"odata.metadata", "value", "odata.nextLink"}
            for row in body["value"]:
                assert_matches_catalog(_entity_of(exchange.path), row)
        elif exchange.path.startswith("/api/Entities/"):
            for row in _bodies(body):
                assert_matches_catalog(_entity_of(exchange.path), row)
        elif exchange.path.endswith("/PostInvoice/DebtorOrderClient"):
            assert body["Err"] == "Succes"
            assert_matches_catalog("DebtorInvoiceClient", body["Header"])
            for line in body["Lines"]:
                assert_matches_catalog("DebtorInvoiceLines", line)
        else:
            assert exchange.path.endswith("/PostDailyJournal/GLDailyJournalClient")
            assert body["Err"] == "Succes" and isinstance(body["JournalPostedId"], int)


def test_every_posting_request_carries_what_posting_needs(full_round):
    postings = [e.request_body for e in full_round if "/Invoice/" in e.path or "/Posting/" in e.path]
    assert [sorted(b) for b in postings] == [["Date", "OrderNumber", "Simulate"]] * 2 + [["Comment", "Date",
                                                                                          "Journal"]]
    assert all(isinstance(b.get("OrderNumber", 0), int) for b in postings)


def test_every_change_url_body_is_a_catalog_row(full_round, receiver):
    tables = {"Debtor": "DebtorClient", "Contact": "ContactClient", "InvItem": "InvItemClient",
              "DebtorOrder": "DebtorOrderClient", "DebtorInvoice": "DebtorInvoiceClient", "Employee": "EmployeeClient"}
    assert {c["query"]["Table"] for c in receiver.calls} == set(tables) - {"InvItem"}
    for call in receiver.calls:
        assert set(call["query"]) == {"CompanyId", "Table", "RowId", "Key", "Operation"}
        assert_matches_catalog(tables[call["query"]["Table"]], json.loads(call["body"]))


def test_the_checker_itself_catches_strangers():
    with pytest.raises(AssertionError, match="not in the catalog"):
        assert_matches_catalog("DebtorClient", {"Name": "A", "Colour": "red"})
    with pytest.raises(AssertionError, match="is not"):
        assert_matches_catalog("DebtorClient", {"Name": "A", "CreditMax": "lots"})
    with pytest.raises(AssertionError, match="insert without"):
        assert_matches_catalog("DebtorClient", {"City": "Aarhus"}, inserting=True)
