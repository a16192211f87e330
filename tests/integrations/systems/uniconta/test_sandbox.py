"""The sandbox answers like Uniconta's REST/OData face: login, paging, filters, errors, Change URLs."""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import datetime, timedelta

import pytest
import requests
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.wrappers import Response

from integrations.systems import transport
from integrations.systems.uniconta import provider
from integrations.systems.uniconta import sandbox as sandbox_module
from integrations.systems.uniconta.catalog import POS_VARIANT_USER_FIELDS
from integrations.systems.uniconta.sandbox_tables import UnicontaFault
from integrations.systems.uniconta.webhooks import parse_change_notification

from .conftest import BASE_URL, HOOKS_URL

AUTH = "Basic " + base64.b64encode(b"001234/synkro:demo-password").decode()


@pytest.fixture
def http(recorder):
    """A plain requests session logged in as the demo API user."""
    session = transport.build_session()
    session.headers["Authorization"] = AUTH
    yield session
    session.close()


def insert(http, entity, body):
    return http.post(f"{BASE_URL}/api/Entities/Insert/{entity}", json=body)


def odata(http, entity, **params):
    return http.get(f"{BASE_URL}/odata/1234/{entity}", params=params)


def test_login_is_http_basic_with_the_company_in_the_user_name(recorder):
    for auth in (None, "Basic " + base64.b64encode(b"001234/synkro:wrong").decode(), "Bearer abc",
                 "Basic " + base64.b64encode(b"009999/synkro:demo-password").decode()):
        answer = requests.Session()
        answer.mount(BASE_URL, transport.WSGIAdapter(recorder))
        response = answer.get(f"{BASE_URL}/api/Entities/DebtorClient",
                              headers={"Authorization": auth} if auth else {})
        assert response.status_code == 401
        assert response.json() == {"Message": "Authorization has been denied for this request."}
        assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_a_company_the_user_may_not_open_is_refused(http, sandbox):
    sandbox.add_login("other", "pw", companies=["5678"])
    assert odata(http, "DebtorClient").status_code == 200
    assert http.get(f"{BASE_URL}/odata/5678/DebtorClient").status_code == 401


def test_unknown_tables_and_paths_answer_404(http):
    assert odata(http, "NoSuchClient").status_code == 404
    assert http.get(f"{BASE_URL}/api/Nothing").json()["Message"].startswith("No HTTP resource")


def test_odata_pages_with_top_and_skip_inside_a_value_envelope(http):
    for n in range(7):
        insert(http, "DebtorClient", {"Name": f"Debtor {n}"})
    body = odata(http, "DebtorClient", **{"$top": 3, "$skip": 3, "$orderby": "Account desc"}).json()
    assert body["odata.metadata"].endswith("$metadata#DebtorClient")
    assert [r["Account"] for r in body["value"]] == ["10004", "10003", "10002"]
    assert "odata.nextLink" not in body


def test_past_the_server_cap_the_feed_sends_a_next_link(http, monkeypatch):
    monkeypatch.setattr(sandbox_module, "SERVER_PAGE_CAP", 4)
    for n in range(6):
        insert(http, "DebtorClient", {"Name": f"Debtor {n}"})
    first = odata(http, "DebtorClient", **{"$filter": "Name ne 'x'"}).json()
    assert len(first["value"]) == 4
    second = http.get(first["odata.nextLink"]).json()
    assert [r["Name"] for r in second["value"]] == ["Debtor 4", "Debtor 5"] and "odata.nextLink" not in second


def test_filters_compare_strings_numbers_booleans_and_datetimes(http, sandbox):
    moments = iter(datetime(2025, 1, 1) + timedelta(hours=h) for h in range(100))
    sandbox.company().clock = lambda: next(moments)
    for n, blocked in ((1, False), (2, True), (3, False)):
        insert(http, "DebtorClient", {"Name": f"D{n}", "CreditMax": n * 1000, "Blocked": blocked})
    names = lambda f: [r["Name"] for r in odata(http, "DebtorClient", **{"$filter": f}).json()["value"]]  # noqa: E731
    assert names("CreditMax ge 2000 and Blocked eq false") == ["D3"]
    assert names("(Name eq 'D1' or Name eq 'D2') and CreditMax lt 1500") == ["D1"]
    assert names("Created gt datetime'2025-01-01T01:30:00'") == ["D3"]
    assert names("Www eq null") == ["D1", "D2", "D3"]
    refused = odata(http, "DebtorClient", **{"$filter": "UpdatedAt gt datetime'2025-01-01T01:30:00'"})
    assert refused.status_code == 400  # debtors have no UpdatedAt


