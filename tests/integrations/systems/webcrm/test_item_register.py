"""Items live in webCRM's quotation-line register (``/QuotationLines/LinkedData``), and lines point at them."""

from __future__ import annotations

from integrations.systems.catalog import Entity
from integrations.systems.webcrm.catalog import LINKED

from ..contract import assert_request_matches, assert_response_matches, spec_source  # noqa: F401
from .conftest import add_organisation

SPEC = "webcrm-swagger.json"


def item(number: str, name: str, **values) -> dict:
    return {f"{LINKED}Data1": number, f"{LINKED}Data2": name, **values}


def test_an_item_is_written_whole_with_a_dash_for_empty_columns_and_read_back_empty(client, mounted):
    created = client.create_record(Entity.ITEM, item("1001", "Arbejdsjakke", **{f"{LINKED}Price": 160.2,
                                                                                f"{LINKED}CostPrice": 100.1}))

    [post] = [e for e in mounted.exchanges if e.method == "POST" and e.path == "/QuotationLines/LinkedData"]
    assert_request_matches(SPEC, "/QuotationLines/LinkedData", "post", post.request_body)
    assert post.request_body[f"{LINKED}Data3"] == "-" and post.request_body[f"{LINKED}EntityType"] == "Product"
    assert (created[f"{LINKED}Data1"], created[f"{LINKED}Data3"], created[f"{LINKED}Price"]) == ("1001", "", 160.2)
    read = next(e for e in mounted.exchanges if e.method == "GET" and e.path.startswith("/QuotationLines/LinkedData/"))
    assert_response_matches(SPEC, "/QuotationLines/LinkedData/{id}", "get", read.response_body)


def test_the_register_is_listed_in_one_call_whatever_the_change_moment(client, mounted, wall):
    for number in ("1001", "1002", "1003"):
        client.create_record(Entity.ITEM, item(number, f"Vare {number}"))
    mounted.exchanges.clear()

    listed = list(client.list_records(Entity.ITEM, modified_since=wall.moment, page_size=2))

    assert [row[f"{LINKED}Data1"] for row in listed] == ["1001", "1002", "1003"]
    assert [(e.path, e.query) for e in mounted.exchanges] == [("/QuotationLines/LinkedData", {})]
    assert client.filters_by_change(Entity.ITEM) is False and client.filters_by_change(Entity.PERSON) is True


def test_an_item_is_found_by_its_number_through_the_linked_data_table(client, mounted):
    client.create_record(Entity.ITEM, item("1001", "Arbejdsjakke"))
    wanted = client.create_record(Entity.ITEM, item("1002", "Regnjakke"))

    [found] = client.find_records(Entity.ITEM, f"{LINKED}Data1", " 1002 ")

    assert found[f"{LINKED}Id"] == wanted[f"{LINKED}Id"]
    query = next(e for e in mounted.exchanges if e.path == "/Queries")
    assert "FROM LinkedData WHERE LinkedDataItemEntityType = 7 AND LinkedDataItemData1 = '1002'" in (
        query.query["script"])


def test_a_line_points_at_its_item_only_when_one_item_has_its_number(client, sandbox, mounted):
    organisation = add_organisation(sandbox, "Nordlys Byg A/S")
    jacket = client.create_record(Entity.ITEM, item("1001", "Arbejdsjakke"))
    for _ in range(2):
        client.create_record(Entity.ITEM, item("2002", "Dobbelt nummer"))

    delivery = client.create_record(Entity.DELIVERY, {
        "DeliveryOrganisationId": organisation["OrganisationId"],
        "lines": [{"QuotationLineData1": "1001", "QuotationLineQuantity": 2.0},
                  {"QuotationLineData1": "2002", "QuotationLineQuantity": 1.0},
                  {"QuotationLineData1": "9999", "QuotationLineQuantity": 1.0}]})

    posted = [e.request_body for e in mounted.exchanges if e.method == "POST" and e.path == "/QuotationLines"]
    for body in posted:
        assert_request_matches(SPEC, "/QuotationLines", "post", body)
    assert [body.get("QuotationLineLinkedDataId", 0) for body in posted] == [jacket[f"{LINKED}Id"], 0, 0]
    assert [line["QuotationLineData1"] for line in delivery["lines"]] == ["1001", "2002", "9999"]
    assert all("QuotationLineLinkedDataId" not in line for line in delivery["lines"])  # QuotationLineDto lacks it
