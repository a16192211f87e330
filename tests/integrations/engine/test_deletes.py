"""Deletes are verified, guarded and, where the other side cannot delete, a plain skip — over the sandboxes.

Every pair where the entity exists: webCRM ↔ Uniconta, webCRM ↔ Fortnox, webCRM ↔ Visma.net and
Customers 1st ↔ Uniconta. Delete notices are switched on in each test (they start off).
"""

from __future__ import annotations

import json

import pytest

from integrations.engine.deletes import guards_activity, plural, source_check
from integrations.engine.ingest import event_ingest
from integrations.models import EventState, InboundEvent, SyncLink, SyncLogEntry
from integrations.services import integration_webhooks_register
from integrations.systems.catalog import Entity
from integrations.systems.fortnox.webhooks import parse_topic_event
from mappings.models import WebhookToggle
from tests.harness import drain, make_pair, organisation

ORG, PERSON, DELIVERY, INVOICE = Entity.ORGANISATION, Entity.PERSON, Entity.DELIVERY, Entity.INVOICE


def deletes_on(pair, system: str, *entities: str) -> None:
    """Switch delete notices on, as an admin does on the integration's webhook toggles."""
    switched = WebhookToggle.objects.filter(integration=pair.integration, system=system, entity__in=entities,
                                            action="deleted").update(enabled=True)
    assert switched == len(entities)


def link_of(pair, entity=ORG) -> SyncLink | None:
    return SyncLink.objects.filter(integration=pair.integration, entity=entity).first()


def linked_organisation(pair, **values):
    """A webCRM customer synced to the ERP; returns (webCRM id, ERP id)."""
    [kind] = pair.sync("organisation").trigger_values[:1]  # "Kunde", or Fortnox pairs' "Kund – Företag"
    org = pair.crm_client.create_record(ORG, organisation(OrganisationType=kind, **values))
    drain()
    link = link_of(pair)
    assert link is not None and link.crm_id == str(org["OrganisationId"])
    return org["OrganisationId"], link.erp_id


def erp_ids(pair, entity=ORG) -> set[str]:
    return {pair.erp_client.record_id(entity, record) for record in pair.erp_client.list_records(entity)}


def delete_entry(pair, entity=ORG) -> SyncLogEntry:
    """The one log entry of the delete (our own delete coming back finds nothing linked and is left out)."""
    [entry] = (SyncLogEntry.objects.filter(integration=pair.integration, entity=entity,
                                           action__in=["skipped", "deleted", "failed"], reason__icontains="delete")
               .exclude(reason__contains="nothing was linked"))
    return entry


def assert_no_failure(pair) -> None:
    assert not InboundEvent.objects.filter(integration=pair.integration, state=EventState.FAILED).exists()
    assert not SyncLogEntry.objects.filter(integration=pair.integration, action="failed").exists()


def new_person(pair, org_id: int, **values):
    return pair.crm_client.create_record(PERSON, {
        "PersonOrganisationId": org_id, "PersonFirstName": "Mette", "PersonLastName": "Nielsen",
        "PersonEmail": "mette.nielsen@havbrise.dk", "PersonCheckMark1": True, **values})


# -- webCRM ↔ Uniconta ----------------------------------------------------------------------------------------

