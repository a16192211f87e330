"""The Uniconta client against the sandbox: login, paging, changed-since, errors, retries, documents."""

from __future__ import annotations

import base64
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import requests

from integrations.systems.catalog import Entity
from integrations.systems.errors import (
    AuthError,
    NotFoundError,
    RateLimitedError,
    TransientError,
    VendorValidationError,
)
from integrations.systems.uniconta import provider
from integrations.systems.uniconta import sandbox as sandbox_module

from .conftest import BASE_URL, CREDENTIALS


def gets(recorder, vendor_name):
    return [e for e in recorder.exchanges if e.method == "GET" and e.path.endswith(f"/{vendor_name}")]


@pytest.fixture
def debtor(sandbox):
    """Put a debtor straight into the company, the way a bookkeeper would have."""
    def create(**values):
        row, _ = sandbox.company().insert("DebtorClient", {"Name": "Nordlys Byg A/S", **values})
        return row
    return create


@pytest.fixture
def item(sandbox):
    def create(number, **values):
        row, _ = sandbox.company().insert("InvItemClient", {"Item": number, "Name": f"Vare {number}",
                                                            "SalesPrice1": 100, "CostPrice": 60, **values})
        return row
    return create


# -- login ---------------------------------------------------------------------------------------------
def test_every_call_logs_in_with_basic_and_the_company_prefixed_user(client):
    headers: dict[str, str] = {}
    client.authenticate(headers)
    scheme, encoded = headers["Authorization"].split()
    assert (scheme, base64.b64decode(encoded).decode()) == ("Basic", "001234/synkro:demo-password")
    assert client.refresh_auth() is False  # nothing to refresh: no token


def test_a_wrong_password_is_an_auth_error_after_one_call(sandbox, recorder):
    client = provider.client(base_url=BASE_URL, credentials={**CREDENTIALS, "password": "nope"}, sleep=lambda s: None)
    with pytest.raises(AuthError) as refused:
        client.check_connection()
    assert refused.value.vendor_message == "Authorization has been denied for this request."
    assert refused.value.status == 401 and client.calls == 1


def test_a_rotated_password_fails_until_the_new_one_is_stored(client, sandbox):
    changed: list[dict[str, str]] = []
    client.credentials_changed = changed.append
    assert "1234" in client.check_connection()
    sandbox.set_password("synkro", "rotated-password")  # an administrator revokes the old one
    with pytest.raises(AuthError):
        client.list_records(Entity.ORGANISATION).__next__()
    client.update_credentials(password="rotated-password")
    assert list(client.list_records(Entity.ORGANISATION)) == []
    assert changed[-1]["password"] == "rotated-password"


# -- reading -------------------------------------------------------------------------------------------
def test_list_records_pages_through_every_row(client, recorder, debtor):
    for n in range(23):
        debtor(Name=f"Debtor {n}")
    records = client.list_records(Entity.ORGANISATION, page_size=5)
    assert next(records)["Account"] == "10001"  # a generator: the first page is enough to start
    rest = list(records)
    assert len(rest) == 22 and rest[-1]["Name"] == "Debtor 22"
    assert [e.query["$skip"] for e in gets(recorder, "DebtorClient")] == ["0", "5", "10", "15", "20"]


def test_list_records_follows_the_services_next_link(client, recorder, debtor, monkeypatch):
    monkeypatch.setattr(sandbox_module, "SERVER_PAGE_CAP", 4)
    for n in range(10):
        debtor(Name=f"Debtor {n}")
    assert len(list(client.list_records(Entity.ORGANISATION, page_size=50))) == 10
    assert len(gets(recorder, "DebtorClient")) == 3


