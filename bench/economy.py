"""API economy: calls per changed and per unchanged record during a safety reconciliation.

10k organisations are linked and in step on both sides (seeded straight into the sandboxes' stores,
with links and hashes as the engine stores them after a sync). A share of them then changes without
any webhook (as if the notices were lost): half in webCRM, half in Uniconta. The reconciliation runs,
the workers process what it found, and the sandboxes' request logs say what was read and written.
"""

from __future__ import annotations

from bench.common import Timer, django_start, drain, pair_setup, report, scaled

RECORDS = scaled(10_000, minimum=200)
CHANGED_SHARE = 0.05


def writes(sandbox) -> int:
    """Successful writes a sandbox served (logins are not writes)."""
    return sum(1 for r in sandbox.requests if r.method != "GET" and r.status < 400 and "/Auth/" not in r.path)


def calls(sandbox) -> int:
    return sum(1 for r in sandbox.requests if "/Auth/" not in r.path)


def seed_linked(integration, sandboxes, count: int) -> tuple[list[str], list[str]]:
    """``count`` organisations in step on both sides and linked; returns (webCRM ids, Uniconta ids)."""
    from integrations.engine.apply import record_label, side_hash
    from integrations.engine.context import context_for
    from integrations.engine.mapping import TO_ERP, jsonable, map_record, map_value
    from integrations.models import SyncLink

    ctx = context_for(integration, "organisation")
    store, company = sandboxes["webcrm"].store, sandboxes["uniconta"].company()
    table = company.tables["DebtorClient"]
    links, crm_ids, erp_ids = [], [], []
    template = None
    for n in range(count):
        org = store.create(
            "Organisations",
            {
                "OrganisationName": f"Kunde {n:05} ApS",
                "OrganisationType": "Kunde",
                "OrganisationCity": "Vejle",
                "OrganisationAddress": f"Havnegade {n}",
                "OrganisationPostCode": "7100",
                "OrganisationExtraCustom1": str(50000 + n),
            },
        )
        values = {k: v for k, v in map_record(org, ctx.rules(TO_ERP)).values.items() if v not in (None, "")}
        if template is None:
            template, _ = company.insert("DebtorClient", values)
            debtor = template
        else:  # the same row Uniconta stores, without its O(n) key check per insert
            debtor = {**template, **values, "RowId": table.new_id()}
            table.rows[str(debtor["RowId"])] = debtor
        crm_id, erp_id = ctx.crm.record_id(org), ctx.erp.record_id(debtor)
        links.append(
            SyncLink(
                tenant_id=integration.tenant_id,
                integration=integration,
                entity="organisation",
                crm_id=crm_id,
                erp_id=erp_id,
                crm_hash=side_hash(ctx, ctx.crm, org),
                erp_hash=side_hash(ctx, ctx.erp, debtor),
                synced_values={r.key: jsonable(map_value(r, org.get(r.source))) for r in ctx.rules(TO_ERP)},
                label=record_label(ctx.crm, org),
            )
        )
        crm_ids.append(crm_id)
        erp_ids.append(erp_id)
    SyncLink.objects.bulk_create(links, batch_size=1000)
    ctx.close()
    return crm_ids, erp_ids


def main() -> None:
    django_start()
    from integrations.engine.runs import reconcile_entity, run_start
    from integrations.models import InboundEvent, SyncLogEntry

    integration, sandboxes = pair_setup(
        sandbox_knobs={"webcrm": {"rate_limit": (0, 0)}, "uniconta": {"rate_limit": (0, 0)}}
    )
    crm, erp = sandboxes["webcrm"], sandboxes["uniconta"]
    crm_ids, erp_ids = seed_linked(integration, sandboxes, RECORDS)
    changed = max(2, int(RECORDS * CHANGED_SHARE))
    step = RECORDS // changed
    changed_crm = {crm_ids[i] for i in range(0, RECORDS, step)[:changed]}
    company = erp.company()
    for index, n in enumerate(range(0, RECORDS, step)[:changed]):
        if index % 2 == 0:  # changed in webCRM's screens, its notice lost
            record = crm.store.get("Organisations", int(crm_ids[n]))
            crm.store.replace(
                "Organisations", int(crm_ids[n]), {**record, "OrganisationCity": "Fredericia"}, by="webCRM user"
            )
        else:  # changed in Uniconta, its change URL never called
            row = company.find("DebtorClient", Account=erp_ids[n])
            company.update("DebtorClient", {**row, "City": "Kolding"})
    for sandbox in (crm, erp):
        sandbox.clear_log()

    run = run_start(integration=integration, kind="reconcile", entity="organisation")
    with Timer() as listing:
        drift = reconcile_entity(run=run, client_options={"sleep": lambda s: None, "rate_limiter": None})
    list_calls = calls(crm) + calls(erp)
    with Timer() as processing:
        drain()
    total_writes = writes(crm) + writes(erp)
    process_calls = calls(crm) + calls(erp) - list_calls
    touched_unchanged = (
        SyncLogEntry.objects.filter(run=run, action__in=["created", "updated", "deleted"])
        .exclude(crm_id__in=changed_crm)
        .count()
    )
    # A second reconciliation must find nothing and write nothing.
    for sandbox in (crm, erp):
        sandbox.clear_log()
    second = run_start(integration=integration, kind="reconcile", entity="organisation")
    second_drift = reconcile_entity(run=second, client_options={"sleep": lambda s: None, "rate_limiter": None})
    drain()
    report(
        {
            "records": RECORDS,
            "changed": changed,
            "drift_found": drift,
            "events": InboundEvent.objects.count(),
            "writes_per_changed": round(total_writes / changed, 3),
            "writes_per_unchanged": round(touched_unchanged / (RECORDS - changed), 4),
            "list_calls_per_record": round(list_calls / (2 * RECORDS), 4),
            "calls_per_changed": round(process_calls / changed, 2),
            "second_run_drift": second_drift,
            "second_run_writes": writes(crm) + writes(erp),
            "listing_seconds": round(listing.seconds, 2),
            "processing_seconds": round(processing.seconds, 2),
        }
    )


if __name__ == "__main__":
    main()
