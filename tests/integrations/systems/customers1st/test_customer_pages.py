"""Customer and product pages are built from the stored rows: the same answer as making every object first."""

from __future__ import annotations

import pytest

from integrations.systems import transport
from integrations.systems.customers1st import sandbox_store as store
from integrations.systems.customers1st.sandbox import DEMO_TOKEN

from .conftest import API, BASE

AUTH = {"Authorization": f"Bearer {DEMO_TOKEN}"}


@pytest.fixture
def http(sandbox):
    for number, (name, phone) in enumerate([("Åse Berg", "22 33 44 55"), ("anders berg", None),
                                            ("Bo Holm", "+46 70 123 45 67"), ("Berg & Co", "11 22 33 44")]):
        sandbox.add_customer({"name": name, "phone": phone, "email": f"kunde{number}@example.dk",
                              "customerno": f"C{number % 2}"})
    with transport.mounted(BASE, sandbox):
        session = transport.build_session()
        yield session
        session.close()


def every_object_first(sandbox, args: dict[str, str]) -> dict:
    """The page as made when every stored customer is made into a ``Customer`` before filtering and sorting."""
    rows = [store.customer_object(r) for r in sandbox.customers.values() if not r.get("deleted")]
    if args.get("customerno"):
        rows = [r for r in rows if r.get("customerno") == args["customerno"]]
    if args.get("name"):
        rows = [r for r in rows if args["name"].lower() in (r.get("name") or "").lower()]
    field = args.get("sortField") or "id"
    rows = sorted(rows, key=lambda r: (r.get(field) is None, r.get(field) or 0), reverse=args.get("sortOrder") == "-1")
    start, length = int(args.get("paginationStart", 0)), int(args.get("paginationPageLength", 50))
    return {"content": rows[start:start + length], "count": None, "hasMore": start + length < len(rows)}


@pytest.mark.parametrize("args", [
    {},
    {"sortField": "name", "sortOrder": "-1"},
    {"sortField": "phone_e164"},  # made from the phone: every customer is made to sort by it
    {"sortField": "tags", "paginationStart": "1", "paginationPageLength": "2"},
    {"name": "berg", "sortField": "name"},
    {"customerno": "C1", "paginationPageLength": "1"},
])
def test_a_customer_page_is_what_the_objects_give(sandbox, http, args):
    answer = http.get(f"{API}/customers", params=args, headers=AUTH)
    assert answer.status_code == 200
    assert answer.json() == every_object_first(sandbox, args) | {"count": None}


def test_an_unknown_parameter_is_still_refused_before_any_page_is_made(http):
    answer = http.get(f"{API}/customers", params={"sortField": "name", "colour": "blue"}, headers=AUTH)
    assert answer.status_code == 400
