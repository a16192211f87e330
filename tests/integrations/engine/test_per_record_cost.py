"""What one synced record costs: SQL statements and HTTP requests per processed event, pinned so it cannot creep.

Budget (docs/decisions.md, "Per-record cost"): at most 10 statements for a create, 8 for an update, 5 for an echo;
at most 3 requests for the record's own sync (read the source, find or read the target, write it). webCRM, which
takes whole records without If-Match, is read once more just before each ``PUT`` (that read keeps a person's edit
made meanwhile): a create whose ERP gives the customer number adds the number write-back (that read and the
``PUT``), an update of a webCRM record that read. Counted in steady
state: the worker already keeps the integration's settings and has noted the connections' status this minute.
The sandboxes' webhooks about Synkro's own writes are served in-process meanwhile; ``engine.cost`` leaves that
ingest out, and :func:`test_the_webhook_served_meanwhile_is_not_counted` checks that it does.
"""

from __future__ import annotations

import pytest

from integrations.engine import process
from integrations.engine.cost import EventCost, event_cost
from integrations.engine.poll import poll_entity
from integrations.models import Connection, Integration, SyncLink
from mappings.models import EntitySync, FieldMapping
from tests.harness import QUIET, drain, make_pair

ORG = "organisation"
CREATE_MAX, UPDATE_MAX, ECHO_MAX = 10, 8, 5
OWN_REQUESTS_MAX = 3