def test_a_filter_on_an_unknown_property_is_an_odata_error(http):
    response = odata(http, "DebtorClient", **{"$filter": "Colour eq 'red'"})
    assert response.status_code == 400
    assert "Could not find a property named 'Colour'" in response.json()["odata.error"]["message"]["value"]
    assert odata(http, "DebtorClient", **{"$filter": "Name eq"}).status_code == 400


def test_responses_leave_out_null_properties(http):
    row = insert(http, "DebtorClient", {"Name": "Havbrise Handel ApS", "Address2": None}).json()
    assert "Address2" not in row and row["Account"] == "10001" and row["RowId"] == 1


def test_writes_are_validated_in_uniconta_words(http):
    blank = insert(http, "DebtorClient", {"City": "Aarhus"})
    assert (blank.status_code, blank.json()["ErrorCode"]) == (400, "FieldCannotBeBlank")
    insert(http, "DebtorClient", {"Account": "20001", "Name": "A"})
    taken = insert(http, "DebtorClient", {"Account": "20001", "Name": "B"})
    assert taken.json() == {"ErrorCode": "KeyExists", "Message": "Debtor 20001 already exists"}
    wrong_type = insert(http, "DebtorClient", {"Name": "C", "CreditMax": "lots"})
    assert wrong_type.json()["Message"].startswith("Error converting value 'lots' to type 'System.Double'")
    no_debtor = insert(http, "DebtorOrderClient", {"Account": "99999"})
    assert no_debtor.json()["ErrorCode"] == "CouldNotFind"
    missing = http.put(f"{BASE_URL}/api/Entities/Update/DebtorClient", json={"RowId": 999, "Name": "X"})
    assert (missing.status_code, missing.json()["ErrorCode"]) == (404, "CouldNotFind")


def test_user_fields_must_be_defined_on_the_table(http, sandbox):
    assert set(POS_VARIANT_USER_FIELDS) <= sandbox.company().user_fields["InvItem"]
    item = insert(http, "InvItemClient", {"Item": "A1", "Name": "Jakke", "xSize": "M", "xStyleNo": "ST1"}).json()
    assert (item["xSize"], item["xStyleNo"]) == ("M", "ST1")
    refused = insert(http, "DebtorClient", {"Name": "D", "xSize": "M"})
    assert refused.status_code == 400
    assert refused.json()["Message"] == "The user field xSize does not exist in Uniconta table Debtor"


def test_update_replaces_the_row_and_delete_removes_it(http):
    row = insert(http, "DebtorClient", {"Name": "Old", "City": "Vejle"}).json()
    updated = http.put(f"{BASE_URL}/api/Entities/Update/DebtorClient", json={**row, "Name": "New", "City": None})
    assert updated.json()["Name"] == "New" and "City" not in updated.json()
    assert "UpdatedAt" not in updated.json()  # Uniconta's debtor pages show no UpdatedAt; orders have one
    assert http.delete(f"{BASE_URL}/api/Entities/Delete/DebtorClient", json=updated.json()).status_code == 200
    assert odata(http, "DebtorClient").json()["value"] == []


def test_entities_read_finds_rows_by_name_and_value(http):
    insert(http, "DebtorClient", {"Account": "2001", "Name": "A"})
    insert(http, "DebtorClient", {"Account": "2002", "Name": "B"})
    rows = http.get(f"{BASE_URL}/api/Entities/DebtorClient", params={"Name": "Account", "Value": "2002"}).json()
    assert [r["Name"] for r in rows] == ["B"]


