"""Rate-limit use: a bulk sync against a vendor limited to 25 requests per 5 s (Fortnox's published limit).

Uniconta's sandbox is given that sliding-window limit and the engine's shared DatabaseRateLimiter is
sized for it; webCRM is left unlimited, so the limited side is what paces the run. A safety
reconciliation finds organisations that exist only in webCRM and the workers create them in Uniconta
(each record: a lookup, the insert, and the read of the insert's own change notice). The figure is the
share of the ceiling (25 per 5 s over the run's wall time) that the sync achieved, and its 429s.
"""

from __future__ import annotations

import time

from bench.common import django_start, drain, pair_setup, report, scaled

LIMIT, WINDOW = 25, 5.0
RECORDS = scaled(100, minimum=12)


def main() -> None:
    django_start()
    from integrations.engine.runs import reconcile_entity, run_start
    from integrations.systems.registry import get_system

    get_system("uniconta").rate_limit = (LIMIT, WINDOW)  # the connection's vendor limit, for client_for()
    get_system("webcrm").rate_limit = None
    integration, sandboxes = pair_setup(
        sandbox_knobs={"webcrm": {"rate_limit": (0, 0)}, "uniconta": {"rate_limit": (LIMIT, WINDOW)}}
    )
    crm, erp = sandboxes["webcrm"], sandboxes["uniconta"]
    for n in range(RECORDS):
        crm.store.create(
            "Organisations",
            {"OrganisationName": f"Bulk {n:04} A/S", "OrganisationType": "Kunde", "OrganisationCity": "Odense"},
        )
    time.sleep(WINDOW)  # the registration's requests leave the window
    erp.clear_log()
    options: dict = {}  # real sleeping, the shared limiter of each connection
    started = time.monotonic()
    run = run_start(integration=integration, kind="reconcile", entity="organisation")
    reconcile_entity(run=run, client_options=options)
    drain(client_options=options)
    elapsed = time.monotonic() - started
    requests = [r for r in erp.requests]
    throttled = sum(1 for r in requests if r.status == 429)
    ceiling = elapsed * LIMIT / WINDOW
    report(
        {
            "limit": f"{LIMIT}/{WINDOW:g}s",
            "records": RECORDS,
            "requests": len(requests),
            "seconds": round(elapsed, 1),
            "share_of_ceiling": round(len(requests) / ceiling, 3),
            "throttled_429": throttled,
            "created": len(erp.company().rows("DebtorClient")),
        }
    )


if __name__ == "__main__":
    main()