def test_orders_changed_since_are_filtered_on_updated_at(client, recorder, sandbox, debtor):
    start = datetime(2025, 3, 1, 8, 0)
    moments = iter(start + timedelta(minutes=m) for m in range(100))
    sandbox.company().clock = lambda: next(moments)
    debtor(Account="1")  # 08:00
    for n in range(4):  # 08:01 … 08:04
        sandbox.company().insert("DebtorOrderClient", {"Account": "1", "YourRef": f"O{n}"})
    changed = list(client.list_records(Entity.DELIVERY, modified_since=start + timedelta(minutes=2, seconds=30)))
    assert [r["YourRef"] for r in changed] == ["O2", "O3"]
    assert gets(recorder, "DebtorOrderClient")[-1].query["$filter"] == "UpdatedAt gt datetime'2025-03-01T08:02:30'"
    assert client.filters_by_change(Entity.DELIVERY)


def test_debtors_have_no_change_filter_and_are_listed_whole(client, recorder, debtor):
    """Uniconta's debtor, item, contact and employee pages show no UpdatedAt: no filter Uniconta may refuse."""
    for n in range(3):
        debtor(Name=f"D{n}")
    listed = list(client.list_records(Entity.ORGANISATION, modified_since=datetime(2099, 1, 1)))
    assert len(listed) == 3
    assert "$filter" not in gets(recorder, "DebtorClient")[-1].query
    assert not any(client.filters_by_change(e) for e in (Entity.ORGANISATION, Entity.ITEM, Entity.PERSON,
                                                          Entity.USER))


def test_a_change_filter_on_a_table_without_updated_at_is_refused_like_uniconta(client):
    with pytest.raises(VendorValidationError):
        list(client.query_rows("DebtorClient", filter="UpdatedAt gt datetime'2025-03-01T08:01:30'"))


def test_invoices_changed_since_are_those_dated_since(client, recorder, sandbox, debtor):
    debtor(Account="1")
    for day in (1, 10):
        order, _ = sandbox.company().insert("DebtorOrderClient", {"Account": "1"})
        sandbox.company().insert("DebtorOrderLineClient", {"OrderNumber": order["OrderNumber"], "Qty": 1, "Price": 10})
        sandbox.company().post_invoice(order["OrderNumber"], f"2025-04-{day:02d}")
    invoices = list(client.list_records(Entity.INVOICE, modified_since=date(2025, 4, 5)))
    assert [i["Date"] for i in invoices] == ["2025-04-10T00:00:00"] and len(invoices[0]["lines"]) == 1


def test_get_record_reads_by_key_and_a_missing_one_is_not_found(client, debtor):
    debtor(Account="4711", City="Odense C")
    assert client.get_record(Entity.ORGANISATION, "4711")["City"] == "Odense C"
    with pytest.raises(NotFoundError):
        client.get_record(Entity.ORGANISATION, "4712")
    with pytest.raises(NotFoundError):
        client.get_record(Entity.DELIVERY, "not-a-number")


def test_amounts_arrive_as_decimals(client, item):
    item("1001", CostPrice=Decimal("12.34"))
    assert client.get_record(Entity.ITEM, "1001")["CostPrice"] == Decimal("12.34")


# -- writing -------------------------------------------------------------------------------------------
def test_create_update_delete_a_debtor(client, sandbox):
    created = client.create_record(Entity.ORGANISATION, {"Name": "Havbrise Handel ApS", "City": "Vejle",
                                                         "CreditMax": Decimal("50000")})
    number = client.record_id(Entity.ORGANISATION, created)
    assert number == "10001" and created["RowId"] == 1
    updated = client.update_record(Entity.ORGANISATION, number, {"Phone": "+45 70 10 20 30"})
    assert (updated["Phone"], updated["City"], updated["CreditMax"]) == ("+45 70 10 20 30", "Vejle", 50000)
    client.delete_record(Entity.ORGANISATION, number)
    assert sandbox.company().rows("DebtorClient") == []