def test_order_lines_are_filled_from_the_item_and_summed_into_the_order(http):
    insert(http, "DebtorClient", {"Account": "1", "Name": "A"})
    insert(http, "InvItemClient", {"Item": "I1", "Name": "Skruer", "Unit": "pk", "SalesPrice1": 100, "CostPrice": 60})
    order = insert(http, "DebtorOrderClient", {"Account": "1"}).json()
    line = insert(http, "DebtorOrderLineClient", {"OrderNumber": order["OrderNumber"], "Item": "I1", "Qty": 3,
                                                  "DiscountPct": 10}).json()
    assert (line["Text"], line["Price"], line["Total"], line["Margin"], line["MarginRatio"]) == (
        "Skruer", 100, 270, 90, 33.33)
    assert odata(http, "DebtorOrderClient").json()["value"][0]["OrderTotal"] == 270


def test_invoicing_an_order_in_uniconta_invoices_it_once(http, sandbox):
    insert(http, "DebtorClient", {"Account": "1", "Name": "A", "VatZone": "Domestic"})
    order = insert(http, "DebtorOrderClient", {"Account": "1", "Payment": "Netto 14"}).json()
    insert(http, "DebtorOrderLineClient", {"OrderNumber": order["OrderNumber"], "Text": "Timer", "Qty": 2,
                                           "Price": 500, "CostPrice": 300})
    header = sandbox.invoice_order(order["OrderNumber"], invoice_date="2025-02-01")
    assert (header["NetAmount"], header["VatAmount"], header["TotalAmount"], header["DueDate"]) == (
        1000, 250, 1250, "2025-02-15T00:00:00")
    assert header["lines"][0]["InvoiceQty"] == 2 and header["lines"][0]["InvoiceNumber"] == header["InvoiceNumber"]
    order_now = odata(http, "DebtorOrderClient").json()["value"][0]
    assert order_now["InvoiceDate"] == "2025-02-01T00:00:00"
    assert odata(http, "DebtorOrderLineClient").json()["value"][0]["QtyInvoiced"] == 2
    with pytest.raises(UnicontaFault, match="no lines to invoice"):
        sandbox.invoice_order(order["OrderNumber"])
    row = {k: (str(v) if not isinstance(v, str | int | bool) and v is not None else v)
           for k, v in header.items() if k != "lines"}
    assert insert(http, "DebtorInvoiceClient", row).status_code == 400  # posted invoices are not written
    assert http.post(f"{BASE_URL}/api/Invoice/PostInvoice/DebtorOrderClient", json={"OrderNumber": 1}
                     ).status_code == 404  # no posting on the REST face


def test_a_list_insert_is_one_transaction(http):
    lines = [{"Journal": "POS", "Date": "2025-02-01", "Debit": 1250, "Account": "5820"},
             {"Journal": "POS", "Date": "2025-02-01", "Credit": 1250, "Account": "1010"}]
    done = http.post(f"{BASE_URL}/api/Entities/InsertList/GLDailyJournalLineClient", json=lines)
    assert done.status_code == 200 and len(done.json()) == 2
    bad = http.post(f"{BASE_URL}/api/Entities/InsertList/GLDailyJournalLineClient",
                    json=[lines[0], {"Journal": "NOPE", "Date": "2025-02-01", "Debit": 1, "Account": "1"}])
    assert bad.status_code in (400, 404)
    assert len(odata(http, "GLDailyJournalLineClient").json()["value"]) == 2
    gone = http.delete(f"{BASE_URL}/api/Entities/DeleteList/GLDailyJournalLineClient", json=done.json())
    assert gone.status_code == 200 and odata(http, "GLDailyJournalLineClient").json()["value"] == []


def test_posting_a_daily_journal_in_uniconta_moves_its_lines_to_the_ledger(http, sandbox):
    for line in ({"Debit": 1250, "Account": "5820", "Text": "Kasse"},
                 {"Credit": 1000, "Account": "1010", "Text": "Salg"}, {"Credit": 250, "Account": "6900"}):
        assert insert(http, "GLDailyJournalLineClient", {"Journal": "POS", "Date": "2025-02-01", **line}).ok
    result = sandbox.company().post_daily_journal("POS")
    assert result["Err"] == "Succes" and result["JournalPostedId"] >= 1
    assert odata(http, "GLDailyJournalLineClient").json()["value"] == []
    ledger = odata(http, "GLTransClient").json()["value"]
    assert {r["Account"]: r["Amount"] for r in ledger} == {"5820": 1250, "1010": -1000, "6900": -250}
    with pytest.raises(UnicontaFault):
        sandbox.company().post_daily_journal("POS")


