"""A record deleted on one side whose delete notice never arrived is found by the safety reconciliation: a linked
record its side no longer lists is read by id, and only one proven gone (not found, or marked deleted) is drift. It
goes the way a verified delete notice goes (``deletes.record_delete``); a second reconciliation finds nothing.

Over the sandboxes, both directions, for webCRM ↔ Uniconta and webCRM ↔ Fortnox. No delete hook is registered, so
every delete here is a lost notice.
"""

from __future__ import annotations

import pytest

from integrations.engine.runs import reconcile_entity, run_progress, run_start
from integrations.models import (
    EventState,
    InboundEvent,
    MatchState,
    PossibleMatch,
    RunKind,
    RunState,
    SyncLink,
    SyncLogEntry,
    SyncRun,
)
from integrations.systems.catalog import Entity
from integrations.systems.errors import NotFoundError
from mappings.models import WebhookToggle
from tests.harness import QUIET, drain, make_pair, organisation

ORG = Entity.ORGANISATION


def delete_notices_on(pair, system: str) -> None:
    """Switch delete notices of organisations on, as an admin does (Fortnox, without webhooks, has no row yet)."""
    WebhookToggle.objects.update_or_create(
        tenant=pair.integration.tenant, integration=pair.integration, system=system, entity=ORG, action="deleted",
        defaults={"enabled": True})


