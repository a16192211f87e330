"""Serve one vendor sandbox on 127.0.0.1 in its own process, seeded with N organisations.

``python -m bench.sandbox_server uniconta 100000`` prints ``port <n>`` once it listens. Keeping the
vendor's data out of the worker's process lets the worker's memory be measured on its own.
"""

from __future__ import annotations

import sys

from bench.common import django_start


def seed_debtors(sandbox, count: int) -> None:
    """``count`` debtors as Uniconta stores them, without the O(n) key check of each insert."""
    company = sandbox.company()
    table = company.tables["DebtorClient"]
    template, _ = company.insert(
        "DebtorClient",
        {"Name": "Importkunde 000000 ApS", "City": "Vejle", "Address1": "Havnegade 1", "ZipCode": "7100"},
    )
    for n in range(1, count):
        row = dict(template)
        row.update(
            RowId=table.new_id(),
            Account=str(int(template["Account"]) + n),
            Name=f"Importkunde {n:06} ApS",
            Address1=f"Havnegade {n}",
        )
        table.rows[str(row["RowId"])] = row


def main() -> None:
    django_start(migrate=False)  # the registry of systems reads the settings
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from werkzeug.serving import make_server

    from integrations.systems.registry import get_system

    system, count = sys.argv[1], int(sys.argv[2])
    sandbox = get_system(system).sandbox(rate_limit=(0, 0))
    if system == "uniconta":
        seed_debtors(sandbox, count)
    server = make_server("127.0.0.1", 0, sandbox, threaded=True)
    print(f"port {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