def test_a_refusal_carries_uniconta_own_words(client):
    with pytest.raises(VendorValidationError) as blank:
        client.create_record(Entity.ORGANISATION, {"City": "Aarhus"})
    assert blank.value.vendor_message == "Name (Name) cannot be blank" and blank.value.status == 400
    with pytest.raises(VendorValidationError) as unknown:
        client.create_record(Entity.ORGANISATION, {"Name": "X", "xSize": "L"})
    assert unknown.value.vendor_message == "The user field xSize does not exist in Uniconta table Debtor"


def test_user_fields_on_items_are_written_by_name(client):
    created = client.create_record(Entity.ITEM, {"Item": "2001", "Name": "Strik-trøje", "xStyleNo": "ST7",
                                                 "xSize": "XL", "xColor": "Navy"})
    assert (created["xStyleNo"], created["xSize"]) == ("ST7", "XL")
    assert client.update_record(Entity.ITEM, "2001", {"xSize": "L"})["xSize"] == "L"


def test_contacts_are_addressed_by_row_id(client, debtor):
    debtor(Account="1")
    contact = client.create_record(Entity.PERSON, {"Name": "Mette Jensen", "Email": "mette@nordlys.dk",
                                                   "DCType": "Debtor", "DCAccount": "1"})
    row_id = client.record_id(Entity.PERSON, contact)
    assert row_id == str(contact["RowId"])
    assert client.get_record(Entity.PERSON, row_id)["Email"] == "mette@nordlys.dk"


def test_a_sales_order_is_written_with_its_lines_and_totals_come_back(client, debtor, item):
    debtor(Account="1")
    item("1001")
    order = client.create_record(Entity.DELIVERY, {"Account": "1", "YourRef": "Tilbud 7", "lines": [
        {"Item": "1001", "Qty": 2}, {"Text": "Montage", "Qty": 1, "Price": Decimal("450.50")}]})
    assert order["OrderTotal"] == Decimal("650.5") and [line["LineNumber"] for line in order["lines"]] == [1, 2]
    number = client.record_id(Entity.DELIVERY, order)
    changed = client.update_record(Entity.DELIVERY, number, {"YourRef": "Ordre 7", "lines": [{"Item": "1001",
                                                                                             "Qty": 5}]})
    assert changed["YourRef"] == "Ordre 7" and len(changed["lines"]) == 1 and changed["OrderTotal"] == 500
    client.delete_record(Entity.DELIVERY, number)
    with pytest.raises(NotFoundError):
        client.get_record(Entity.DELIVERY, number)


def test_orders_are_listed_with_their_lines(client, sandbox, debtor):
    debtor(Account="1")
    for n in range(7):
        order, _ = sandbox.company().insert("DebtorOrderClient", {"Account": "1"})
        for _ in range(n % 3 + 1):
            sandbox.company().insert("DebtorOrderLineClient", {"OrderNumber": order["OrderNumber"], "Qty": 1})
    orders = list(client.list_records(Entity.DELIVERY, page_size=3))
    assert [len(o["lines"]) for o in orders] == [1, 2, 3, 1, 2, 3, 1]


def test_invoices_cannot_be_made_through_the_rest_api_and_posted_ones_are_never_changed(client, debtor, item,
                                                                                         sandbox, recorder):
    debtor(Account="1")
    item("1001")
    assert not client.can_create(Entity.INVOICE) and client.can_create(Entity.DELIVERY)
    with pytest.raises(VendorValidationError, match="cannot post invoices"):
        client.create_record(Entity.INVOICE, {"Account": "1", "lines": [{"Item": "1001", "Qty": 3}]})
    assert not [e for e in recorder.exchanges if e.method != "GET"]  # nothing was sent
    order = client.create_record(Entity.DELIVERY, {"Account": "1", "lines": [{"Item": "1001", "Qty": 3}]})
    invoice = sandbox.invoice_order(order["OrderNumber"])  # a person invoices it in Uniconta
    assert invoice["NetAmount"] == 300 and invoice["TotalAmount"] == 375 and invoice["lines"][0]["InvoiceQty"] == 3
    number = client.record_id(Entity.INVOICE, invoice)
    assert client.get_record(Entity.INVOICE, number)["JournalPostedId"] == invoice["JournalPostedId"]
    with pytest.raises(VendorValidationError):
        client.update_record(Entity.INVOICE, number, {"Remark": "x"})
    with pytest.raises(VendorValidationError):
        client.delete_record(Entity.INVOICE, number)