@pytest.fixture
def uniconta(db, synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    pair.webcrm_hooks("Organisations")
    pair.erp.subscribe(pair.integration.webhook_url("uniconta"), table="Debtor")
    return pair


@pytest.fixture
def fortnox(db, synkro, sandboxes):
    pair = make_pair("webcrm", "fortnox", sandboxes)
    pair.webcrm_hooks("Organisations")
    return pair


def next_event() -> EventCost:
    [event_id, *_] = process.events_due()
    return event_cost(event_id=event_id, client_options=QUIET)


def kinds(cost: EventCost) -> list[str]:
    return sorted(cost.statement_kinds().elements())


def methods(cost: EventCost) -> list[str]:
    return [request.split(" ", 1)[0] for request in cost.requests]


def webcrm_org(pair, name: str, **values) -> str:
    record = {"OrganisationName": name, "OrganisationType": "Kunde", "OrganisationCity": "Aarhus C", **values}
    return str(pair.crm_client.create_record(ORG, record)["OrganisationId"])


def warm(pair, **values) -> None:
    """One record synced first: the settings are kept and the connections' status noted, as in a running worker."""
    webcrm_org(pair, "Forvarm ApS", **values)
    drain()


def test_webcrm_to_uniconta_create_update_and_echo(uniconta):
    warm(uniconta)
    org_id = webcrm_org(uniconta, "Havbrise Byg ApS", OrganisationVatNumber="DK12345678")
    created = next_event()
    assert created.outcome.action == "created"
    assert len(created.statements) <= CREATE_MAX, kinds(created)
    assert "SAVEPOINT" not in kinds(created)  # the link is written in one statement, the lease taken in one
    assert kinds(created).count("INSERT integrations_synclink") == 1
    # GET the organisation, one search of Uniconta for every identity field, Insert; then the debtor number goes
    # back to webCRM: a fresh read (webCRM has no If-Match) and the PUT, with nothing read back after it.
    assert methods(created) == ["GET", "GET", "POST", "GET", "PUT"], created.requests
    assert len([r for r in created.requests if "uniconta" in r]) == 2
    drain()

    uniconta.crm_client.update_record(ORG, org_id, {"OrganisationCity": "Odense C"})
    updated = next_event()
    assert updated.outcome.action == "updated"
    assert len(updated.statements) <= UPDATE_MAX, kinds(updated)
    assert methods(updated) == ["GET", "GET", "PUT"], updated.requests  # the debtor is read once, not twice
    echo = next_event()  # Uniconta's notice of that very write
    assert echo.outcome.action == "echo"
    assert len(echo.statements) <= ECHO_MAX, kinds(echo)
    assert len(echo.requests) == 1
    debtor = SyncLink.objects.get(integration=uniconta.integration, crm_id=org_id).erp_id
    assert uniconta.erp_client.get_record(ORG, debtor)["City"] == "Odense C"


def test_uniconta_to_webcrm_create_update_and_echo(uniconta):
    warm(uniconta)
    debtor = uniconta.erp_client.create_record(ORG, {"Name": "Skovly Tømrer I/S", "City": "Odense C"})
    created = next_event()
    assert created.outcome.action == "created"
    assert len(created.statements) <= CREATE_MAX, kinds(created)
    # webCRM's POST /Organisations answers no id (spec): the client finds the new record by name around it.
    assert len(created.requests) <= 8, created.requests
    drain()

    uniconta.erp_client.update_record(ORG, str(debtor["Account"]), {"City": "Vejle"})
    updated = next_event()
    assert updated.outcome.action == "updated"
    assert len(updated.statements) <= UPDATE_MAX, kinds(updated)
    # webCRM takes whole records without If-Match: its client reads the organisation again just before the PUT
    # (what keeps a person's edit made meanwhile), and reads nothing back after it.
    assert methods(updated) == ["GET", "GET", "GET", "PUT"], updated.requests
    echo = next_event()
    assert echo.outcome.action == "echo"
    assert len(echo.statements) <= ECHO_MAX and len(echo.requests) == 1
    crm_id = SyncLink.objects.get(integration=uniconta.integration, erp_id=str(debtor["Account"])).crm_id
    assert uniconta.crm_client.get_record(ORG, crm_id)["OrganisationCity"] == "Vejle"


def test_webcrm_to_fortnox_create_update_and_echo(fortnox):
    warm(fortnox, OrganisationType="Kund – Företag")
    org_id = webcrm_org(fortnox, "Björkdal Bygg AB", OrganisationType="Kund – Företag",
                        OrganisationVatNumber="556677-8899")
    created = next_event()
    assert created.outcome.action == "created"
    assert len(created.statements) <= CREATE_MAX, kinds(created)
    # Fortnox's customer list is read once for all identity fields and spellings, not once per field.
    fortnox_requests = [r for r in created.requests if "fortnox" in r]
    assert [r.split(" ")[0] for r in fortnox_requests] == ["GET", "POST"], created.requests
    assert len(created.requests) <= OWN_REQUESTS_MAX + 2
    drain()

    fortnox.crm_client.update_record(ORG, org_id, {"OrganisationCity": "Luleå"})
    updated = next_event()
    assert updated.outcome.action == "updated"
    assert len(updated.statements) <= UPDATE_MAX, kinds(updated)
    assert len(updated.requests) <= OWN_REQUESTS_MAX, updated.requests
    drain()

    poll_entity(integration=fortnox.integration, system="fortnox", entity=ORG, client_options=QUIET)
    poll_entity(integration=fortnox.integration, system="fortnox", entity=ORG, client_options=QUIET)
    echo = next_event()  # the poll brings Synkro's own write back
    assert echo.outcome.action == "echo"
    assert len(echo.statements) <= ECHO_MAX and len(echo.requests) == 1


def test_the_webhook_served_meanwhile_is_not_counted(uniconta):
    warm(uniconta)
    webcrm_org(uniconta, "Havbrise Byg ApS")
    sent = len(uniconta.erp.webhooks)
    created = next_event()
    assert len(uniconta.erp.webhooks) > sent  # Uniconta told Synkro about the new debtor during the step ...
    assert "INSERT integrations_inboundevent" not in kinds(created)  # ... and that ingest is not this record's
    assert not [r for r in created.requests if "synkro" in r]


def test_a_direction_changed_between_two_events_is_used_by_the_second(uniconta):
    warm(uniconta)
    org_id = webcrm_org(uniconta, "Havbrise Byg ApS")
    drain()
    # As another process would: a plain update of the row, no service, no signal.
    EntitySync.objects.filter(integration=uniconta.integration, entity=ORG).update(direction="to_crm")
    uniconta.crm_client.update_record(ORG, org_id, {"OrganisationCity": "Odense C"})
    outcome = next_event().outcome
    assert outcome.action in ("skipped", "echo") and "Odense C" not in str(outcome.changes)
    debtor = SyncLink.objects.get(integration=uniconta.integration, crm_id=org_id).erp_id
    assert uniconta.erp_client.get_record(ORG, debtor)["City"] == "Aarhus C"


def test_a_mapping_row_changed_between_two_events_is_used_by_the_second(uniconta):
    warm(uniconta)
    org_id = webcrm_org(uniconta, "Havbrise Byg ApS")
    drain()
    row = FieldMapping.objects.get(entity_sync__integration=uniconta.integration, entity_sync__entity=ORG,
                                   crm_field="OrganisationCity")
    FieldMapping.objects.filter(pk=row.pk).update(erp_field="Address2")  # the city now goes to Address2
    uniconta.crm_client.update_record(ORG, org_id, {"OrganisationCity": "Odense C"})
    assert next_event().outcome.action == "updated"
    debtor = uniconta.erp_client.get_record(
        ORG, SyncLink.objects.get(integration=uniconta.integration, crm_id=org_id).erp_id)
    assert (debtor["Address2"], debtor["City"]) == ("Odense C", "Aarhus C")


def test_every_change_the_engine_reads_raises_the_settings_version(uniconta):
    integration = uniconta.integration

    def version() -> int:
        return Integration.objects.values_list("settings_version", flat=True).get(pk=integration.pk)

    steps = [
        lambda: EntitySync.objects.filter(integration=integration, entity=ORG).update(conflict_owner="erp"),
        lambda: FieldMapping.objects.filter(entity_sync__integration=integration).first().delete(),
        lambda: Connection.objects.filter(pk=integration.crm_connection_id).update(credentials={"api_key": "new"}),
        lambda: Integration.objects.filter(pk=integration.pk).update(guard_minimum=50),
    ]
    for step in steps:
        before = version()
        step()
        assert version() > before
    before = version()
    Connection.objects.filter(pk=integration.crm_connection_id).update(status_detail="checked")  # not read to sync
    assert version() == before


def test_new_credentials_saved_elsewhere_reach_the_next_event(uniconta):
    warm(uniconta)
    Connection.objects.filter(pk=uniconta.integration.erp_connection_id).update(
        credentials={**uniconta.integration.erp_connection.credentials, "password": "wrong"})
    webcrm_org(uniconta, "Havbrise Byg ApS")
    [event_id] = process.events_due()
    assert process.event_process(event_id=event_id, client_options=QUIET) is None  # Uniconta refused: parked
    event = process.InboundEvent.objects.get(pk=event_id)
    assert event.state == "failed" and "credentials" in event.last_error
