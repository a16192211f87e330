"""Polling on the vendor's clock: the overlap window, the night summer time ends, and records read twice."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest

from integrations.engine.clock import MARGIN, change_window_start, client_window_start
from integrations.engine.poll import poll_entity
from integrations.models import InboundEvent, PollCursor, SyncLink
from integrations.systems.catalog import Entity
from integrations.systems.customers1st.client import Customers1stClient
from integrations.systems.fortnox.client import FortnoxClient
from integrations.systems.fortnox.records import format_lastmodified
from integrations.systems.uniconta.client import UnicontaClient
from integrations.systems.vismanet.client import VismaNetClient
from integrations.systems.webcrm.client import WebcrmClient
from tests.harness import QUIET, drain, make_pair

UTC = dt.UTC
STOCKHOLM = ZoneInfo("Europe/Stockholm")
ORG = Entity.ORGANISATION


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


# -- the window, as plain arithmetic ------------------------------------------------------------------------
def test_the_window_reaches_back_over_the_hour_the_wall_clock_repeats():
    # 02:50 summer time (00:50 UTC) on 25 October 2026; the next poll at 02:20 winter time (01:20 UTC).
    since = change_window_start(cursor=utc(2026, 10, 25, 0, 50), now=utc(2026, 10, 25, 1, 20), zone=STOCKHOLM,
                                step=dt.timedelta(minutes=1))

    assert format_lastmodified(since) == "2026-10-25 01:47"  # 02:47 less the hour the clock went back
    assert format_lastmodified(since) <= "2026-10-25 02:10"  # a change at 02:10 winter time is inside


def test_an_ordinary_night_and_the_spring_night_need_no_extra_hour():
    ordinary = change_window_start(cursor=utc(2026, 10, 24, 0, 50), now=utc(2026, 10, 24, 1, 20), zone=STOCKHOLM,
                                   step=dt.timedelta(minutes=1))
    spring = change_window_start(cursor=utc(2026, 3, 29, 0, 50), now=utc(2026, 3, 29, 1, 20), zone=STOCKHOLM,
                                 step=dt.timedelta(minutes=1))

    assert ordinary == utc(2026, 10, 24, 0, 47)
    assert spring == utc(2026, 3, 29, 0, 47)  # the clock jumps forward: wall-clock times only grow


def test_a_utc_filter_keeps_the_plain_overlap_on_the_autumn_night():
    since = change_window_start(cursor=utc(2026, 10, 25, 0, 50), now=utc(2026, 10, 25, 1, 20))

    assert since == utc(2026, 10, 25, 0, 50) - dt.timedelta(seconds=1) - MARGIN


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        change_window_start(cursor=dt.datetime(2026, 10, 25, 0, 50), now=utc(2026, 10, 25, 1, 20))


@pytest.mark.parametrize(("client_class", "zone", "step"), [
    (FortnoxClient, "Europe/Stockholm", dt.timedelta(minutes=1)),
    (Customers1stClient, "Europe/Copenhagen", dt.timedelta(seconds=1)),
    (UnicontaClient, "UTC", dt.timedelta(seconds=1)),
    (VismaNetClient, "UTC", dt.timedelta(seconds=1)),
    (WebcrmClient, "UTC", dt.timedelta(seconds=1)),
])
def test_each_client_names_the_clock_of_its_change_filter(client_class, zone, step):
    assert str(client_class.change_filter_zone) == zone
    assert client_class.change_filter_step == step


def test_customers1st_local_filter_also_reaches_back_on_the_autumn_night():
    class Store:
        change_filter_zone = ZoneInfo("Europe/Copenhagen")
        change_filter_step = dt.timedelta(seconds=1)

    since = client_window_start(Store(), cursor=utc(2026, 10, 25, 0, 50), now=utc(2026, 10, 25, 1, 20))

    assert since == utc(2026, 10, 25, 0, 50) - dt.timedelta(seconds=1) - MARGIN - dt.timedelta(hours=1)


# -- Fortnox end to end ------------------------------------------------------------------------------------
@pytest.fixture
def pair(db, synkro, sandboxes):
    return make_pair("webcrm", "fortnox", sandboxes)


class SwedishClock:
    """The Fortnox sandbox's wall clock (naive Swedish time), set by the test."""

    def __init__(self, sandbox):
        self.wall = dt.datetime(2026, 10, 24, 12, 0)
        sandbox.now = lambda: self.wall

    def at(self, moment: dt.datetime) -> dt.datetime:
        """Set the wall clock to ``moment`` (aware) and return ``moment``."""
        self.wall = moment.astimezone(STOCKHOLM).replace(tzinfo=None)
        return moment


