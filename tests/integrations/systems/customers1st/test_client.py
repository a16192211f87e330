"""The Customers 1st client against its sandbox: auth, paging, changes, errors and retries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs

import pytest

from integrations.systems import transport
from integrations.systems.catalog import Entity
from integrations.systems.customers1st import provider
from integrations.systems.customers1st.client import store_timestamp
from integrations.systems.errors import (
    AuthError,
    NotFoundError,
    RateLimitedError,
    TransientError,
    VendorValidationError,
)

from .conftest import BASE, HOOKS, Flaky, make_client


def queries(sandbox, path: str) -> list[dict[str, list[str]]]:
    return [parse_qs(r.query) for r in sandbox.requests if r.path == path]


def add_customers(sandbox, count: int) -> list[int]:
    return [sandbox.add_customer({"name": f"Kunde {n}", "customerno": str(20000 + n)})["id"] for n in range(count)]


def test_check_connection_names_the_store(client):
    assert client.check_connection() == "Customers 1st store Nordlys Cykler & Sport"


def test_a_wrong_token_is_an_auth_error_with_the_vendors_words(sandbox):
    with transport.mounted(BASE, sandbox):
        client = make_client(sandbox, credentials={"api_token": "not-a-token"})
        with pytest.raises(AuthError) as caught:
            client.check_connection()
    assert caught.value.status == 401
    assert caught.value.vendor_message == "Unauthorized (UNAUHTORIZED)"
    assert client.calls == 1  # a refused token is not retried


def test_no_token_fails_before_calling():
    client = provider.client(base_url="https://customers1st.test/api", credentials={"api_token": " "})
    with pytest.raises(AuthError):
        client.check_connection()
    assert client.calls == 0


def test_a_revoked_token_fails_and_a_new_one_recovers(sandbox, client):
    assert client.check_connection()
    sandbox.revoke_token(client.credentials["api_token"])
    with pytest.raises(AuthError):
        client.get_record(Entity.ORGANISATION, "1")
    client.update_credentials(api_token=sandbox.issue_token("Synkro 2"))
    assert client.check_connection().startswith("Customers 1st store")


def test_lists_page_until_has_more_is_false(sandbox, client):
    add_customers(sandbox, 7)
    names = [r["name"] for r in client.list_records(Entity.ORGANISATION, page_size=3)]
    assert names == [f"Kunde {n}" for n in range(7)]
    pages = queries(sandbox, "/customers")
    assert [(q["paginationStart"], q["paginationPageLength"]) for q in pages] == [
        (["0"], ["3"]), (["3"], ["3"]), (["6"], ["3"])]


def test_listing_is_lazy(sandbox, client):
    add_customers(sandbox, 6)
    records = client.list_records(Entity.ORGANISATION, page_size=2)
    assert next(records)["name"] == "Kunde 0"
    assert sandbox.count("GET", "/customers") == 1


def test_page_length_never_passes_the_vendors_ceiling(sandbox, client):
    add_customers(sandbox, 2)
    assert len(list(client.list_records(Entity.ORGANISATION, page_size=1000))) == 2
    assert queries(sandbox, "/customers")[0]["paginationPageLength"] == ["250"]


def test_modified_since_asks_for_updated_after(sandbox, client):
    clock = {"now": datetime(2026, 3, 2, 9, 0, 0)}
    sandbox.now = lambda: clock["now"]
    first, second, _ = add_customers(sandbox, 3)
    clock["now"] += timedelta(hours=2)
    client.update_record(Entity.ORGANISATION, str(second), {"city": "Odense C"})
    changed = list(client.list_records(Entity.ORGANISATION, modified_since=datetime(2026, 3, 2, 10, 0, 0)))
    assert [r["id"] for r in changed] == [second]
    assert queries(sandbox, "/customers")[-1]["updated_after"] == ["2026-03-02 10:00:00"]
    assert first not in [r["id"] for r in changed]


def test_store_timestamps_are_local_copenhagen_time():
    assert store_timestamp(datetime(2026, 7, 1, 10, 0, tzinfo=UTC)) == "2026-07-01 12:00:00"
    assert store_timestamp(datetime(2026, 1, 1, 10, 0, tzinfo=UTC)) == "2026-01-01 11:00:00"
    assert store_timestamp(date(2026, 1, 5)) == "2026-01-05 00:00:00"


def test_update_reads_merges_and_puts_so_nothing_is_nulled(sandbox, client):
    created = client.create_record(Entity.ORGANISATION, {"name": "Egholm Byg A/S", "phone": "+4512345678",
                                                         "city": "Vejle", "customerno": "10077"})
    updated = client.update_record(Entity.ORGANISATION, str(created["id"]), {"city": "Kolding"})
    assert (updated["city"], updated["phone"], updated["customerno"]) == ("Kolding", "+4512345678", "10077")
    assert sandbox.customers[created["id"]]["phone"] == "+4512345678"


def test_create_drops_read_only_fields(sandbox, client):
    created = client.create_record(Entity.ITEM, {"title": "Termokande", "productno": "T-1", "price": 125.0,
                                                 "id": 999, "pricewithoutvat": 1.0})
    assert created["id"] != 999
    assert created["pricewithoutvat"] == 100.0


def test_a_missing_record_is_not_found_with_the_vendors_message(client):
    with pytest.raises(NotFoundError) as caught:
        client.get_record(Entity.ORGANISATION, "424242")
    assert caught.value.vendor_message == "Customer not found"
    with pytest.raises(NotFoundError) as caught:
        client.get_record(Entity.ITEM, "424242")
    assert "PRODUCT_NOT_FOUND" in caught.value.vendor_message


def test_a_deleted_customer_is_gone(client):
    created = client.create_record(Entity.ORGANISATION, {"name": "Skovly Revision I/S"})
    client.delete_record(Entity.ORGANISATION, str(created["id"]))
    with pytest.raises(NotFoundError):
        client.get_record(Entity.ORGANISATION, str(created["id"]))


@pytest.mark.parametrize(("data", "expected"), [
    ({"title": "Jakke", "productno": "1001"}, "already exists (PRODUCT_PRODUCTNO_EXISTS)"),
    ({"title": " "}, "PRODUCT_TITLE_INVALID"),
    ({"title": "Jakke 2", "price": "mange penge"}, "Request validation failed: content.price error_type"),
    ({"title": "Jakke 3", "colour": "Navy"}, "content.colour error_additional"),
])
def test_refused_products_carry_the_vendors_message(sandbox, client, data, expected):
    sandbox.add_product({"title": "Jakke", "productno": "1001"})
    with pytest.raises(VendorValidationError) as caught:
        client.create_record(Entity.ITEM, data)
    assert caught.value.status == 400
    assert expected in caught.value.vendor_message
    assert client.calls == 1


def test_an_invalid_ean_is_refused(client):
    with pytest.raises(VendorValidationError, match="Invalid EAN"):
        client.create_record(Entity.ORGANISATION, {"name": "Kystens Handel", "ean": "5790000000001"})
    assert client.create_record(Entity.ORGANISATION, {"name": "Kystens Handel", "ean": "5790000000005"})["id"]


def test_over_the_bucket_is_rate_limited_with_retry_after():
    sandbox = provider.sandbox(rate_limit=(2, 1000.0))
    sandbox.clock = lambda: 0.0
    with transport.mounted(BASE, sandbox):
        client = make_client(sandbox, max_attempts=1)
        client.check_connection()
        client.check_connection()
        with pytest.raises(RateLimitedError) as caught:
            client.check_connection()
    assert caught.value.retry_after == 500.0
    assert caught.value.vendor_message == "API Resource limit reached."


def test_a_429_without_retry_after_waits_for_one_token_of_the_bucket():
    sandbox = provider.sandbox(rate_limit=(0, 0))
    flaky = Flaky(sandbox, [429])
    original = sandbox.rate_limited_response

    def without_header(retry_after):
        response = original(retry_after)
        del response.headers["Retry-After"]
        return response

    sandbox.rate_limited_response = without_header
    with transport.mounted(BASE, flaky):
        client = make_client(flaky, max_attempts=1)
        with pytest.raises(RateLimitedError) as caught:
            client.check_connection()
    assert caught.value.retry_after == pytest.approx(1 / 8)


def test_a_429_is_retried_after_the_time_it_asks_for():
    sandbox = provider.sandbox(rate_limit=(1, 2.0))
    clock = {"now": 0.0}
    sandbox.clock = lambda: clock["now"]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock["now"] += seconds

    with transport.mounted(BASE, sandbox):
        client = make_client(sandbox, sleep=sleep)
        client.check_connection()
        assert client.check_connection()
    assert len(slept) == 1 and slept[0] >= 2.0
    assert [r.status for r in sandbox.requests] == [200, 429, 200]


def test_5xx_is_retried_until_it_passes(sandbox):
    flaky = Flaky(sandbox, [500, 503])
    with transport.mounted(BASE, flaky):
        client = make_client(flaky)
        assert client.get_record(Entity.ORGANISATION, str(add_customers(sandbox, 1)[0]))["name"] == "Kunde 0"
    assert flaky.seen == 3


def test_5xx_gives_up_after_max_attempts():
    sandbox = provider.sandbox(rate_limit=(0, 0), error_rate=1.0)
    with transport.mounted(BASE, sandbox):
        client = make_client(sandbox, max_attempts=3)
        with pytest.raises(TransientError) as caught:
            client.check_connection()
    assert client.calls == 3
    assert caught.value.vendor_message == "Internal server error (SERVER_ERROR)"


def test_a_create_is_not_repeated_after_a_5xx(sandbox):
    flaky = Flaky(sandbox, [502])
    with transport.mounted(BASE, flaky):
        client = make_client(flaky)
        with pytest.raises(TransientError):
            client.create_record(Entity.ORGANISATION, {"name": "Fjordens Catering"})
    assert flaky.seen == 1
    assert sandbox.customers == {}


def test_our_writes_raise_no_hooks_unless_asked(sandbox, client, receiver):
    sandbox.subscribe(f"{HOOKS}/hook", "customer.created")
    client.create_record(Entity.ORGANISATION, {"name": "Lindegaard Trælast"})
    assert receiver.calls == []
    client.suppress_hooks = False
    client.create_record(Entity.ORGANISATION, {"name": "Møllers Transport"})
    assert [e["content"]["name"] for e in receiver.events()] == ["Møllers Transport"]


def test_a_pos_sale_round_trips_with_its_lines_and_discount(sandbox, client):
    product = sandbox.add_product({"title": "Regnbukser", "productno": "R-1", "price": 400.0, "stockno": 10})
    register = sandbox.add_register("Kasse 1")
    sale = client.create_record(Entity.POS_SALE, {
        "cashRegisterId": register,
        "lines": [{"productid": product["id"], "title": "Regnbukser", "price": 400.0, "quantity": 2, "vat": 25,
                   "costprice": 180.0, "discountToken": 0.5},
                  {"title": "Rabat", "price": -80.0, "quantity": 1, "vat": 25, "discountToken": 0.7,
                   "discountedToken": 0.5}],
        "paymenttypes": [{"title": "Kontant", "amount": 720.0, "cash": 1}]})
    read = client.get_record(Entity.POS_SALE, str(sale["id"]))
    assert (read["sum"], read["discountsum"], read["paidwithcash"], read["cashregister.title"]) == (
        720.0, 80.0, 720.0, "Kasse 1")
    line, discount = read["lines"]
    assert (line["product.productno"], line["quantity"], line["discount_ppm_id"]) == ("R-1", 2, discount["id"])
    assert sandbox.products[product["id"]]["stockno"] == 8
    listed = list(client.list_records(Entity.POS_SALE))
    assert listed[0]["lines"] and queries(sandbox, "/pospayments")[-1]["extra"] == ["1"]


def test_a_sale_paid_short_is_refused(sandbox, client):
    with pytest.raises(VendorValidationError, match="PAYMENT_NOT_PAID_ENOUGH"):
        client.create_record(Entity.POS_SALE, {
            "lines": [{"title": "Kaffe", "price": 50.0, "quantity": 1, "vat": 25}],
            "paymenttypes": [{"title": "Kontant", "amount": 20.0, "cash": 1}]})


def test_daily_reports_are_listed_since_a_date_and_found_by_id(sandbox, client):
    register = sandbox.add_register("Kasse 2", startamount=500.0)
    clock = {"now": datetime(2026, 3, 1, 18, 0, 0)}
    sandbox.now = lambda: clock["now"]
    sandbox.add_payment({"cashRegisterId": register, "articles": [
        {"title": "Kaffe", "price": 40.0, "quantity": 1, "vat": 25}],
        "paymenttypes": [{"title": "Kontant", "amount": 40.0, "cash": 1}]}, user_id=1)
    early = sandbox.close_register(register, user_id=1)
    clock["now"] = datetime(2026, 3, 2, 18, 0, 0)
    late = sandbox.close_register(register, user_id=1, cash_counted=480.0)
    reports = list(client.list_records(Entity.DAILY_REPORT, modified_since=date(2026, 3, 2)))
    assert [r["id"] for r in reports] == [late["id"]]
    assert late["cashdifference"] == -20.0
    found = client.get_record(Entity.DAILY_REPORT, str(early["id"]))
    assert (found["totalrevenue"], found["cashrevenue"], found["numpayments"]) == (40.0, 40.0, 1)
    with pytest.raises(NotImplementedError):
        client.create_record(Entity.DAILY_REPORT, {})


def test_users_and_registers(sandbox, client):
    sandbox.add_register("Kasse 1")
    assert [r["title"] for r in client.list_registers()] == ["Kasse 1"]
    created = client.create_record(Entity.USER, {"name": "Line Madsen", "email": "line@nordlys-demo.dk"})
    client.update_record(Entity.USER, str(created["id"]), {"email": "lm@nordlys-demo.dk"})
    assert client.get_record(Entity.USER, str(created["id"]))["email"] == "lm@nordlys-demo.dk"
    client.delete_record(Entity.USER, str(created["id"]))
    with pytest.raises(NotFoundError):
        client.get_record(Entity.USER, str(created["id"]))


def test_hooks_are_subscribed_and_unsubscribed(sandbox, client):
    hook_id = client.subscribe("customer.updated", f"{HOOKS}/in/abc")
    assert [(h["id"], h["event"]) for h in client.list_hooks()] == [(hook_id, "customer.updated")]
    client.unsubscribe(hook_id)
    assert client.list_hooks() == []
    with pytest.raises(VendorValidationError, match="Invalid event"):
        client.subscribe("customer.exploded", f"{HOOKS}/in/abc")


def test_record_id_is_the_vendor_id(client):
    assert client.record_id(Entity.ORGANISATION, {"id": 17, "customerno": "10001"}) == "17"