@pytest.fixture
def uniconta(db, synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    pair.webcrm_hooks("Organisations", "Persons", events=("Create", "Update", "Delete"))
    for table in ("Debtor", "Contact"):
        pair.erp.subscribe(pair.integration.webhook_url("uniconta"), table=table)
    deletes_on(pair, "webcrm", ORG, PERSON)
    deletes_on(pair, "uniconta", ORG, PERSON)
    return pair


def test_a_delete_notice_for_an_organisation_that_still_exists_deletes_no_debtor(uniconta):
    org_id, account = linked_organisation(uniconta)
    uniconta.crm.notify("Organisations", "Delete", uniconta.crm.store.get("Organisations", org_id))
    drain()
    assert account in erp_ids(uniconta)
    assert delete_entry(uniconta).reason == (
        f"webCRM sent a delete notice for organisation {org_id}, but it still exists there, so the Uniconta "
        f"debtor {account} was not deleted.")
    assert link_of(uniconta) is not None  # nothing changed: the pair stays linked


def test_a_debtor_deleted_in_uniconta_is_a_plain_skip_because_webcrm_cannot_delete_organisations(uniconta):
    org_id, account = linked_organisation(uniconta)
    uniconta.erp_client.delete_record(ORG, account)
    drain()
    assert uniconta.crm_client.get_record(ORG, str(org_id))["OrganisationName"] == "Havbrise Byg ApS"
    entry = delete_entry(uniconta)
    assert entry.action == "skipped"
    assert entry.reason == (
        f"Uniconta debtor {account} was deleted; webCRM's API cannot delete organisations, so organisation "
        f"{org_id} stays in webCRM — delete it there by hand if it should go.")
    assert_no_failure(uniconta)
    assert link_of(uniconta) is None


def test_a_debtor_with_a_sales_order_stays_when_its_organisation_is_deleted_in_webcrm(uniconta):
    org_id, account = linked_organisation(uniconta)
    uniconta.erp_client.create_record(DELIVERY, {"Account": account, "YourRef": "Telefonordre", "lines": []})
    uniconta.crm.delete_in_webcrm("Organisations", org_id)
    drain()
    assert account in erp_ids(uniconta)
    entry = delete_entry(uniconta)
    assert entry.action == "skipped"
    assert f"Uniconta debtor {account} has invoices or orders, so it is not deleted" in entry.reason
    assert link_of(uniconta) is None
    assert_no_failure(uniconta)


def test_a_debtor_without_activity_is_deleted_with_its_organisation(uniconta):
    org_id, account = linked_organisation(uniconta)
    uniconta.crm.delete_in_webcrm("Organisations", org_id)
    drain()
    assert account not in erp_ids(uniconta)
    entry = delete_entry(uniconta)
    assert (entry.action, entry.crm_id, entry.erp_id) == ("deleted", str(org_id), account)
    assert link_of(uniconta) is None


def test_a_person_deleted_in_webcrm_is_deleted_in_uniconta(uniconta):
    org_id, _ = linked_organisation(uniconta)
    person = new_person(uniconta, org_id)
    drain()
    contact_id = link_of(uniconta, PERSON).erp_id
    assert contact_id in erp_ids(uniconta, PERSON)
    uniconta.crm.delete_in_webcrm("Persons", person["PersonId"])
    drain()
    assert contact_id not in erp_ids(uniconta, PERSON)
    assert delete_entry(uniconta, PERSON).action == "deleted"
    assert link_of(uniconta, PERSON) is None


def test_a_contact_deleted_in_uniconta_leaves_the_person_in_webcrm_and_says_why(uniconta):
    org_id, _ = linked_organisation(uniconta)
    person = new_person(uniconta, org_id)
    drain()
    contact_id = link_of(uniconta, PERSON).erp_id
    uniconta.erp_client.delete_record(PERSON, contact_id)
    drain()
    assert uniconta.crm_client.get_record(PERSON, str(person["PersonId"]))["PersonEmail"] == "mette.nielsen@havbrise.dk"
    assert "webCRM's API cannot delete persons" in delete_entry(uniconta, PERSON).reason
    assert_no_failure(uniconta)


# -- webCRM ↔ Fortnox (Fortnox's changes come from its WebSocket topics) -----------------------------------

@pytest.fixture
def fortnox(db, synkro, sandboxes):
    pair = make_pair("webcrm", "fortnox", sandboxes)
    pair.webcrm_hooks("Organisations", events=("Create", "Update", "Delete"))
    deletes_on(pair, "webcrm", ORG)  # Fortnox has no webhooks and so no toggles
    return pair


def fortnox_listened(pair) -> None:
    """Hand the customers topic's deletes to Synkro, as the WebSocket listener does."""
    body = json.dumps(pair.erp.events("customers")).encode()
    for event in parse_topic_event(body=body, secret=str(pair.erp.company.tenant_id)):
        if event.action == "deleted":
            event_ingest(integration=pair.integration, system="fortnox", entity=event.entity, action=event.action,
                         external_id=event.external_id, payload=event.payload)


def test_a_delete_notice_for_an_organisation_that_still_exists_deletes_no_fortnox_customer(fortnox):
    org_id, number = linked_organisation(fortnox)
    fortnox.crm.notify("Organisations", "Delete", fortnox.crm.store.get("Organisations", org_id))
    drain()
    assert number in erp_ids(fortnox)
    assert "but it still exists there, so the Fortnox customer" in delete_entry(fortnox).reason


def test_a_customer_deleted_in_fortnox_is_a_plain_skip(fortnox):
    org_id, number = linked_organisation(fortnox)
    fortnox.erp_client.delete_record(ORG, number)
    fortnox_listened(fortnox)
    drain()
    entry = delete_entry(fortnox)
    assert entry.action == "skipped" and "webCRM's API cannot delete organisations" in entry.reason
    assert fortnox.crm_client.get_record(ORG, str(org_id))["OrganisationId"] == org_id
    assert_no_failure(fortnox)


def test_a_fortnox_customer_with_an_invoice_stays_when_its_organisation_is_deleted(fortnox):
    org_id, number = linked_organisation(fortnox)
    fortnox.erp_client.create_record(INVOICE, {"CustomerNumber": number})
    fortnox.crm.delete_in_webcrm("Organisations", org_id)
    drain()
    assert number in erp_ids(fortnox)
    assert delete_entry(fortnox).reason == (
        f"webCRM organisation {org_id} was deleted. Fortnox customer {number} has invoices or orders, so it is not "
        "deleted; accounting records with activity are never deleted.")
    assert link_of(fortnox) is None


def test_a_fortnox_customer_whose_neighbour_has_an_order_is_deleted(fortnox):
    other = fortnox.erp_client.create_record(ORG, {"Name": "Björkdal Bygg AB"})
    fortnox.erp_client.create_record(DELIVERY, {"CustomerNumber": other["CustomerNumber"]})
    org_id, number = linked_organisation(fortnox)
    fortnox.crm.delete_in_webcrm("Organisations", org_id)
    drain()
    assert number not in erp_ids(fortnox) and other["CustomerNumber"] in erp_ids(fortnox)
    assert delete_entry(fortnox).action == "deleted"


# -- webCRM ↔ Visma.net (its API deletes by deactivating) ------------------------------------------------

@pytest.fixture
def visma(db, synkro, sandboxes):
    pair = make_pair("webcrm", "vismanet", sandboxes)
    deletes_on(pair, "webcrm", ORG, PERSON)
    integration_webhooks_register(integration=pair.integration)
    return pair


def visma_status(pair, number: str) -> str:
    return pair.erp_client.get_record(ORG, number)["status"]


def test_a_delete_notice_for_an_organisation_that_still_exists_leaves_the_visma_customer_active(visma):
    org_id, number = linked_organisation(visma)
    visma.crm.notify("Organisations", "Delete", visma.crm.store.get("Organisations", org_id))
    drain()
    assert visma_status(visma, number) == "Active"
    assert "but it still exists there, so the Visma.net customer" in delete_entry(visma).reason


def test_a_visma_customer_with_a_sales_order_stays_active_when_its_organisation_is_deleted(visma):
    org_id, number = linked_organisation(visma)
    visma.erp_client.create_record(DELIVERY, {"customer.id": number})  # the Sales Order service's name
    visma.crm.delete_in_webcrm("Organisations", org_id)
    drain()
    assert visma_status(visma, number) == "Active"
    assert f"Visma.net customer {number} has invoices or orders" in delete_entry(visma).reason


def test_a_visma_customer_without_activity_is_deactivated_with_its_organisation(visma):
    org_id, number = linked_organisation(visma)
    visma.crm.delete_in_webcrm("Organisations", org_id)
    drain()
    assert visma_status(visma, number) == "Inactive"
    assert delete_entry(visma).action == "deleted"


def test_a_person_deleted_in_webcrm_makes_the_visma_contact_inactive(visma):
    org_id, _ = linked_organisation(visma)
    person = new_person(visma, org_id)
    drain()
    contact_id = link_of(visma, PERSON).erp_id
    visma.crm.delete_in_webcrm("Persons", person["PersonId"])
    drain()
    assert visma.erp_client.get_record(PERSON, contact_id)["active"] is False
    assert link_of(visma, PERSON) is None


# -- Customers 1st ↔ Uniconta ------------------------------------------------------------------------------

@pytest.fixture
def pos(db, synkro, sandboxes):
    pair = make_pair("customers1st", "uniconta", sandboxes)
    deletes_on(pair, "customers1st", ORG)
    deletes_on(pair, "uniconta", ORG)
    integration_webhooks_register(integration=pair.integration)
    pair.crm_client.suppress_hooks = False  # this client plays a person at the till, whose changes raise hooks
    return pair


def pos_customer(pair):
    customer = pair.crm_client.create_record(ORG, {"name": "Mette Nielsen", "email": "mette@example.dk",
                                                   "city": "Vejle", "zipcode": "7100"})
    drain()
    link = link_of(pair)
    assert link is not None and link.crm_id == str(customer["id"])
    return customer["id"], link.erp_id


def test_a_delete_notice_for_a_pos_customer_that_still_exists_deletes_no_debtor(pos):
    customer_id, account = pos_customer(pos)
    pos.crm.notify(None, "customer.deleted", pos.crm_client.get_record(ORG, str(customer_id)))
    drain()
    assert account in erp_ids(pos)
    assert delete_entry(pos).reason == (
        f"Customers 1st sent a delete notice for customer {customer_id}, but it still exists there, so the "
        f"Uniconta debtor {account} was not deleted.")


def test_a_pos_customer_deleted_at_the_till_deletes_a_debtor_without_activity(pos):
    customer_id, account = pos_customer(pos)
    pos.crm_client.delete_record(ORG, str(customer_id))
    drain()
    assert account not in erp_ids(pos)
    assert delete_entry(pos).action == "deleted"


def test_a_debtor_with_a_sales_order_stays_when_the_pos_customer_is_deleted(pos):
    customer_id, account = pos_customer(pos)
    pos.erp_client.create_record(DELIVERY, {"Account": account, "YourRef": "POS 1001", "lines": []})
    pos.crm_client.delete_record(ORG, str(customer_id))
    drain()
    assert account in erp_ids(pos)
    entry = delete_entry(pos)
    assert entry.action == "skipped" and "accounting records with activity are never deleted" in entry.reason
    assert_no_failure(pos)


def test_a_debtor_deleted_in_uniconta_deletes_the_pos_customer(pos):
    customer_id, account = pos_customer(pos)
    pos.erp_client.delete_record(ORG, account)
    drain()
    assert str(customer_id) not in {str(customer["id"]) for customer in pos.crm_client.list_records(ORG)}
    assert delete_entry(pos).action == "deleted"


# -- the small rules ---------------------------------------------------------------------------------------

def test_only_a_record_not_found_or_marked_deleted_counts_as_gone():
    assert source_check(found=False, record=None, marked_deleted=False).gone
    assert source_check(found=True, record={"id": 7, "deleted": 1}, marked_deleted=True).gone
    still = source_check(found=True, record={"id": 7}, marked_deleted=False)
    assert not still.gone and still.why_not == "it still exists there"
    empty = source_check(found=True, record={}, marked_deleted=False)
    assert not empty.gone and "could not be confirmed" in empty.why_not


def test_only_erp_customers_are_guarded_by_their_activity():
    assert guards_activity(entity=ORG, target_role="erp")
    assert not guards_activity(entity=ORG, target_role="crm")
    assert not guards_activity(entity=PERSON, target_role="erp")


def test_plural_of_the_vendors_words():
    assert [plural(w) for w in ("organisation", "person", "debtor", "company")] == [
        "organisations", "persons", "debtors", "companies"]


def test_an_erp_customer_whose_activity_cannot_be_told_is_not_deleted(uniconta, monkeypatch):
    from integrations.systems.uniconta.client import UnicontaClient

    monkeypatch.setattr(UnicontaClient, "has_activity", lambda client, entity, record_id: None)
    org_id, account = linked_organisation(uniconta)
    uniconta.crm.delete_in_webcrm("Organisations", org_id)
    drain()
    assert account in erp_ids(uniconta)
    assert f"Uniconta could not tell whether debtor {account} has invoices or orders, so it is not deleted" in (
        delete_entry(uniconta).reason)


def test_what_each_system_can_delete_through_its_api():
    from integrations.systems.registry import get_system

    def client(system):
        return get_system(system).client(credentials=get_system(system).demo_credentials)

    webcrm, uniconta, fortnox, visma, c1st = (client(s) for s in
                                              ("webcrm", "uniconta", "fortnox", "vismanet", "customers1st"))
    assert [webcrm.can_delete(e) for e in (ORG, PERSON, Entity.ITEM)] == [False, False, True]
    assert [uniconta.can_delete(e) for e in (ORG, PERSON, INVOICE)] == [True, True, False]
    assert [fortnox.can_delete(e) for e in (ORG, INVOICE, Entity.USER)] == [True, True, False]
    assert [visma.can_delete(e) for e in (ORG, PERSON, INVOICE, Entity.USER)] == [True, True, False, False]
    assert [c1st.can_delete(e) for e in (ORG, Entity.POS_SALE, Entity.DAILY_REPORT)] == [True, False, False]
    assert c1st.is_deleted(ORG, {"id": 7, "deleted": 1}) and not c1st.is_deleted(ORG, {"id": 7, "deleted": 0})
    assert webcrm.has_activity(ORG, "1") is None  # a CRM keeps no accounting records