def test_over_the_limit_uniconta_answers_429_with_retry_after(recorder, http, sandbox):
    sandbox.knobs.rate_limit = (2, 60.0)
    assert [odata(http, "DebtorClient").status_code for _ in range(2)] == [200, 200]
    limited = odata(http, "DebtorClient")
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json()["Message"].startswith("Too many requests")


def test_the_default_limit_is_the_providers(http):
    fresh = provider.sandbox()
    assert fresh._check_rate_limit() is None
    assert tuple(provider.rate_limit) == fresh.default_rate_limit


def test_change_urls_are_called_on_insert_update_and_delete(http, sandbox, receiver):
    subscription = insert(http, "TableChangeEventClient", {"Table": "Debtor", "Url": f"{HOOKS_URL}/in?token=t",
                                                           "UsePost": True}).json()
    row = insert(http, "DebtorClient", {"Name": "Hooked"}).json()
    row = http.put(f"{BASE_URL}/api/Entities/Update/DebtorClient", json={**row, "City": "Odense C"}).json()
    http.delete(f"{BASE_URL}/api/Entities/Delete/DebtorClient", json=row)
    assert [c["query"]["Operation"] for c in receiver.calls] == ["Insert", "Update", "Delete"]
    first = receiver.calls[0]
    assert first["method"] == "POST" and first["path"] == "/in"
    assert first["query"] == {"token": "t", "CompanyId": "1234", "Table": "Debtor", "RowId": "1", "Key": "10001",
                              "Operation": "Insert"}
    assert json.loads(receiver.calls[1]["body"])["City"] == "Odense C"
    events = [parse_change_notification(body=c["body"], headers=c["headers"], query=c["query"])[0]
              for c in receiver.calls]
    assert [(e.entity, e.action, e.external_id) for e in events] == [
        ("organisation", "created", "10001"), ("organisation", "updated", "10001"),
        ("organisation", "deleted", "10001")]
    health = odata(http, "TableChangeEventClient").json()["value"][0]
    assert health["RowId"] == subscription["RowId"] and health["HasError"] is False and health["LastEvent"]


def test_without_post_the_call_is_a_get_with_no_body(http, sandbox, receiver):
    sandbox.subscribe(f"{HOOKS_URL}/in", table="InvItem", use_post=False, argument="secret")
    insert(http, "DebtorClient", {"Name": "Not an item"})
    insert(http, "InvItemClient", {"Item": "1001", "Name": "Jakke"})
    [call] = receiver.calls
    assert (call["method"], call["body"], call["query"]["Key"], call["query"]["Argument"]) == (
        "GET", b"", "1001", "secret")
    assert parse_change_notification(body=b"", headers={}, query=call["query"], secret="secret")[0].entity == "item"


def test_order_line_changes_notify_the_order(http, sandbox, receiver):
    sandbox.subscribe(f"{HOOKS_URL}/in")
    insert(http, "DebtorClient", {"Account": "1", "Name": "A"})
    order = insert(http, "DebtorOrderClient", {"Account": "1"}).json()
    insert(http, "DebtorOrderLineClient", {"OrderNumber": order["OrderNumber"], "Qty": 1, "Price": 5})
    assert [(c["query"]["Table"], c["query"]["Operation"]) for c in receiver.calls] == [
        ("Debtor", "Insert"), ("DebtorOrder", "Insert"), ("DebtorOrder", "Update")]


def test_a_failing_receiver_shows_on_the_change_url_row(http, sandbox, receiver):
    receiver.status = 500
    sandbox.subscribe(f"{HOOKS_URL}/in")
    insert(http, "DebtorClient", {"Name": "A"})
    health = odata(http, "TableChangeEventClient").json()["value"][0]
    assert (health["HasError"], health["ErrorMessage"]) == (True, "HTTP 500")
    receiver.status = 200
    insert(http, "DebtorClient", {"Name": "B"})
    assert odata(http, "TableChangeEventClient").json()["value"][0]["HasError"] is False