def test_the_rest_face_has_no_posting_routes(client):
    for path in ("api/Invoice/PostInvoice/DebtorOrderClient", "api/Posting/PostDailyJournal/GLDailyJournalClient"):
        with pytest.raises(NotFoundError):
            client.request("POST", path, json={})


def test_several_rows_go_in_one_insert_list_call_and_one_row_in_an_insert(client, recorder):
    rows = [{"Journal": "POS", "Date": date(2025, 5, 2), "Text": "Dag 2", **line}
            for line in ({"Account": "5820", "Debit": Decimal("1250")}, {"Account": "1010", "Credit": Decimal("1000")},
                         {"Account": "6900", "Credit": Decimal("250")})]
    created = client.create_records(Entity.DAILY_REPORT, rows)
    assert len(created) == 3 and all(r.get("RowId") for r in created)
    writes = [e for e in recorder.exchanges if e.method == "POST"]
    assert [e.path for e in writes] == ["/api/Entities/InsertList/GLDailyJournalLineClient"]
    assert isinstance(writes[0].request_body, list)
    client.create_records(Entity.DAILY_REPORT, rows[:1])
    last = [e for e in recorder.exchanges if e.method == "POST"][-1]
    assert last.path == "/api/Entities/Insert/GLDailyJournalLineClient" and isinstance(last.request_body, dict)
    assert len(list(client.list_records(Entity.JOURNAL_LINE))) == 4


def test_a_refused_row_in_a_list_leaves_the_table_as_it_was(client, sandbox):
    rows = [{"Journal": "POS", "Date": date(2025, 5, 2), "Account": "5820", "Debit": Decimal("1")},
            {"Journal": "NO-SUCH-JOURNAL", "Date": date(2025, 5, 2), "Account": "1010", "Credit": Decimal("1")}]
    with pytest.raises(VendorValidationError):
        client.create_records(Entity.DAILY_REPORT, rows)
    assert sandbox.company().rows("GLDailyJournalLineClient") == []


def test_insert_refuses_an_array_and_insert_list_an_object(client):
    with pytest.raises(VendorValidationError, match="JSON object"):
        client.request("POST", "api/Entities/Insert/DebtorClient", json=[{"Name": "A"}, {"Name": "B"}])
    with pytest.raises(VendorValidationError, match="JSON array"):
        client.request("POST", "api/Entities/InsertList/DebtorClient", json={"Name": "A"})


# -- failures, retries and limits -------------------------------------------------------------------------
def test_a_429_is_waited_out_for_as_long_as_uniconta_asks(client, sandbox, waits, debtor):
    debtor()
    now = [1000.0]
    sandbox.clock = lambda: now[0]
    sandbox.knobs.rate_limit = (2, 30.0)
    client.sleep = lambda seconds: (waits.append(seconds), now.__setitem__(0, now[0] + seconds))
    names = [client.get_record(Entity.ORGANISATION, "10001")["Name"] for _ in range(3)]
    assert names == ["Nordlys Byg A/S"] * 3
    assert len(waits) == 1 and waits[0] >= 30 and client.calls == 4


def test_rate_limited_after_the_last_attempt(recorder, sandbox):
    sandbox.knobs.rate_limit = (1, 60.0)
    client = provider.client(base_url=BASE_URL, credentials=CREDENTIALS, sleep=lambda s: None, max_attempts=3)
    client.check_connection()
    with pytest.raises(RateLimitedError) as limited:
        client.check_connection()
    assert limited.value.retry_after is not None and 1 <= limited.value.retry_after <= 60
    assert client.calls == 4


