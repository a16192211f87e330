"""Uniconta publishes no machine-readable API description, so the contract is the catalog.

A full round of the client's work runs against the sandbox through a recorder. Every body the client
sends and every row the sandbox answers must name only catalog fields (or defined user fields) with
the catalog's types, and every insert must carry the fields Uniconta requires.
"""

from __future__ import annotations

import json
import re
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

from ..contract import (
    assert_path_documented,
    assert_query_matches,
    assert_request_matches,
    assert_response_matches,
    load_spec,
)
from .conftest import HOOKS_URL

CATALOG = provider.catalog()
#: The hand-recorded digest of Uniconta's REST/OData face (docs/vendors/facts/uniconta.json, sources inside).
RECORDED = "uniconta"
TEMPLATES = [(r"/odata/\d+/\w+", "/odata/{CompanyId}/{Entity}"),
             (r"/api/Entities/Read/\w+", "/api/Entities/Read/{Entity}"),
             (r"/api/Entities/(Insert|Update|Delete)/\w+", "/api/Entities/{0}/{{Entity}}"),
             (r"/api/Entities/\w+", "/api/Entities/{Entity}")]
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
                                                   "lines": [{"Item": "1001", "Qty": Decimal("2")},
                                                             {"Text": "Fragt", "Qty": 1, "Price": Decimal("50")}]})
    client.update_record(Entity.DELIVERY, str(order["OrderNumber"]), {"lines": [{"Item": "1001", "Qty": 3}]})
    client.create_record(Entity.POS_SALE, {"Account": account, "lines": [{"Text": "Kaffe", "Qty": 1,
                                                                         "Price": Decimal("35")}]})
    sandbox.invoice_order(order["OrderNumber"])  # invoiced by a person in Uniconta: no REST posting
    client.create_records(Entity.JOURNAL_LINE, [{"Journal": "POS", "Date": date(2025, 6, 1), **line} for line in (
        {"Account": "5820", "Debit": Decimal("100")}, {"Account": "1010", "Credit": Decimal("100")})])
    for entity in (Entity.ORGANISATION, Entity.PERSON, Entity.ITEM, Entity.DELIVERY, Entity.INVOICE, Entity.USER):
        list(client.list_records(entity, modified_since=datetime(2000, 1, 1)))
    client.delete_record(Entity.DELIVERY, str(order["OrderNumber"]))
    return recorder.exchanges


def test_every_request_body_names_catalog_fields(full_round):
    writes = [e for e in full_round if e.path.startswith("/api/Entities/")]
    assert {e.path.split("/")[3] for e in writes} == {"Insert", "InsertList", "Update", "Delete", "DeleteList"}
    for exchange in writes:
        # One entity as an object to Insert/Update/Delete; several as an array to the …List variants.
        assert isinstance(exchange.request_body, list) == exchange.path.split("/")[3].endswith("List")
        for body in _bodies(exchange.request_body):
            assert_matches_catalog(_entity_of(exchange.path), body, inserting="/Insert" in exchange.path)


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
        else:
            raise AssertionError(f"{exchange.path} is not a path of Uniconta's REST face")


def test_nothing_is_posted_through_the_rest_face(full_round):
    """Posting invoices and journals is Uniconta's .NET API's (InvoiceAPI, PostingAPI), not the REST face's."""
    assert not [e.path for e in full_round if "/Invoice/" in e.path or "/Posting/" in e.path]


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


def recorded_template(path: str) -> str:
    """The recorded operation's path template for a concrete REST/OData path."""
    for pattern, template in TEMPLATES:
        match = re.fullmatch(pattern, path)
        if match:
            return template.format(*match.groups()) if match.groups() else template
    raise AssertionError(f"{path} is not a recorded Uniconta operation")


def test_reads_and_writes_use_the_recorded_operations_and_query_options(client, recorder):
    """Paths, OData query options ($filter, $orderby, $top, $skip), bodies and feeds as Uniconta documents them."""
    debtor = client.create_record(Entity.ORGANISATION, {"Name": "Havbrise VVS ApS", "ZipCode": "6700"})
    account = client.record_id(Entity.ORGANISATION, debtor)
    client.update_record(Entity.ORGANISATION, account, {"City": "Esbjerg"})
    client.get_record(Entity.ORGANISATION, account)
    contact = client.create_record(Entity.PERSON, {"Name": "Ida", "DCType": "Debtor", "DCAccount": account})
    client.delete_record(Entity.PERSON, client.record_id(Entity.PERSON, contact))
    for entity in (Entity.ORGANISATION, Entity.PERSON, Entity.ITEM, Entity.USER):
        list(client.list_records(entity, modified_since=datetime(2000, 1, 1)))

    calls = [e for e in recorder.exchanges if e.path.startswith(("/odata/", "/api/Entities/"))]
    assert {recorded_template(e.path) for e in calls} >= {
        "/odata/{CompanyId}/{Entity}", "/api/Entities/Insert/{Entity}", "/api/Entities/Update/{Entity}",
        "/api/Entities/Delete/{Entity}"}
    assert any("$filter" in e.query for e in calls)
    for exchange in calls:
        template = recorded_template(exchange.path)
        assert_path_documented(RECORDED, template, exchange.method)
        assert_query_matches(RECORDED, template, exchange.method, exchange.query)
        if exchange.request_body is not None:
            assert_request_matches(RECORDED, template, exchange.method, exchange.request_body)
        if exchange.status == 200 and template.startswith("/odata/"):
            assert_response_matches(RECORDED, template, exchange.method, exchange.response_body)


def test_the_recorded_digest_names_its_sources():
    digest = load_spec(RECORDED)
    assert digest["x-digest"]["recorded"] and digest["x-digest"]["sources"]
    assert all(operation.get("x-source") for item in digest["paths"].values() for operation in item.values())
    change_url = digest["x-webhooks"]["ChangeUrl"]
    assert {p["name"] for p in change_url["parameters"]} == {"CompanyId", "Table", "RowId", "Key", "Operation"}