def test_the_drop_knob_loses_every_call_at_one(http, sandbox, receiver):
    sandbox.knobs.webhook_drop_rate = 1.0
    sandbox.subscribe(f"{HOOKS_URL}/in")
    for n in range(5):
        insert(http, "DebtorClient", {"Name": f"D{n}"})
    assert receiver.calls == [] and len(sandbox.webhooks) == 5 and all(d.dropped for d in sandbox.webhooks)


def test_the_drop_knob_at_half_loses_some(receiver):
    seeded = provider.sandbox(rate_limit=(0, 0), webhook_drop_rate=0.5, seed=7)
    seeded.subscribe(f"{HOOKS_URL}/in")
    with transport.mounted("https://seeded.uniconta.test", seeded):
        session = transport.build_session()
        for n in range(20):
            session.post("https://seeded.uniconta.test/api/Entities/Insert/DebtorClient", json={"Name": f"D{n}"},
                         headers={"Authorization": AUTH})
    dropped = sum(d.dropped for d in seeded.webhooks)
    assert len(seeded.webhooks) == 20 and 0 < dropped < 20 and len(receiver.calls) == 20 - dropped


def test_latency_knob_slows_every_answer(recorder):
    slow = provider.sandbox(rate_limit=(0, 0), latency_ms=30)
    with transport.mounted("https://slow.uniconta.test", slow):
        session = transport.build_session()
        started = time.monotonic()
        session.get("https://slow.uniconta.test/odata/1234/DebtorClient", headers={"Authorization": AUTH})
        assert time.monotonic() - started >= 0.03


def test_concurrent_inserts_get_distinct_numbers(http, sandbox):
    def create(n):
        session = transport.build_session()
        for i in range(10):
            session.post(f"{BASE_URL}/api/Entities/Insert/DebtorClient", json={"Name": f"T{n}-{i}"},
                         headers={"Authorization": AUTH})

    threads = [threading.Thread(target=create, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = sandbox.company().rows("DebtorClient")
    assert len(rows) == 60 and len({r["Account"] for r in rows}) == 60 and len({r["RowId"] for r in rows}) == 60


def test_mounted_under_a_prefix_the_next_link_keeps_it(sandbox, monkeypatch):
    monkeypatch.setattr(sandbox_module, "SERVER_PAGE_CAP", 2)
    site = DispatcherMiddleware(Response("site"), {"/sandbox/uniconta": sandbox})
    for n in range(3):
        sandbox.company().insert("DebtorClient", {"Name": f"D{n}"})
    with transport.mounted("https://demo.test", site):
        session = transport.build_session()
        body = session.get("https://demo.test/sandbox/uniconta/odata/1234/DebtorClient",
                           headers={"Authorization": AUTH}).json()
    assert body["odata.nextLink"].startswith("https://demo.test/sandbox/uniconta/odata/1234/DebtorClient?")


def test_seed_demo_builds_a_realistic_company_once(sandbox):
    sandbox.seed_demo()
    company = sandbox.company()
    counts = {name: len(table.rows) for name, table in company.tables.items()}
    assert counts["DebtorClient"] >= 300 and counts["ContactClient"] >= 200 and counts["InvItemClient"] >= 100
    assert counts["EmployeeClient"] >= 5 and counts["DebtorOrderLineClient"] > counts["DebtorOrderClient"]
    invoiced = {r["OrderNumber"] for r in company.rows("DebtorInvoiceClient")}
    assert 0 < len(invoiced) < counts["DebtorOrderClient"]  # some orders invoiced, some still open
    assert all(r.get("xStyleNo") for r in company.rows("InvItemClient"))
    sandbox.seed_demo()
    assert len(company.rows("DebtorClient")) == counts["DebtorClient"]


def test_the_demo_credentials_open_the_sandbox(recorder):
    demo = provider.extras["demo_credentials"]
    assert provider.extras["pos_ledger"] is True
    client = provider.client(base_url=BASE_URL, credentials=demo)
    assert "1234" in client.check_connection()
