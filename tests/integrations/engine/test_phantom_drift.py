"""A reconciliation compares only what a list answer holds: fields a list leaves out are not drift."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from integrations.engine.runs import import_entity, reconcile_entity, run_start
from integrations.models import EventSource, InboundEvent, RunState, SyncLink
from integrations.systems.catalog import Entity
from integrations.systems.fortnox.client import FortnoxClient
from integrations.systems.fortnox.records import LIST_ITEM_FIELDS
from integrations.systems.fortnox.sandbox_store import LIST_FIELDS
from tests.harness import QUIET, drain, make_pair

ORG = Entity.ORGANISATION
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def pair(db, synkro, sandboxes):
    pair = make_pair("webcrm", "fortnox", sandboxes)
    # The customers were made this morning; the reconciliations run now.
    morning = (timezone.now() - dt.timedelta(hours=6)).astimezone(STOCKHOLM).replace(tzinfo=None, microsecond=0)
    pair.erp.now = lambda: morning
    for n, (www, terms) in enumerate([("https://alby-el.se", "30"), ("https://bjorkvik-ror.se", "10"),
                                      ("", "30"), ("https://dalsjo-tak.se", "")], start=1):
        pair.erp_client.create_record(ORG, {"Name": f"Kund {n} AB", "City": "Uppsala", "WWW": www,
                                            "TermsOfPayment": terms})
    InboundEvent.objects.all().delete()  # linked by the initial import below
    run = run_start(integration=pair.integration, kind="import", entity="organisation")
    import_entity(run=run, client_options=QUIET)
    drain()
    assert SyncLink.objects.filter(integration=pair.integration).exclude(erp_id="").exclude(crm_id="").count() == 4
    return pair


def reconcile(pair):
    run = run_start(integration=pair.integration, kind="reconcile", entity="organisation")
    drift = reconcile_entity(run=run, client_options=QUIET)
    run.refresh_from_db()
    # Finished once listed when nothing differs; otherwise running until the differences are processed.
    assert run.state == (RunState.RUNNING if drift else RunState.DONE)
    assert run.total == (drift or None)
    return run, drift


def single_reads(sandbox) -> int:
    return sum(1 for r in sandbox.requests if r.method == "GET" and r.path.startswith("/3/customers/"))


def reconcile_events() -> int:
    return InboundEvent.objects.filter(source=EventSource.RECONCILE).count()


def test_the_fortnox_list_omits_what_the_spec_list_item_omits():
    listed = {"Phone1" if name == "Phone" else name for name in LIST_FIELDS[ORG]}
    assert listed | {"@url"} == LIST_ITEM_FIELDS[ORG]
    assert {"WWW", "TermsOfPayment", "Active"}.isdisjoint(LIST_ITEM_FIELDS[ORG])


def test_the_sandbox_list_answer_lacks_website_and_terms(pair):
    customer = next(iter(pair.erp_client.list_records(ORG)))
    whole = pair.erp_client.get_record(ORG, customer["CustomerNumber"])
    assert whole["WWW"] == "https://alby-el.se" and whole["TermsOfPayment"] == "30"
    assert "WWW" not in customer and "TermsOfPayment" not in customer
    assert isinstance(pair.erp_client, FortnoxClient) and "WWW" not in pair.erp_client.list_fields(ORG)


def test_two_reconciliations_in_a_row_find_no_drift_and_the_second_reads_nothing_whole(pair):
    first, first_drift = reconcile(pair)
    reads_after_first = single_reads(pair.erp)
    second, second_drift = reconcile(pair)

    assert (first_drift, first.drift, second_drift, second.drift) == (0, 0, 0, 0)
    assert reconcile_events() == 0
    assert single_reads(pair.erp) == reads_after_first  # the second run proved everything from the list


def test_a_website_changed_without_notice_is_drift_once(pair):
    reconcile(pair)
    number = SyncLink.objects.filter(integration=pair.integration).order_by("erp_id").first().erp_id
    pair.erp.now = lambda: timezone.now().astimezone(STOCKHOLM).replace(tzinfo=None, microsecond=0)
    pair.erp_client.update_record(ORG, number, {"WWW": "https://alby-elservice.se"})  # no poll sees it
    InboundEvent.objects.all().delete()

    _, drift = reconcile(pair)

    assert drift == 1
    assert list(InboundEvent.objects.filter(source=EventSource.RECONCILE).values_list("external_id", flat=True)) == \
        [number]
    drain()
    [org] = [o for o in pair.crm_client.list_records(ORG) if o["OrganisationExtraCustom1"] == number]
    assert org["OrganisationWww"] == "https://alby-elservice.se"
    _, after = reconcile(pair)
    assert after == 0


def test_a_listed_field_changed_without_notice_is_drift(pair):
    reconcile(pair)
    number = SyncLink.objects.filter(integration=pair.integration).order_by("-erp_id").first().erp_id
    pair.erp_client.update_record(ORG, number, {"City": "Enköping"})  # on the morning clock: only the list tells

    _, drift = reconcile(pair)

    assert drift == 1
