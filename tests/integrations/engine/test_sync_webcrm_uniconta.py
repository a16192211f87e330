"""webCRM ↔ Uniconta end to end: sandboxes, webhooks into Synkro, the engine, and back."""

from __future__ import annotations

import pytest

from integrations.models import Conflict, EventState, InboundEvent, SyncLink, SyncLogEntry
from integrations.systems.catalog import Entity
from tests.harness import drain, make_pair

ORG, PERSON, ITEM = Entity.ORGANISATION, Entity.PERSON, Entity.ITEM


@pytest.fixture
def pair(db, synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    crm_hook = pair.integration.webhook_url("webcrm")
    for event_type in ("Create", "Update"):
        for path in ("Organisations", "Persons"):
            pair.crm_client.request("POST", f"/{path}/Hooks",
                                    json={"TargetUrl": crm_hook, "EventType": event_type, "IsEnabled": True})
    for table in ("Debtor", "Contact", "InvItem", "Employee"):
        pair.erp.subscribe(pair.integration.webhook_url("uniconta"), table=table)
    return pair


def writes(sandbox) -> int:
    return sum(1 for r in sandbox.requests if r.method != "GET" and "/Auth/" not in r.path)


def new_org(pair, **values):
    record = {"OrganisationName": "Havbrise Byg ApS", "OrganisationType": "Kunde", "OrganisationAddress": "Havnevej 3",
              "OrganisationPostCode": "8000", "OrganisationCity": "Aarhus C", **values}
    return pair.crm_client.create_record(ORG, record)


def debtors(pair):
    return list(pair.erp_client.list_records(ORG))


def test_a_customer_made_in_webcrm_becomes_a_debtor_and_gets_its_number_back(pair):
    org = new_org(pair, OrganisationVatNumber="DK12345678")
    drain()
    [debtor] = debtors(pair)
    assert (debtor["Name"], debtor["Address1"], debtor["ZipCode"], debtor["City"]) == (
        "Havbrise Byg ApS", "Havnevej 3", "8000", "Aarhus C")
    link = SyncLink.objects.get(integration=pair.integration, entity="organisation")
    assert link.crm_id == str(org["OrganisationId"]) and link.erp_id == str(debtor["Account"])
    again = pair.crm_client.get_record(ORG, str(org["OrganisationId"]))
    assert again["OrganisationExtraCustom1"] == str(debtor["Account"])  # the ERP assigned the number
    entry = SyncLogEntry.objects.get(action="created")
    assert entry.label == "Havbrise Byg ApS" and entry.changes["Name"] == [None, "Havbrise Byg ApS"]


def test_our_own_writes_coming_back_cause_no_further_writes(pair):
    new_org(pair)
    drain()
    crm_writes, erp_writes = writes(pair.crm), writes(pair.erp)
    # Both sandboxes told Synkro about our writes; those echoes were processed and dropped.
    assert InboundEvent.objects.filter(state=EventState.DONE).count() >= 3
    drain()
    assert (writes(pair.crm), writes(pair.erp)) == (crm_writes, erp_writes)
    assert SyncLogEntry.objects.filter(action__in=["created", "updated"]).count() == 1


def test_an_organisation_whose_type_is_not_a_trigger_is_not_created(pair):
    new_org(pair, OrganisationType="Prospect")
    drain()
    assert debtors(pair) == []
    entry = SyncLogEntry.objects.get(action="skipped")
    assert "“Prospect”" in entry.reason and "“Kunde”" in entry.reason


def test_a_debtor_made_in_uniconta_becomes_an_organisation_of_the_set_type(pair):
    debtor = pair.erp_client.create_record(ORG, {"Name": "Skovly Tømrer I/S", "City": "Odense C", "ZipCode": "5000"})
    drain()
    [org] = [o for o in pair.crm_client.list_records(ORG)]
    assert org["OrganisationName"] == "Skovly Tømrer I/S" and org["OrganisationType"] == "Kunde"
    assert org["OrganisationExtraCustom1"] == str(debtor["Account"])
    assert SyncLink.objects.get(entity="organisation").crm_id == str(org["OrganisationId"])


def test_type_lock_sets_a_changed_type_back_while_the_debtor_exists(pair):
    org = new_org(pair)
    drain()
    pair.crm.change_in_webcrm("Organisations", org["OrganisationId"], OrganisationType="Prospect",
                              OrganisationCity="Aarhus N")
    drain()
    again = pair.crm_client.get_record(ORG, str(org["OrganisationId"]))
    assert again["OrganisationType"] == "Kunde"
    assert debtors(pair)[0]["City"] == "Aarhus N"
    assert "type lock sets it back to “Kunde”" in SyncLogEntry.objects.filter(action="updated").first().reason


def test_a_missing_required_field_is_named_and_nothing_is_created(pair):
    entity_sync = pair.sync("organisation")
    entity_sync.field_mappings.filter(erp_field="City").update(required=True)
    new_org(pair, OrganisationCity="")
    drain()
    assert debtors(pair) == []
    assert "required field OrganisationCity is empty" in SyncLogEntry.objects.get(action="skipped").reason


def test_an_existing_debtor_with_the_same_cvr_is_adopted_not_duplicated(pair):
    pair.erp_client.create_record(ORG, {"Name": "Havbrise Byggeri", "CompanyRegNo": "12345678"})
    drain()  # the debtor came to webCRM as an organisation already
    SyncLink.objects.all().delete()
    for org in pair.crm_client.list_records(ORG):
        pair.crm.delete_in_webcrm("Organisations", org["OrganisationId"])  # deletes are not hooked here
    new_org(pair, OrganisationVatNumber="12345678")
    drain()
    assert len(debtors(pair)) == 1
    link = SyncLink.objects.get(entity="organisation")
    assert link.erp_id == str(debtors(pair)[0]["Account"])
    assert "Matched an existing record in Uniconta" in SyncLogEntry.objects.filter(action="updated").first().reason


def test_five_deliveries_of_one_change_make_one_write(pair, client):
    org = new_org(pair)
    drain()
    before = writes(pair.erp)
    pair.crm.change_in_webcrm("Organisations", org["OrganisationId"], OrganisationCity="Risskov")
    url = pair.integration.webhook_url("webcrm").replace("http://synkro.test", "")
    body = pair.crm.webhooks[-1].body
    for _ in range(4):
        assert client.post(url, data=body, content_type="application/json").status_code == 200
    drain()
    assert writes(pair.erp) == before + 1


def test_both_sides_changed_the_same_field_is_a_conflict_resolved_by_the_owner(pair):
    entity_sync = pair.sync("organisation")
    entity_sync.conflict_owner = "erp"
    entity_sync.save()
    org = new_org(pair, OrganisationTelephone="+45 11 11 11 11")
    drain()
    account = debtors(pair)[0]["Account"]
    # Both edits happen before Synkro hears of either.
    pair.erp_client.update_record(ORG, str(account), {"Phone": "+45 33 33 33 33"})
    pair.crm.change_in_webcrm("Organisations", org["OrganisationId"], OrganisationTelephone="+45 22 22 22 22")
    drain()
    assert debtors(pair)[0]["Phone"] == "+45 33 33 33 33"
    assert pair.crm_client.get_record(ORG, str(org["OrganisationId"]))["OrganisationTelephone"] == "+45 33 33 33 33"
    conflict = Conflict.objects.get()
    assert (conflict.crm_value, conflict.erp_value, conflict.winner) == ("+45 22 22 22 22", "+45 33 33 33 33", "erp")
    crm_writes, erp_writes = writes(pair.crm), writes(pair.erp)
    drain()
    assert (writes(pair.crm), writes(pair.erp)) == (crm_writes, erp_writes)  # no ping-pong
