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
    pair.webcrm_hooks("Organisations", "Persons")
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


def test_a_create_that_loses_the_race_to_the_other_sides_adoption_becomes_an_update(pair, monkeypatch):
    """The debtor's own notice adopted the organisation while its create was under way: no parked event."""
    from integrations.systems.errors import VendorValidationError
    from integrations.systems.uniconta.client import UnicontaClient

    org = new_org(pair)
    real_create = UnicontaClient.create_record

    def adopted_meanwhile(client, entity, values):
        debtor = real_create(client, entity, values)
        SyncLink.objects.create(tenant=pair.integration.tenant, integration=pair.integration, entity="organisation",
                                crm_id=str(org["OrganisationId"]), erp_id=str(debtor["Account"]))
        raise VendorValidationError(f"uniconta refused the data: Debtor {debtor['Account']} already exists",
                                    status=400, vendor_message=f"Debtor {debtor['Account']} already exists")

    monkeypatch.setattr(UnicontaClient, "create_record", adopted_meanwhile)
    drain()
    assert not InboundEvent.objects.filter(state=EventState.FAILED).exists()
    assert not SyncLogEntry.objects.filter(action="failed").exists()
    [debtor] = debtors(pair)
    assert SyncLink.objects.get(entity="organisation").erp_id == str(debtor["Account"])


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


def new_person(pair, org, **values):
    record = {"PersonOrganisationId": org["OrganisationId"], "PersonFirstName": "Mette", "PersonLastName": "Nielsen",
              "PersonEmail": "mette.nielsen@havbrise.dk", "PersonCheckMark1": True, **values}
    return pair.crm_client.create_record(PERSON, record)


def contacts(pair):
    return list(pair.erp_client.list_records(PERSON))


def test_a_person_marked_relevant_goes_to_uniconta_under_its_debtor(pair):
    org = new_org(pair)
    drain()
    new_person(pair, org)
    drain()
    [contact] = contacts(pair)
    assert contact["Email"] == "mette.nielsen@havbrise.dk"
    assert contact["DCAccount"] == debtors(pair)[0]["Account"]


def test_a_person_not_marked_relevant_stays_in_webcrm(pair):
    org = new_org(pair)
    drain()
    new_person(pair, org, PersonCheckMark1=False)
    drain()
    assert contacts(pair) == []
    assert "not marked relevant" in SyncLogEntry.objects.get(entity="person", action="skipped").reason


def test_a_contact_without_email_stays_in_uniconta(pair):
    pair.erp_client.create_record(PERSON, {"Name": "Lars Jensen", "Mobil": "+45 20 30 40 50"})
    drain()
    assert list(pair.crm_client.list_records(PERSON)) == []
    assert "no e-mail address" in SyncLogEntry.objects.get(entity="person", action="skipped").reason


def test_a_contact_of_an_unsynced_debtor_waits_for_its_organisation(pair):
    pair.sync("organisation").__class__.objects.filter(pk=pair.sync("organisation").pk).update(direction="off")
    debtor = pair.erp_client.create_record(ORG, {"Name": "Egholm Catering ApS"})
    pair.erp_client.create_record(PERSON, {"Name": "Ida Hansen", "Email": "ida@egholm.dk", "DCType": "Debtor",
                                           "DCAccount": debtor["Account"]})
    drain()
    assert list(pair.crm_client.list_records(PERSON)) == []
    assert f"organisation {debtor['Account']}, which is not synced" in SyncLogEntry.objects.get(
        entity="person", action="skipped").reason


def test_items_come_from_uniconta_with_exact_prices(pair):
    pair.erp_client.create_record(ITEM, {"Item": "1001", "Name": "Arbejdsjakke", "Unit": "Piece",
                                         "CostPrice": "100.10", "SalesPrice1": "160.20"})
    drain()
    [item] = list(pair.crm_client.list_records(ITEM))  # webCRM's item register: quotation-line linked data
    column = "QuotationLineLinkedDataItem{}".format
    assert (item[column("Data1")], item[column("Data2")], item[column("Data3")]) == ("1001", "Arbejdsjakke", "Piece")
    assert str(item[column("CostPrice")]) in ("100.1", "100.10") and str(item[column("Price")]) in (
        "160.2", "160.20")


