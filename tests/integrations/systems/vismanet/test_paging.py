"""Visma.net lists page by the metadata on each record: ``totalCount`` and the server's ``maxPageSize``.

Visma serves at most ``maxPageSize`` records a page whatever ``pageSize`` asks, so a short page is not the end.
"""

from __future__ import annotations

from integrations.systems import transport
from integrations.systems.catalog import Entity
from integrations.systems.vismanet import provider
from integrations.systems.vismanet.client import page_metadata

from .conftest import BASE_URL, make_client


def _seed(app, count: int) -> None:
    for i in range(count):
        app.store.create(Entity.ORGANISATION, {"name": {"value": f"Kunde {i:03d} AS"}})


def test_three_hundred_customers_with_a_cap_of_a_hundred_all_arrive():
    app = provider.sandbox(rate_limit=(0, 0), max_page_size=100)
    _seed(app, 300)
    with transport.mounted(BASE_URL, app):
        client = make_client()
        names = [r["name"] for r in client.list_records(Entity.ORGANISATION, page_size=500)]
    assert names == [f"Kunde {i:03d} AS" for i in range(300)]
    queries = [r.query for r in app.requests if r.path == "/v1/customer"]
    assert queries == ["pageSize=500&pageNumber=1", "pageSize=100&pageNumber=2", "pageSize=100&pageNumber=3"]


def test_the_sandbox_caps_the_page_and_says_so_like_visma():
    app = provider.sandbox(rate_limit=(0, 0), max_page_size=100)
    _seed(app, 300)
    with transport.mounted(BASE_URL, app):
        client = make_client()
        page = client.json("GET", "/v1/customer", params={"pageNumber": 1, "pageSize": 500})
    assert len(page) == 100
    assert page_metadata(page) == (300, 100)
    assert all(row["metadata"] == {"totalCount": 300, "maxPageSize": 100} for row in page)


def test_a_list_shorter_than_the_cap_is_one_call():
    app = provider.sandbox(rate_limit=(0, 0), max_page_size=100)
    _seed(app, 40)
    with transport.mounted(BASE_URL, app):
        assert len(list(make_client().list_records(Entity.ORGANISATION, page_size=500))) == 40
    assert app.count("GET", "/v1/customer") == 1


def test_without_metadata_only_an_empty_page_ends_the_list():
    assert page_metadata([{"number": "1"}]) == (None, None)
    assert page_metadata([]) == (None, None)
    assert page_metadata([{"metadata": {"totalCount": "12", "maxPageSize": "x"}}]) == (12, None)