def poll(pair, now: dt.datetime) -> int:
    return poll_entity(integration=pair.integration, system="fortnox", entity=ORG, now=now, client_options=QUIET)


def asked_lastmodified(sandbox) -> str:
    [query] = [r.query for r in sandbox.requests if r.method == "GET" and r.path == "/3/customers"][-1:]
    return parse_qs(query)["lastmodified"][0]


def test_a_customer_changed_in_the_repeated_hour_is_polled(pair):
    clock = SwedishClock(pair.erp)
    poll(pair, clock.at(utc(2026, 10, 25, 0, 10)))  # 02:10 summer time: the clock starts
    poll(pair, clock.at(utc(2026, 10, 25, 0, 20)))  # 02:20 summer time
    poll(pair, clock.at(utc(2026, 10, 25, 0, 50)))  # 02:50 summer time
    clock.at(utc(2026, 10, 25, 1, 10))  # 02:10 winter time, an hour later than the poll before
    customer = pair.erp_client.create_record(ORG, {"Name": "Hallonbergs Måleri AB", "City": "Sundbyberg"})

    stored = poll(pair, clock.at(utc(2026, 10, 25, 1, 20)))  # 02:20 winter time

    assert stored == 1
    assert asked_lastmodified(pair.erp) == "2026-10-25 01:47"
    assert InboundEvent.objects.filter(integration=pair.integration, system="fortnox",
                                       external_id=customer["CustomerNumber"]).count() == 1


def test_the_overlap_reads_a_customer_again_but_stores_it_once(pair):
    clock = SwedishClock(pair.erp)
    poll(pair, clock.at(utc(2026, 11, 2, 9, 0)))
    clock.at(utc(2026, 11, 2, 9, 0, 30))
    customer = pair.erp_client.create_record(ORG, {"Name": "Täby Ventilation AB", "City": "Täby",
                                                   "WWW": "https://tabyventilation.se", "TermsOfPayment": "30"})
    number = customer["CustomerNumber"]
    assert poll(pair, clock.at(utc(2026, 11, 2, 9, 1))) == 1
    drain()
    assert SyncLink.objects.filter(integration=pair.integration, erp_id=number).exists()
    listed_before = sum(1 for r in pair.erp.requests if r.path == "/3/customers")

    again = poll(pair, clock.at(utc(2026, 11, 2, 9, 2)))  # the window reaches back over the customer's change

    assert sum(1 for r in pair.erp.requests if r.path == "/3/customers") == listed_before + 1
    assert again == 0
    assert InboundEvent.objects.filter(integration=pair.integration, system="fortnox", external_id=number).count() == 1
    assert PollCursor.objects.get(integration=pair.integration, system="fortnox", entity=ORG).recent_ids == [number]


def test_a_customer_changed_again_within_the_overlap_is_stored_again(pair):
    clock = SwedishClock(pair.erp)
    poll(pair, clock.at(utc(2026, 11, 2, 9, 0)))
    clock.at(utc(2026, 11, 2, 9, 0, 30))
    customer = pair.erp_client.create_record(ORG, {"Name": "Roslags Bygg AB", "WWW": "https://roslagsbygg.se"})
    number = customer["CustomerNumber"]
    poll(pair, clock.at(utc(2026, 11, 2, 9, 1)))
    drain()
    clock.at(utc(2026, 11, 2, 9, 1, 20))
    pair.erp_client.update_record(ORG, number, {"WWW": "https://roslags-bygg.se"})  # a field the list lacks

    assert poll(pair, clock.at(utc(2026, 11, 2, 9, 2))) == 1
    drain()
    [org] = [o for o in pair.crm_client.list_records(ORG) if o["OrganisationName"] == "Roslags Bygg AB"]
    assert org["OrganisationWww"] == "https://roslags-bygg.se"
