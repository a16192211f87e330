"""Records put straight into the sandboxes' stores (no HTTP, no webhooks), for tests that need many of them.

``linked_organisations`` makes webCRM organisations and Uniconta debtors that are in step and linked, with
the hashes and agreed values the engine stores after a sync; ``webcrm_organisations`` makes unlinked ones.
"""

from __future__ import annotations

from typing import Any

from integrations.engine.apply import record_label, side_hash
from integrations.engine.context import context_for
from integrations.engine.mapping import TO_ERP, jsonable, map_record, map_value
from integrations.models import SyncLink


def webcrm_organisations(pair, count: int, *, prefix: str = "Ny kunde", **values: Any) -> list[dict]:
    """``count`` webCRM organisations of type Kunde (unless ``values`` say otherwise), not linked to anything."""
    store = pair.crm.store
    return [store.create("Organisations", {"OrganisationName": f"{prefix} {n:05} ApS", "OrganisationType": "Kunde",
                                           "OrganisationCity": "Vejle", **values}) for n in range(count)]


def linked_organisations(pair, count: int, **values: Any) -> list[tuple[dict, dict]]:
    """``count`` organisations in step on both sides and linked; returns (webCRM record, Uniconta debtor) pairs."""
    ctx = context_for(pair.integration, "organisation")
    store, company = pair.crm.store, pair.erp.company()
    table = company.tables["DebtorClient"]
    pairs, links, template = [], [], None
    for n in range(count):
        org = store.create("Organisations", {
            "OrganisationName": f"Kunde {n:05} ApS", "OrganisationType": "Kunde", "OrganisationCity": "Vejle",
            "OrganisationAddress": f"Havnegade {n}", "OrganisationPostCode": "7100",
            "OrganisationExtraCustom1": str(50000 + n), **values})
        mapped = {k: v for k, v in map_record(org, ctx.rules(TO_ERP)).values.items() if v not in (None, "")}
        if template is None:
            template, _ = company.insert("DebtorClient", mapped)
            debtor = template
        else:  # the row Uniconta would store, without its key check per insert
            debtor = {**template, **mapped, "RowId": table.new_id()}
            table.rows[str(debtor["RowId"])] = debtor
        links.append(SyncLink(
            tenant_id=pair.integration.tenant_id, integration=pair.integration, entity="organisation",
            crm_id=ctx.crm.record_id(org), erp_id=ctx.erp.record_id(debtor),
            crm_hash=side_hash(ctx, ctx.crm, org), erp_hash=side_hash(ctx, ctx.erp, debtor),
            synced_values={r.key: jsonable(map_value(r, org.get(r.source))) for r in ctx.rules(TO_ERP)},
            label=record_label(ctx.crm, org)))
        pairs.append((org, debtor))
    SyncLink.objects.bulk_create(links, batch_size=1000)
    ctx.close()
    return pairs


def rename_in_webcrm(pair, org: dict, name: str) -> None:
    """Change an organisation's name in webCRM's store, as a person would (no webhook is sent)."""
    rows = pair.crm.store.tables["Organisations"].rows
    rows[str(org["OrganisationId"])]["OrganisationName"] = name
    rows.touch(str(org["OrganisationId"]))  # a change in place: the store's indexes are told


def writes(sandbox) -> int:
    """Requests that would change something in a sandbox (logins are not writes)."""
    return sum(1 for r in sandbox.requests if r.method != "GET" and "/Auth/" not in r.path)
