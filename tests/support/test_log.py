"""The sync log: every filter, keyset pages that neither overlap nor skip, the detail with its chain."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import InboundEvent, SyncLink, SyncLogEntry
from support.selectors import Keyset, log_filter, log_page

from .conftest import url

pytestmark = pytest.mark.django_db


def ids(world, **params) -> set[int]:
    narrowed = log_filter(tenant=world.tenant, params=params)
    assert narrowed.is_valid(), narrowed.errors
    return set(narrowed.qs.values_list("pk", flat=True))


def local(days_ago: int, hour: int, minute: int = 0) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


@pytest.fixture
def mixed(world, log):
    SyncLogEntry.objects.all().delete()
    second = world.rows.pos_integration
    return {
        "failed_org": log(action="failed", label="Havbrise Byg ApS", crm_id="101", erp_id="",
                          error="Uniconta refused the data: xRegion is unknown", at=local(0, 0, 1)),
        "created_person": log(entity="person", action="created", label="Mette Holm", crm_id="202", erp_id="55",
                              reason="A new person in webCRM", at=local(1, 12)),
        "updated_back": log(action="updated", direction="to_crm", label="Skovly Tømrer I/S", crm_id="303",
                            erp_id="10042", at=local(3, 12)),
        "skipped_pos": log(integration=second, entity="item", action="skipped", label="Kaffe 250 g", crm_id="404",
                           reason="Type “Prospect” is not one of “Kunde”", at=local(0, 0, 2)),
    }


def test_each_filter_narrows_the_log(world, mixed):
    m = {name: entry.pk for name, entry in mixed.items()}
    assert ids(world) == set(m.values())
    assert ids(world, integration=world.rows.pos_integration.pk) == {m["skipped_pos"]}
    assert ids(world, entity="person") == {m["created_person"]}
    assert ids(world, action="failed") == {m["failed_org"]}
    assert ids(world, direction="to_crm") == {m["updated_back"]}
    assert ids(world, record="303") == {m["updated_back"]}  # the webCRM id
    assert ids(world, record="10042") == {m["updated_back"]}  # the ERP id
    assert ids(world, q="havbrise") == {m["failed_org"]}  # the label
    assert ids(world, q="prospect") == {m["skipped_pos"]}  # the reason
    assert ids(world, q="xRegion") == {m["failed_org"]}  # the error
    today = timezone.localdate()
    assert ids(world, since=str(today - dt.timedelta(days=1)), until=str(today)) == {
        m["failed_org"], m["skipped_pos"], m["created_person"]}
    assert ids(world, since=str(today)) == {m["failed_org"], m["skipped_pos"]}
    assert ids(world, until=str(today - dt.timedelta(days=2))) == {m["updated_back"]}
    assert ids(world, action="failed", entity="person") == set()


def test_an_integration_of_another_tenant_is_not_a_valid_choice(world, mixed):
    narrowed = log_filter(tenant=world.tenant, params={"integration": world.other_integration.pk})
    assert not narrowed.is_valid()


def test_the_log_screen_applies_the_filter_and_links_to_the_detail(client, world, mixed):
    client.force_login(world.customer)
    body = client.get(url("log-list", world), {"q": "Havbrise"}).content.decode()
    assert "Havbrise Byg ApS" in body and "Mette Holm" not in body
    assert url("log-detail", world, mixed["failed_org"].pk) in body
    assert "Replay all failed" not in body  # a customer does not replay


def test_keyset_pages_neither_overlap_nor_skip_and_survive_new_entries(world, log):
    SyncLogEntry.objects.all().delete()
    moment = timezone.now() - dt.timedelta(hours=1)
    # Several entries share one timestamp: the id breaks the tie.
    written = [log(at=moment - dt.timedelta(seconds=n // 3)) for n in range(25)]
    entries = log_filter(tenant=world.tenant, params={}).qs
    seen, after = [], None
    first = log_page(entries=entries, size=7)
    pages = [first]
    log(at=timezone.now())  # a new entry arrives while someone pages: it belongs before page one
    after = first.next
    while after is not None:
        page = log_page(entries=entries, after=after, size=7)
        pages.append(page)
        after = page.next
    for page in pages:
        seen.extend(e.pk for e in page.entries)
    assert len(seen) == len(set(seen)) == 25
    assert seen == [e.pk for e in sorted(written, key=lambda e: (e.at, e.pk), reverse=True)]
    assert [len(p.entries) for p in pages] == [7, 7, 7, 4]


def test_the_next_page_link_carries_the_last_at_and_id_and_keeps_the_filter(client, world, log):
    SyncLogEntry.objects.all().delete()
    for n in range(55):
        log(minutes_ago=n, action="failed" if n % 2 else "updated")
    client.force_login(world.support)
    response = client.get(url("log-list", world), {"action": "failed"})
    page = response.context["page"]
    assert len(page.entries) == 27 and page.next is None  # 27 failed: one page
    response = client.get(url("log-list", world))
    page = response.context["page"]
    assert len(page.entries) == 50 and page.next == Keyset(at=page.entries[-1].at, id=page.entries[-1].pk)
    next_url = response.context["next_url"]
    assert "after_at=" in next_url and f"after_id={page.entries[-1].pk}" in next_url
    older = client.get(next_url).context["page"]
    assert len(older.entries) == 5 and not {e.pk for e in older.entries} & {e.pk for e in page.entries}


def test_the_detail_shows_changes_reason_error_and_the_chain(client, world, log):
    integration = world.integration
    event = InboundEvent.objects.create(tenant=world.tenant, integration=integration, system="webcrm",
                                        entity="organisation", action="updated", external_id="777", deliveries=3,
                                        attempts=2, state="failed", last_error="Uniconta refused the data")
    SyncLink.objects.create(tenant=world.tenant, integration=integration, entity="organisation", crm_id="777",
                            erp_id="10077", label="Havbrise Byg ApS")
    entry = log(action="failed", crm_id="777", erp_id="10077", label="Havbrise Byg ApS", event=event,
                changes={"City": ["Aarhus", "Aarhus C"]}, reason="An update of an organisation in webCRM failed.",
                error="Uniconta refused the data: xRegion is not a field", vendor_message="Unknown field xRegion")
    client.force_login(world.customer)
    response = client.get(url("log-detail", world, entry.pk))
    body = response.content.decode()
    assert "Aarhus C" in body and "An update of an organisation in webCRM failed." in body
    assert "xRegion is not a field" in body
    assert "10077" in body and "777" in body
    assert "Deliveries</dt><dd>3" in body and "Attempts</dt><dd>2" in body
    chain = response.context["chain"]
    assert chain.event == event and chain.link.erp_id == "10077"
    assert chain.entity_sync.entity == "organisation" and chain.mappings
    assert chain.mappings[0].erp_field in body
    assert '<button type="submit">Replay</button>' not in body  # customers do not replay
