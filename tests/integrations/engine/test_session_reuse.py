"""Events of one connection in one worker reuse its HTTP session; another connection never gets it."""

from __future__ import annotations

import pytest

from integrations.systems import transport
from tests.harness import drain, make_pair


@pytest.fixture
def pool(monkeypatch):
    fresh = transport.SessionPool()
    monkeypatch.setattr(transport, "sessions", fresh)
    yield fresh
    fresh.clear()


def test_a_second_event_of_a_connection_reuses_the_session_of_the_first(db, synkro, sandboxes, pool):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    pair.webcrm_hooks("Organisations")
    built_by_the_test = pool.built  # the pair's own clients hold theirs
    for name in ("Havbrise Byg ApS", "Skovly Tømrer I/S"):
        pair.crm_client.create_record("organisation", {"OrganisationName": name, "OrganisationType": "Kunde"})
        drain()
    assert pool.reused > 0
    assert pool.built - built_by_the_test <= 2  # one session per connection for every event that followed
    crm, erp = pair.integration.crm_connection_id, pair.integration.erp_connection_id
    assert pool.idle_owners() <= {("webcrm", crm), ("uniconta", erp)}
