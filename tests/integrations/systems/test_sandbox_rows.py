"""Keyed sandbox rows: indexed reads answer exactly what reading every row answers, in the same order."""

from __future__ import annotations

import pickle

import pytest

from integrations.systems.sandbox import Table
from integrations.systems.sandbox_rows import KeyedRows
from integrations.systems.uniconta.sandbox_odata import ODataError, index_hint, parse_filter
from integrations.systems.uniconta.sandbox_store import UnicontaCompany
from integrations.systems.webcrm.sandbox_store import WebcrmStore


def test_equal_lookups_follow_sets_deletes_restores_and_touches():
    rows = KeyedRows()
    rows["2"] = {"Name": "b", "City": "Odense"}
    rows["1"] = {"Name": "a", "City": "Odense"}
    assert [r["Name"] for r in rows.equal("City", "Odense")] == ["b", "a"]  # insertion order, as iterating gives
    rows["2"] = {"Name": "b", "City": "Kolding"}  # replaced: keeps its place
    assert [r["Name"] for r in rows.equal("City", "Odense")] == ["a"]
    rows["1"]["City"] = "Kolding"  # changed in place, then told
    rows.touch("1")
    assert [r["Name"] for r in rows.equal("City", "Kolding")] == ["b", "a"]
    del rows["2"]
    assert rows.equal("City", "Kolding") == [{"Name": "a", "City": "Kolding"}]
    rows.clear()
    rows.update({"7": {"Name": "x", "City": "Vejle"}})
    assert rows.first({"City": "Vejle", "Name": "x"}) == {"Name": "x", "City": "Vejle"}
    assert rows.first({"City": "Vejle", "Name": "y"}) is None
    assert type(pickle.loads(pickle.dumps(rows))) is dict  # noqa: S301 - our own bytes; kept state holds plain dicts


def test_a_row_changed_in_place_without_a_touch_is_never_returned_wrongly():
    rows = KeyedRows({"1": {"City": "Odense"}})
    assert rows.equal("City", "Odense")
    rows["1"]["City"] = "Kolding"
    assert rows.equal("City", "Odense") == []


def test_sorted_keys_follow_inserts_out_of_order_and_deletes():
    table = Table(rows={"10": {}, "2": {}})
    assert table.rows.keys_sorted("id", int) == ["2", "10"]
    table.rows["5"] = {}
    table.rows["11"] = {}
    del table.rows["2"]
    assert table.rows.keys_sorted("id", int) == ["5", "10", "11"]


def test_webcrm_queries_by_index_answer_as_a_full_read_does():
    store = WebcrmStore()
    names = ["Nordlys A/S", "nordlys a/s  ", "Fjord ApS", "Nordlys A/S", "O'Brien Ltd"]
    for name in names:
        store.create("Organisations", {"OrganisationName": name, "OrganisationCity": "Odense"})
    for script, expected in (
        ("SELECT * FROM Organisation WHERE OrganisationName = 'NORDLYS A/S'", [1, 2, 4]),
        ("SELECT * FROM Organisation o WHERE o.OrganisationCity = 'odense' AND o.OrganisationName = 'Fjord ApS'", [3]),
        ("SELECT * FROM Organisation WHERE OrganisationName = 'O''Brien Ltd'", [5]),
        ("SELECT * FROM Organisation WHERE OrganisationName = 'Nordlys A/S' ORDER BY OrganisationId DESC", [4, 2, 1]),
    ):
        assert [row["OrganisationId"] for row in store.query(script)] == expected, script


def test_uniconta_filters_by_index_answer_as_a_full_read_does():
    company = UnicontaCompany("1234")
    for number, name in enumerate(["Nordlys", "nordlys handel ", "Fjord", None, "Nordlys"], start=1):
        company.insert("DebtorClient", {"Account": str(number), "Name": name or "x"})
    company.tables["DebtorClient"].rows["4"]["Name"] = None
    company.touched("DebtorClient", company.tables["DebtorClient"].rows["4"])
    fields = company.fields_of("DebtorClient") | {"RowId"}
    for text in ("startswith(tolower(Name), 'nordlys')", "Name eq 'Nordlys'", "Name eq 'Nordlys' and Account eq '5'",
                 "startswith(tolower(Name), 'nordlys h') and Account ne '1'", "Name eq 'Fjord' or Account eq '1'"):
        keep = parse_filter(text, fields, "DebtorClient")
        indexed = [row["Account"] for row in company.read("DebtorClient", text) if keep(row)]
        everything = [row["Account"] for row in company.rows("DebtorClient") if keep(row)]
        assert indexed == everything, text
    assert index_hint("Name eq 'Fjord' or Account eq '1'") is None
    assert index_hint("startswith(tolower(Name), 'nordlys')") == ("lower-prefix", "Name", "nordlys")


def test_uniconta_number_filters_by_index_answer_as_a_full_read_does():
    company = UnicontaCompany("1234")
    company.insert("DebtorClient", {"Account": "1", "Name": "Nordlys"})
    for _ in range(3):
        company.insert("DebtorOrderClient", {"Account": "1"})
    orders = company.tables["DebtorOrderClient"].rows
    orders["2"]["OrderNumber"] = 1
    company.touched("DebtorOrderClient", orders["2"])
    fields = company.fields_of("DebtorOrderClient") | {"RowId"}
    for text in ("OrderNumber eq 1", "OrderNumber eq 1.0", "OrderNumber ge 1 and OrderNumber le 1",
                 "OrderNumber ge 1 and OrderNumber le 2"):
        keep = parse_filter(text, fields, "DebtorOrderClient")
        indexed = [row["RowId"] for row in company.read("DebtorOrderClient", text) if keep(row)]
        everything = [row["RowId"] for row in company.rows("DebtorOrderClient") if keep(row)]
        assert indexed == everything, text
    assert index_hint("OrderNumber ge 1 and OrderNumber le 1") == ("number-equal", "OrderNumber", "1")
    assert index_hint("OrderNumber ge 1 and OrderNumber le 2") is None


def test_uniconta_a_value_a_number_filter_refuses_is_still_refused():
    company = UnicontaCompany("1234")
    company.insert("DebtorClient", {"Account": "1", "Name": "Nordlys"})
    company.insert("DebtorOrderClient", {"Account": "1"})
    orders = company.tables["DebtorOrderClient"].rows
    row = next(iter(orders.values()))
    row["OrderNumber"] = "not a number"
    company.touched("DebtorOrderClient", row)
    keep = parse_filter("OrderNumber eq 7", company.fields_of("DebtorOrderClient"), "DebtorOrderClient")
    with pytest.raises(ODataError):
        [r for r in company.read("DebtorOrderClient", "OrderNumber eq 7") if keep(r)]


def test_the_index_check_finds_a_row_changed_in_place_without_a_touch(monkeypatch):
    from integrations.systems import sandbox_rows

    monkeypatch.setattr(sandbox_rows, "CHECK_INDEXES", True)
    rows = KeyedRows({"1": {"City": "Odense"}})
    assert rows.equal("City", "Odense")
    rows["1"]["City"] = "Kolding"  # no touch: the index would hide this row from a search for Kolding
    with pytest.raises(AssertionError, match="stale"):
        rows.equal("City", "Kolding")
