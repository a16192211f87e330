"""The sync log with a million entries: server time of its first page and of a filtered page.

The entries are made with bulk_create in batches, spread over two integrations of the tenant and a
year of time, every action and entity represented. When the tenant's log page (``/t/<slug>/log/``)
exists it is timed through Django's test client as a logged-in support member; otherwise the keyset
query that page runs is timed through the ORM: the tenant's and integration's entries ordered by
(-at, -id), 50 at a time, the next page starting after the last (at, id) seen.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import timedelta

from bench.common import django_start, report, scaled

ENTRIES = scaled(1_000_000, minimum=20_000)
BATCH = 5000
PAGE = 50
REPEATS = 15


def build(tenant, integrations) -> None:
    from django.db import transaction
    from django.utils import timezone

    from integrations.models import SyncLogEntry

    rng = random.Random(5)
    actions = ["created", "updated", "updated", "updated", "skipped", "skipped", "conflict", "failed"]
    entities = ["organisation", "person", "item", "delivery"]
    start = timezone.now() - timedelta(days=365)
    step = timedelta(days=365) / ENTRIES
    made = 0
    while made < ENTRIES:
        rows = []
        for n in range(made, min(ENTRIES, made + BATCH)):
            action = rng.choice(actions)
            rows.append(
                SyncLogEntry(
                    tenant=tenant,
                    integration=integrations[n % len(integrations)],
                    entity=rng.choice(entities),
                    direction=rng.choice(["to_erp", "to_crm"]),
                    action=action,
                    crm_id=str(n),
                    erp_id=str(100000 + n),
                    label=f"Kunde {n} ApS",
                    changes={"City": ["Vejle", "Kolding"]} if action == "updated" else {},
                    reason="Updated in Uniconta." if action == "updated" else "",
                    error="Uniconta had a temporary problem (503)" if action == "failed" else "",
                )
            )
        with transaction.atomic():
            SyncLogEntry.objects.bulk_create(rows, batch_size=BATCH)
        made += len(rows)
    # ``at`` is auto_now_add: spread it over the year afterwards, in the same batches.
    with transaction.atomic():
        ids = list(SyncLogEntry.objects.order_by("id").values_list("id", flat=True))
        for offset in range(0, len(ids), BATCH):
            chunk = ids[offset : offset + BATCH]
            SyncLogEntry.objects.filter(id__gte=chunk[0], id__lte=chunk[-1]).update(at=start + step * offset)


def timed(fn) -> float:
    times = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    django_start()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Q
    from django.test import Client
    from django.urls import Resolver404, resolve

    from bench.common import pair_setup
    from integrations.models import SyncLogEntry
    from tenants.models import Membership, Role

    integration, _ = pair_setup(slug="logbench", webhooks=False, synkro_app=False)
    tenant = integration.tenant
    other = type(integration).objects.create(
        tenant=tenant,
        name="webCRM ↔ Uniconta 2",
        crm_connection=integration.crm_connection,
        erp_connection=integration.erp_connection,
    )
    began = time.perf_counter()
    build(tenant, [integration, other])
    build_seconds = time.perf_counter() - began
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE integrations_synclogentry")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    url = f"/t/{tenant.slug}/log/"
    user = get_user_model().objects.create_user("bench-support", password="x")  # noqa: S106
    Membership.objects.create(user=user, tenant=tenant, role=Role.SUPPORT)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    try:
        resolve(url)
        has_page = client.get(url).status_code == 200
    except Resolver404:
        has_page = False

    if has_page:

        def first():
            assert client.get(url).status_code == 200

        def filtered():
            assert (
                client.get(url, {"integration": integration.pk, "action": "failed", "entity": "delivery"}).status_code
                == 200
            )

        measured = "the page /t/<slug>/log/ through Django's test client"
    else:

        def page(query, after=None):
            if after is not None:
                query = query.filter(Q(at__lt=after[0]) | Q(at=after[0], id__lt=after[1]))
            return list(query.order_by("-at", "-id")[:PAGE])

        base = SyncLogEntry.objects.filter(tenant=tenant, integration=integration)

        def first():
            rows = page(base)
            assert len(rows) == PAGE

        def filtered():
            query = base.filter(action="failed", entity="delivery")
            rows = page(query)
            rows = page(query, after=(rows[-1].at, rows[-1].id))  # and the page after it
            assert len(rows) == PAGE

        measured = "the keyset query of SyncLogEntry through the ORM (the log page is not built yet)"
    first()
    filtered()
    report(
        {
            "entries": SyncLogEntry.objects.count(),
            "build_seconds": round(build_seconds, 1),
            "first_page_ms": round(timed(first), 2),
            "filtered_page_ms": round(timed(filtered), 2),
            "database": connection.vendor,
            "measured": measured,
        }
    )


if __name__ == "__main__":
    main()
