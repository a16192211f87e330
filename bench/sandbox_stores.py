"""What the sandboxes cost per call, at a given number of rows: read by id, a filtered list page, a create.

Run: ``DJANGO_SETTINGS_MODULE=config.settings .venv/bin/python -m bench.sandbox_stores 1000 100000``. Each sandbox is
filled straight in its store (copies of one record made through its API), then each operation is timed through
Synkro's own client over the in-process transport; the figures are medians in milliseconds.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Any

import django

#: The size being measured: fewer repeats at large sizes, where the figures vary little.
ROWS = 0


def _median_ms(action, repeat: int) -> float:
    repeat = repeat if ROWS < 10_000 else max(3, repeat // 3)
    times = []
    for number in range(repeat):
        started = time.perf_counter()
        action(number)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _client(key: str, base_url: str) -> Any:
    from integrations.systems.registry import get_system

    provider = get_system(key)
    return provider.client_class(base_url=base_url, credentials=provider.demo_credentials, sleep=lambda s: None,
                                 max_attempts=1)


def webcrm(rows: int) -> dict[str, float]:
    from integrations.systems import transport
    from integrations.systems.catalog import Entity
    from integrations.systems.webcrm.sandbox import WebcrmSandbox

    sandbox = WebcrmSandbox(rate_limit=(0, 0))
    table = sandbox.store.tables["Organisations"]
    template = sandbox.store.create("Organisations", {"OrganisationName": "Firma 0"})
    for number in range(1, rows):
        record = dict(template, OrganisationId=table.next_id, OrganisationName=f"Firma {number}",
                      OrganisationCompareName=f"firma {number}")
        table.rows[str(table.next_id)] = record
        table.next_id += 1
    with transport.mounted("https://webcrm.test", sandbox):
        client = _client("webcrm", "https://webcrm.test")
        return {
            "read by id": _median_ms(lambda n: client.get_record(Entity.ORGANISATION, str(rows // 2 + n)), 30),
            "list page (filter)": _median_ms(lambda n: client.find_records(
                Entity.ORGANISATION, "OrganisationName", f"Firma {rows // 3 + n}"), 15),
            "list page": _median_ms(lambda n: client.json("GET", "/Organisations", params={"Page": 3, "Size": 50}),
                                    15),
            "create": _median_ms(lambda n: client.create_record(Entity.ORGANISATION,
                                                                {"OrganisationName": f"Ny {n}"}), 15),
        }


def uniconta(rows: int) -> dict[str, float]:
    from integrations.systems import transport
    from integrations.systems.catalog import Entity
    from integrations.systems.uniconta.sandbox import UnicontaSandbox

    sandbox = UnicontaSandbox(rate_limit=(0, 0))
    company = sandbox.company()
    table = company.tables["DebtorClient"]
    # Accounts outside Uniconta's number series (from 10001), so that a create's next number is free at once.
    template, _changes = company.insert("DebtorClient", {"Name": "Firma 0", "Account": "K0"})
    for number in range(1, rows):
        row_id = table.new_id()
        table.rows[str(row_id)] = dict(template, RowId=row_id, Account=f"K{number}", Name=f"Firma {number}")
    with transport.mounted("https://uniconta.test", sandbox):
        client = _client("uniconta", "https://uniconta.test")
        return {
            "read by id": _median_ms(lambda n: client.get_record(Entity.ORGANISATION, f"K{rows // 2 + n}"), 15),
            "list page (filter)": _median_ms(lambda n: client.find_records(
                Entity.ORGANISATION, "Name", f"Firma {rows // 3 + n}"), 15),
            "list page": _median_ms(lambda n: client.json("GET", "odata/1234/DebtorClient",
                                                          params={"$top": "50", "$skip": "100"}), 15),
            "create": _median_ms(lambda n: client.create_record(Entity.ORGANISATION, {"Name": f"Ny {n}"}), 15),
        }


def fortnox(rows: int) -> dict[str, float]:
    from integrations.systems import transport
    from integrations.systems.catalog import Entity
    from integrations.systems.fortnox.sandbox import FortnoxSandbox

    sandbox = FortnoxSandbox(rate_limit=(0, 0))
    company = sandbox.company
    template = company.create(Entity.ORGANISATION, {"Name": "Firma 0"})
    for number in range(1, rows):
        company.put(Entity.ORGANISATION, dict(template, CustomerNumber=str(number + 1), Name=f"Firma {number}"))
    with transport.mounted("https://fortnox.test", sandbox):
        client = _client("fortnox", "https://fortnox.test")
        return {
            "read by id": _median_ms(lambda n: client.get_record(Entity.ORGANISATION, str(rows // 2 + n)), 15),
            "list page (filter)": _median_ms(lambda n: client.json(
                "GET", "customers", params={"lastmodified": "2000-01-01 00:00", "page": 3, "limit": 100}), 15),
            "list page": _median_ms(lambda n: client.json("GET", "customers", params={"page": 3, "limit": 100}), 15),
            "create": _median_ms(lambda n: client.create_record(Entity.ORGANISATION, {"Name": f"Ny {n}"}), 15),
        }


def vismanet(rows: int) -> dict[str, float]:
    from integrations.systems import transport
    from integrations.systems.catalog import Entity
    from integrations.systems.vismanet.sandbox import VismaNetSandbox

    sandbox = VismaNetSandbox(rate_limit=(0, 0))
    store = sandbox.store
    template = store.create(Entity.ORGANISATION, {"name": {"value": "Firma 0"}})
    for number in range(1, rows):
        store.insert(Entity.ORGANISATION, str(20000 + number),
                     dict(template, number=str(20000 + number), name=f"Firma {number}"))
    with transport.mounted("https://vismanet.test", sandbox):
        client = _client("vismanet", "https://vismanet.test")
        return {
            "read by id": _median_ms(lambda n: client.get_record(Entity.ORGANISATION, str(20000 + rows // 2 + n)),
                                     15),
            "list page (filter)": _median_ms(lambda n: client.json("GET", client._path(Entity.ORGANISATION), params={
                "lastModifiedDateTime": "2000-01-01T00:00:00.000", "pageNumber": 3, "pageSize": 100}), 15),
            "list page": _median_ms(lambda n: client.json("GET", client._path(Entity.ORGANISATION),
                                                          params={"pageNumber": 3, "pageSize": 100}), 15),
            "create": _median_ms(lambda n: client.create_record(Entity.ORGANISATION, {"name": f"Ny {n}"}), 15),
        }


def customers1st(rows: int) -> dict[str, float]:
    from integrations.systems import transport
    from integrations.systems.catalog import Entity
    from integrations.systems.customers1st.sandbox import Customers1stSandbox

    sandbox = Customers1stSandbox(rate_limit=(0, 0))
    template = sandbox.add_customer({"name": "Firma 0", "email": "firma0@example.dk"})
    for number in range(1, rows):
        customer_id = sandbox.next_id("customers")
        sandbox.customers[customer_id] = dict(template, id=customer_id, name=f"Firma {number}",
                                              email=f"firma{number}@example.dk")
    with transport.mounted("https://c1st.test", sandbox):
        client = _client("customers1st", "https://c1st.test")
        return {
            "read by id": _median_ms(lambda n: client.get_record(Entity.ORGANISATION, str(rows // 2 + n)), 15),
            "list page (filter)": _median_ms(lambda n: client.json(
                "GET", "customers", params={"email": f"firma{rows // 3 + n}@example.dk"}), 15),
            "list page": _median_ms(lambda n: client.json(
                "GET", "customers", params={"paginationStart": 200, "paginationPageLength": 100}), 15),
            "create": _median_ms(lambda n: client.create_record(Entity.ORGANISATION, {"name": f"Ny {n}"}), 15),
        }


def main(sizes: list[int]) -> None:
    django.setup()
    global ROWS
    for size in sizes:
        ROWS = size
        wanted = os.environ.get("SANDBOXES", "webcrm,uniconta,fortnox,vismanet,customers1st").split(",")
        for name, measure in (("webCRM", webcrm), ("Uniconta", uniconta), ("Fortnox", fortnox),
                              ("Visma.net", vismanet), ("C1st", customers1st)):
            if measure.__name__ not in wanted:
                continue
            figures = measure(size)
            print(f"{name:9} {size:>7} rows  " + "  ".join(f"{k}: {v:8.2f} ms" for k, v in figures.items()),
                  flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000])