def test_server_errors_are_retried_with_backoff(client, sandbox, waits, debtor):
    debtor()
    sandbox.fail_next(2)
    assert client.get_record(Entity.ORGANISATION, "10001")["Account"] == "10001"
    assert client.calls == 3 and len(waits) == 2


def test_server_errors_give_up_after_max_attempts(recorder, sandbox):
    client = provider.client(base_url=BASE_URL, credentials=CREDENTIALS, sleep=lambda s: None, max_attempts=3)
    sandbox.fail_next(10)
    with pytest.raises(TransientError) as failed:
        client.check_connection()
    assert failed.value.status == 503 and failed.value.vendor_message == "The service is unavailable."
    assert client.calls == 3


def test_an_insert_is_not_repeated_after_a_server_error(client, sandbox):
    sandbox.fail_next(1, status=500)
    with pytest.raises(TransientError):
        client.create_record(Entity.ORGANISATION, {"Name": "Once"})
    assert client.calls == 1


def test_timeouts_are_transient_and_every_call_has_one(client, monkeypatch):
    assert client.timeout == (5.0, 30.0)
    seen = []

    def too_slow(*args, **kwargs):
        seen.append(kwargs["timeout"])
        raise requests.ReadTimeout("slow")

    monkeypatch.setattr(client.session, "request", too_slow)
    with pytest.raises(TransientError, match=r"^Uniconta did not answer in time") as raised:
        client.check_connection()
    assert seen == [(5.0, 30.0)] * client.max_attempts
    assert raised.value.system == "uniconta"  # so the engine can tell which side of the pair failed


@pytest.mark.parametrize("body, message", [
    (b'{"ErrorCode": "KeyExists", "Message": "Debtor 1 already exists"}', "Debtor 1 already exists"),
    (b'{"ErrorCode": "KeyExists"}', "Uniconta error KeyExists"),
    (b'"NoLinesToUpdate"', "Uniconta error NoLinesToUpdate"),
    (b'{"odata.error": {"code": "", "message": {"lang": "en-US", "value": "Bad filter"}}}', "Bad filter"),
    (b"Service Unavailable", "Service Unavailable"),
])
def test_vendor_messages_are_read_from_each_uniconta_error_shape(client, body, message):
    response = requests.Response()
    response.status_code, response._content = 400, body
    assert client.vendor_message(response) == message


def test_find_records_matches_before_create_with_one_filtered_query(client, recorder, sandbox, debtor):
    debtor(Account="1", CompanyRegNo="12345678", ContactEmail="Info@Nordlys.dk")
    debtor(Account="2", CompanyRegNo="87654321")
    sandbox.company().insert("ContactClient", {"Name": "Mette", "Email": "Mette.Jensen@Nordlys.dk "})
    sandbox.company().insert("ContactClient", {"Name": "Mette J", "Email": "mette.jensen@nordlys.dk.old"})
    assert [r["Account"] for r in client.find_records(Entity.ORGANISATION, "CompanyRegNo", " 12345678 ")] == ["1"]
    assert [r["Name"] for r in client.find_records(Entity.PERSON, "Email", "mette.jensen@nordlys.dk")] == ["Mette"]
    assert client.find_records(Entity.ORGANISATION, "ContactEmail", "") == []
    filters = [e.query["$filter"] for e in recorder.exchanges if e.method == "GET"]
    assert filters == ["startswith(tolower(CompanyRegNo), '12345678')",
                       "startswith(tolower(Email), 'mette.jensen@nordlys.dk')"]


def test_the_catalog_names_the_matching_fields():
    catalog = provider.catalog()
    assert catalog.entity(Entity.ORGANISATION).role("vat") == "CompanyRegNo"
    assert catalog.entity(Entity.PERSON).role("email") == "Email"
    assert catalog.entity(Entity.ITEM).role("number") == "Item"
    assert catalog.entity(Entity.USER).role("email") == "Email"