@pytest.fixture
def uniconta(db, synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    pair.webcrm_hooks("Organisations")  # created and updated only: a delete in webCRM sends nothing
    return pair


@pytest.fixture
def fortnox(db, synkro, sandboxes):
    pair = make_pair("webcrm", "fortnox", sandboxes)
    pair.webcrm_hooks("Organisations")
    return pair


def linked(pair, name: str = "Havbrise Byg ApS") -> tuple[str, str]:
    """A webCRM customer synced to the ERP; returns (webCRM id, ERP id)."""
    [kind] = pair.sync("organisation").trigger_values[:1]
    org = pair.crm_client.create_record(ORG, organisation(OrganisationName=name, OrganisationType=kind))
    drain()
    link = SyncLink.objects.get(integration=pair.integration, entity=ORG, crm_id=str(org["OrganisationId"]))
    return link.crm_id, link.erp_id


def reconcile(pair) -> SyncRun:
    run = run_start(integration=pair.integration, kind=RunKind.RECONCILE, entity=ORG)
    reconcile_entity(run=run, client_options=QUIET)
    drain()
    return run_progress(SyncRun.objects.get(pk=run.pk))


def erp_exists(pair, erp_id: str) -> bool:
    try:
        pair.erp_client.get_record(ORG, erp_id)
    except NotFoundError:
        return False
    return True


def is_linked(pair, crm_id: str) -> bool:
    return SyncLink.objects.filter(integration=pair.integration, entity=ORG, crm_id=crm_id).exists()


@pytest.mark.parametrize("name", ["uniconta", "fortnox"])
def test_an_organisation_deleted_in_webcrm_without_a_notice_deletes_its_customer_at_the_next_reconciliation(
        request, name):
    pair = request.getfixturevalue(name)
    delete_notices_on(pair, "webcrm")
    crm_id, erp_id = linked(pair)
    _, kept = linked(pair, "Skovly Tømrer I/S")
    assert reconcile(pair).drift == 0
    pair.crm.delete_in_webcrm("Organisations", int(crm_id))  # no hook listens for deletes: the notice is lost
    assert not InboundEvent.objects.filter(action="deleted").exists()

    run = reconcile(pair)
    assert (run.state, run.drift) == (RunState.DONE, 1)
    assert not erp_exists(pair, erp_id) and erp_exists(pair, kept)
    entry = SyncLogEntry.objects.get(action="deleted", run=run)
    assert (entry.crm_id, entry.erp_id) == (crm_id, erp_id)
    assert not is_linked(pair, crm_id)
    assert reconcile(pair).drift == 0  # nothing left to find


@pytest.mark.parametrize("name", ["uniconta", "fortnox"])
def test_a_customer_deleted_in_the_erp_without_a_notice_unlinks_its_organisation_at_the_next_reconciliation(
        request, name):
    pair = request.getfixturevalue(name)
    delete_notices_on(pair, pair.integration.erp_connection.system)
    crm_id, erp_id = linked(pair)
    pair.erp_client.delete_record(ORG, erp_id)  # nobody hears of it
    drain()

    run = reconcile(pair)
    assert (run.state, run.drift) == (RunState.DONE, 1)
    entry = SyncLogEntry.objects.get(run=run, erp_id=erp_id)
    assert entry.action == "skipped" and "webCRM's API cannot delete organisations" in entry.reason
    assert pair.crm_client.get_record(ORG, crm_id)["OrganisationName"] == "Havbrise Byg ApS"  # webCRM untouched
    assert not is_linked(pair, crm_id)
    assert not InboundEvent.objects.filter(state=EventState.FAILED).exists()
    assert reconcile(pair).drift == 0
    # The organisation waits for a person; its next change does not make the deleted customer again.
    match = PossibleMatch.objects.get(integration=pair.integration, source_role="crm", source_id=crm_id)
    assert match.state == MatchState.OPEN and match.candidates == [] and "was deleted" in match.reason
    pair.crm.change_in_webcrm("Organisations", int(crm_id), OrganisationCity="Odense")
    drain()
    assert [pair.erp_client.record_id(ORG, r) for r in pair.erp_client.list_records(ORG)] == []
    assert SyncLogEntry.objects.filter(action="review", crm_id=crm_id).exists()


@pytest.mark.parametrize("name", ["uniconta", "fortnox"])
def test_a_record_a_list_page_leaves_out_but_still_readable_by_id_is_not_a_delete(request, name, monkeypatch):
    pair = request.getfixturevalue(name)
    delete_notices_on(pair, "webcrm")
    delete_notices_on(pair, pair.integration.erp_connection.system)
    crm_id, erp_id = linked(pair)
    clients = {type(pair.crm_client): crm_id, type(pair.erp_client): erp_id}
    for cls, hidden in clients.items():
        listed = cls.list_records

        def without(self, entity, *args, _listed=listed, _hidden=hidden, **kwargs):
            """A page that shifted under the listing: one record falls between two pages."""
            return (r for r in _listed(self, entity, *args, **kwargs) if self.record_id(entity, r) != _hidden)

        monkeypatch.setattr(cls, "list_records", without)
    assert crm_id not in {pair.crm_client.record_id(ORG, r) for r in pair.crm_client.list_records(ORG)}

    run = reconcile(pair)
    assert run.drift == 0
    assert is_linked(pair, crm_id) and erp_exists(pair, erp_id)
    assert not InboundEvent.objects.filter(action="deleted").exists()
    assert not SyncLogEntry.objects.filter(run=run).exists()


def test_with_delete_notices_off_nothing_is_deleted_and_the_pair_is_unlinked_with_the_reason(uniconta):
    crm_id, erp_id = linked(uniconta)
    uniconta.crm.delete_in_webcrm("Organisations", int(crm_id))

    run = reconcile(uniconta)
    assert run.drift == 1 and erp_exists(uniconta, erp_id)
    entry = SyncLogEntry.objects.get(run=run)
    assert entry.action == "skipped" and (entry.crm_id, entry.erp_id) == (crm_id, erp_id)
    assert entry.reason == (
        f"webCRM organisation {crm_id} was deleted. Delete notices from webCRM are switched off for organisations, "
        f"so Uniconta debtor {erp_id} was left alone and the two are no longer linked.")
    assert not is_linked(uniconta, crm_id)
    assert PossibleMatch.objects.filter(source_role="erp", source_id=erp_id, state=MatchState.OPEN).exists()
    assert reconcile(uniconta).drift == 0  # the debtor is not made again as a new organisation
    assert list(uniconta.crm_client.list_records(ORG)) == []


def test_the_organisation_left_standing_is_shown_for_review_and_made_again_only_when_a_person_chooses(uniconta,
                                                                                                       client):
    from django.urls import reverse

    delete_notices_on(uniconta, "uniconta")
    crm_id, account = linked(uniconta)
    uniconta.erp_client.delete_record(ORG, account)
    reconcile(uniconta)
    match = PossibleMatch.objects.get(source_id=crm_id, state=MatchState.OPEN)
    admin = uniconta.integration.tenant.memberships.get(role="admin").user
    client.force_login(admin)
    slug = uniconta.integration.tenant.slug
    page = client.get(reverse("possible-match-detail", args=[slug, match.pk]))
    assert page.status_code == 200 and f"Uniconta debtor {account} was deleted" in page.content.decode()
    client.post(reverse("possible-match-decide", args=[slug, match.pk]), {"decision": "create"})
    drain()
    [debtor] = list(uniconta.erp_client.list_records(ORG))
    assert debtor["Name"] == "Havbrise Byg ApS" and is_linked(uniconta, crm_id)
    assert reconcile(uniconta).drift == 0


def test_a_pos_customer_listed_but_marked_deleted_is_verified_by_id_and_deletes_its_debtor(db, synkro, sandboxes,
                                                                                           monkeypatch):
    """Customers 1st may still list a deleted customer, with ``deleted = 1`` (docs/vendors/customers1st.md)."""
    from integrations.services import integration_webhooks_register

    pair = make_pair("customers1st", "uniconta", sandboxes)
    delete_notices_on(pair, "customers1st")
    integration_webhooks_register(integration=pair.integration)
    pair.crm_client.suppress_hooks = False  # a person at the till
    customer = pair.crm_client.create_record(ORG, {"name": "Mette Nielsen", "email": "mette@example.dk",
                                                   "city": "Vejle", "zipcode": "7100"})
    drain()
    link = SyncLink.objects.get(integration=pair.integration, entity=ORG)
    pair.crm_client.suppress_hooks = True  # the delete notice is lost
    pair.crm_client.delete_record(ORG, str(customer["id"]))
    cls = type(pair.crm_client)
    listed = cls.list_records

    def with_the_deleted(self, entity, *args, **kwargs):
        yield from listed(self, entity, *args, **kwargs)
        if entity == ORG:
            yield {**customer, "deleted": 1}

    monkeypatch.setattr(cls, "list_records", with_the_deleted)
    run = reconcile(pair)
    assert run.drift == 1
    assert not erp_exists(pair, link.erp_id)
    assert reconcile(pair).drift == 0