def test_items_added_to_webcrms_register_are_not_sent_to_uniconta(pair):
    from integrations.engine.runs import reconcile_entity, run_start
    from tests.harness import QUIET

    pair.crm_client.create_record(ITEM, {"QuotationLineLinkedDataItemData1": "X1",
                                         "QuotationLineLinkedDataItemData2": "Webshop-only item"})
    reconcile_entity(run=run_start(integration=pair.integration, kind="reconcile", entity="item"), client_options=QUIET)
    drain()
    assert list(pair.erp_client.list_records(ITEM)) == []
    assert not SyncLogEntry.objects.filter(entity="item", action="created").exists()


def test_employees_and_users_are_matched_by_email(pair):
    pair.crm_client.create_record(Entity.USER, {"UserName": "Sofie Holm", "UserEmail": "sofie@nordlys.dk"})
    pair.erp_client.create_record(Entity.USER, {"Number": "7", "Name": "Sofie Holm", "Email": "SOFIE@nordlys.dk "})
    drain()
    assert len(list(pair.crm_client.list_records(Entity.USER))) == 1
    link = SyncLink.objects.get(entity="user")
    assert link.erp_id == "7" and link.crm_id


def make_due():
    InboundEvent.objects.filter(state=EventState.PENDING).update(next_attempt_at=None)


def test_a_vendor_outage_is_retried_with_backoff_then_succeeds(pair):
    pair.erp.fail_next(5, status=503)  # every attempt of the first call to Uniconta
    new_org(pair)
    drain()
    event = InboundEvent.objects.get(system="webcrm")
    assert event.state == EventState.PENDING and event.next_attempt_at is not None
    assert event.last_error.startswith("Uniconta had a temporary problem (503)")
    assert "attempt 1 of 6" in event.last_error
    assert debtors(pair) == []
    make_due()
    drain()
    assert len(debtors(pair)) == 1
    assert not SyncLogEntry.objects.filter(action="failed").exists()


def test_after_the_last_attempt_the_change_is_parked_with_a_plain_message(pair):
    pair.erp.fail_next(1000, status=503)
    new_org(pair)
    for _ in range(8):
        drain()
        make_due()
    event = InboundEvent.objects.get(system="webcrm")
    assert event.state == EventState.FAILED and event.attempts == 6
    entry = SyncLogEntry.objects.get(action="failed")
    assert "Gave up after 6 attempts" in entry.error and "can be replayed" in entry.error


def test_a_refusal_fails_at_once_with_the_vendors_words_and_replays_once_fixed(pair):
    entity_sync = pair.sync("organisation")
    row = entity_sync.field_mappings.create(tenant=pair.integration.tenant, erp_field="xRegion",
                                            crm_field="OrganisationCity", direction="to_erp")
    entity_sync.field_mappings.filter(erp_field="City").delete()
    new_org(pair)
    drain()
    event = InboundEvent.objects.get(system="webcrm")
    assert event.state == EventState.FAILED and event.attempts == 1
    entry = SyncLogEntry.objects.get(action="failed")
    assert "Uniconta refused the debtor" in entry.error and "(field xRegion)" in entry.error
    assert entry.crm_id == event.external_id and entry.event == event
    row.delete()
    from integrations.engine.process import event_replay

    event_replay(event=event)
    drain()
    assert len(debtors(pair)) == 1
    assert SyncLogEntry.objects.filter(action="created").count() == 1


def test_a_webcrm_user_becomes_a_uniconta_employee_made_as_a_seller(pair):
    pair.webcrm_hooks("Users", events=("Create",))
    user = pair.crm_client.create_record(Entity.USER, {"UserName": "Jens Madsen", "UserEmail": "jens@nordlys.dk"})
    drain()
    [employee] = list(pair.erp_client.list_records(Entity.USER))
    assert (employee["Name"], employee["Email"], employee["Title"]) == ("Jens Madsen", "jens@nordlys.dk", "Sælger")
    assert employee["Number"] == f"W{user['UserId']}"
