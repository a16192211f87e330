"""Identity proven before a write, end to end over the sandboxes, for every webCRM ↔ ERP pair.

Each case is one of the kinds seen with real data: a customer number shared by two companies, a typed
number that belongs to another company, the same company spelled differently, an e-mail with stray
spaces. The outcome is checked in the target sandbox's own store.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from integrations.models import Integration, LogAction, MatchState, PossibleMatch, SyncLink, SyncLogEntry
from integrations.systems.catalog import Entity
from mappings.defaults import integration_setup_defaults
from tests.harness import drain, make_pair

ORG, PERSON = Entity.ORGANISATION, Entity.PERSON


@dataclass(frozen=True)
class Fields:
    """The ERP's names for the fields these cases look at."""

    number: str
    vat: str
    name: str
    city: str


ERP_FIELDS = {
    "uniconta": Fields("Account", "CompanyRegNo", "Name", "City"),
    "fortnox": Fields("CustomerNumber", "OrganisationNumber", "Name", "City"),
    "vismanet": Fields("number", "corporateId", "name", "mainAddress.city"),
}
ERPS = list(ERP_FIELDS)


def make(erp: str, sandboxes, *, authority: str = "erp"):
    pair = make_pair("webcrm", erp, sandboxes)
    pair.sync(ORG).__class__.objects.filter(pk=pair.sync(ORG).pk).update(number_authority=authority)
    return pair


def trigger(pair) -> str:
    return pair.sync(ORG).trigger_values[0]


def erp_customers(pair) -> list[dict]:
    return list(pair.erp_client.list_records(ORG))


def new_org(pair, **values):
    return pair.crm_client.create_record(ORG, {"OrganisationType": trigger(pair), **values})


def notice(pair, system: str, entity: str, external_id) -> None:
    """The notice ``system`` sends for a new or changed record, processed by a worker."""
    from integrations.engine.ingest import events_ingest_batch

    events_ingest_batch(integration=pair.integration, system=system, entity=entity,
                        external_ids=[str(external_id)], source="webhook")
    drain()


def sync_org(pair, org) -> None:
    notice(pair, "webcrm", ORG, org["OrganisationId"])


@pytest.mark.parametrize("authority", ["erp", "crm"])
@pytest.mark.parametrize("erp", ERPS)
def test_a_typed_number_that_belongs_to_another_company_never_changes_that_company(db, synkro, sandboxes, erp,
                                                                                  authority):
    pair = make(erp, sandboxes, authority=authority)
    f = ERP_FIELDS[erp]
    other = pair.erp_client.create_record(ORG, {f.number: "1001", f.name: "Annan Kund AB", f.vat: "556012-3456",
                                                f.city: "Malmö"})
    assert str(other[f.number]) == "1001"
    org = new_org(pair, OrganisationName="Sjöviks VVS AB", OrganisationVatNumber="556677-8899",
                  OrganisationCity="Umeå", OrganisationExtraCustom1="1001")
    sync_org(pair, org)

    [still] = erp_customers(pair)
    assert (still[f.name], still[f.vat], still[f.city]) == ("Annan Kund AB", "556012-3456", "Malmö")
    assert not SyncLink.objects.filter(integration=pair.integration, entity=ORG).exists()
    if authority == "crm":
        entry = SyncLogEntry.objects.get(integration=pair.integration, action=LogAction.SKIPPED)
        assert "Customer number 1001" in entry.reason
        assert "Sjöviks VVS AB" in entry.reason and "Annan Kund AB" in entry.reason
        assert "556677-8899" in entry.reason and "556012-3456" in entry.reason
    else:
        match = PossibleMatch.objects.get(integration=pair.integration, state=MatchState.OPEN)
        assert match.source_id == str(org["OrganisationId"])
        [candidate] = match.candidates
        assert candidate["label"] == "Annan Kund AB"
        assert any("556012-3456" in reason for reason in candidate["against"])
        assert SyncLogEntry.objects.filter(integration=pair.integration, action=LogAction.REVIEW).count() == 1


@pytest.mark.parametrize("erp", ERPS)
def test_a_linked_organisations_new_number_that_another_company_has_is_refused(db, synkro, sandboxes, erp):
    pair = make(erp, sandboxes)
    f = ERP_FIELDS[erp]
    pair.erp_client.create_record(ORG, {f.number: "1001", f.name: "Annan Kund AB", f.vat: "556012-3456"})
    org = new_org(pair, OrganisationName="Sjöviks VVS AB", OrganisationVatNumber="556677-8899")
    sync_org(pair, org)
    link = SyncLink.objects.get(integration=pair.integration, entity=ORG)
    pair.crm.change_in_webcrm("Organisations", org["OrganisationId"], OrganisationExtraCustom1="1001",
                              OrganisationCity="Umeå")
    sync_org(pair, org)

    customers = {str(c[f.number]): c for c in erp_customers(pair)}
    assert customers["1001"][f.name] == "Annan Kund AB"
    assert customers[link.erp_id][f.name] == "Sjöviks VVS AB"
    entry = SyncLogEntry.objects.filter(integration=pair.integration, action=LogAction.SKIPPED).first()
    assert "Customer number 1001" in entry.reason and "Annan Kund AB" in entry.reason


SPELLINGS = {
    # (ERP's spelling, webCRM's spelling) of the same company's number
    "uniconta": ("25313763", "DK 25 31 37 63"),
    "fortnox": ("556677-8899", "5566778899"),
    "vismanet": ("SE556677889901", "556677-8899"),
}


@pytest.mark.parametrize("erp", ERPS)
def test_the_same_company_spelled_differently_is_adopted_not_duplicated(db, synkro, sandboxes, erp):
    pair = make(erp, sandboxes)
    f = ERP_FIELDS[erp]
    erp_number, crm_number = SPELLINGS[erp]
    existing = pair.erp_client.create_record(ORG, {f.name: "Björkdal Bygg AB", f.vat: erp_number, f.city: "Umeå"})
    org = new_org(pair, OrganisationName="Björkdal Bygg Aktiebolag", OrganisationVatNumber=crm_number)
    sync_org(pair, org)

    [customer] = erp_customers(pair)
    assert str(customer[f.number]) == str(existing[f.number])
    link = SyncLink.objects.get(integration=pair.integration, entity=ORG)
    assert link.erp_id == str(existing[f.number]) and link.crm_id == str(org["OrganisationId"])
    assert "Matched an existing record" in SyncLogEntry.objects.filter(integration=pair.integration).first().reason


@pytest.mark.parametrize("erp", ERPS)
def test_the_same_company_spelled_differently_coming_from_the_erp_is_adopted(db, synkro, sandboxes, erp):
    pair = make(erp, sandboxes)
    f = ERP_FIELDS[erp]
    erp_number, crm_number = SPELLINGS[erp]
    org = new_org(pair, OrganisationName="Björkdal Bygg AB", OrganisationVatNumber=crm_number)
    pair.sync(ORG).__class__.objects.filter(pk=pair.sync(ORG).pk).update(direction="to_crm")
    customer = pair.erp_client.create_record(ORG, {f.name: "Björkdal Bygg Aktiebolag", f.vat: erp_number})
    notice(pair, erp, ORG, customer[f.number])
    assert [o["OrganisationId"] for o in pair.crm_client.list_records(ORG)] == [org["OrganisationId"]]
    link = SyncLink.objects.get(integration=pair.integration, entity=ORG)
    assert link.crm_id == str(org["OrganisationId"])


def test_an_org_number_match_adopts_even_when_the_names_differ_slightly(db, synkro, sandboxes):
    pair = make("fortnox", sandboxes)
    pair.erp_client.create_record(ORG, {"Name": "Björkdal Byggnads AB", "OrganisationNumber": "556677-8899"})
    org = new_org(pair, OrganisationName="Björkdal Bygg AB", OrganisationVatNumber="SE556677889901")
    sync_org(pair, org)
    assert len(erp_customers(pair)) == 1
    assert SyncLink.objects.filter(integration=pair.integration, entity=ORG).count() == 1


def test_a_name_alone_with_a_different_org_number_is_another_company(db, synkro, sandboxes):
    pair = make("fortnox", sandboxes)
    pair.erp_client.create_record(ORG, {"Name": "Nordic Trading AB", "OrganisationNumber": "556012-3456"})
    org = new_org(pair, OrganisationName="Nordic Trading AB", OrganisationVatNumber="556677-8899")
    sync_org(pair, org)
    names = sorted((c["Name"], c["OrganisationNumber"]) for c in erp_customers(pair))
    assert names == [("Nordic Trading AB", "556012-3456"), ("Nordic Trading AB", "556677-8899")]
    assert not PossibleMatch.objects.exists()


def test_two_customers_that_both_fit_wait_for_a_person(db, synkro, sandboxes):
    pair = make("fortnox", sandboxes)
    for city in ("Umeå", "Luleå"):
        pair.erp_client.create_record(ORG, {"Name": "Björkdal Bygg AB", "OrganisationNumber": "556677-8899",
                                            "City": city})
    org = new_org(pair, OrganisationName="Björkdal Bygg AB", OrganisationVatNumber="556677-8899")
    sync_org(pair, org)
    assert len(erp_customers(pair)) == 2
    match = PossibleMatch.objects.get(state=MatchState.OPEN)
    assert len(match.candidates) == 2 and "fits 2 records" in match.reason


def test_an_email_with_stray_spaces_is_the_same_contact(db, synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    org = new_org(pair, OrganisationName="Havbrise Byg ApS")
    sync_org(pair, org)
    debtor = SyncLink.objects.get(integration=pair.integration, entity=ORG).erp_id
    pair.erp_client.create_record(PERSON, {"Name": "Mette Nielsen", "Email": "mette.nielsen@havbrise.dk ",
                                           "DCAccount": debtor, "DCType": "Debtor"})
    person = pair.crm_client.create_record(PERSON, {"PersonName": "Mette Nielsen",
                                                    "PersonEmail": "Mette.Nielsen@Havbrise.dk",
                                                    "PersonOrganisationId": org["OrganisationId"],
                                                    "PersonCheckMark1": True})
    notice(pair, "webcrm", PERSON, person["PersonId"])
    contacts = list(pair.erp_client.list_records(PERSON))
    assert len(contacts) == 1
    assert SyncLink.objects.get(integration=pair.integration, entity=PERSON).crm_id == str(person["PersonId"])


def test_switching_erps_overwrites_no_organisation(db, synkro, sandboxes):
    """webCRM ↔ Uniconta wrote its numbers into webCRM; webCRM ↔ Fortnox, switched on instead, must not
    take Fortnox customers that happen to have those numbers for the same companies."""
    uniconta = make_pair("webcrm", "uniconta", sandboxes)
    companies = [("Odense Transport ApS", "Odense C"), ("Vejle Smedie A/S", "Vejle"), ("Aarhus Tæpper ApS", "Aarhus")]
    orgs = [new_org(uniconta, OrganisationName=name, OrganisationCity=city) for name, city in companies]
    for org in orgs:
        sync_org(uniconta, org)
    numbers = [uniconta.crm_client.get_record(ORG, str(o["OrganisationId"]))["OrganisationExtraCustom1"]
               for o in orgs]
    assert all(numbers)
    Integration.objects.filter(pk=uniconta.integration.pk).update(active=False)

    fortnox_conn = make_pair("webcrm", "fortnox", sandboxes).integration.erp_connection
    fortnox_conn.tenant = uniconta.integration.tenant
    fortnox_conn.name = "Fortnox (switch)"
    fortnox_conn.save()
    fortnox = Integration.objects.create(tenant=uniconta.integration.tenant, name="webCRM ↔ Fortnox",
                                         crm_connection=uniconta.integration.crm_connection,
                                         erp_connection=fortnox_conn)
    integration_setup_defaults(integration=fortnox)
    fortnox_client = fortnox_conn.client(sleep=lambda s: None)
    for number, city in zip(numbers, ("Uppsala", "Västerås", "Örebro"), strict=True):
        fortnox_client.create_record(ORG, {"CustomerNumber": number, "Name": f"Redovisning {city} AB", "City": city})
    before_crm = {o["OrganisationId"]: (o["OrganisationName"], o["OrganisationCity"])
                  for o in uniconta.crm_client.list_records(ORG)}
    before_fortnox = {c["CustomerNumber"]: (c["Name"], c["City"]) for c in fortnox_client.list_records(ORG)}

    from integrations.engine.runs import reconcile_entity, run_start
    from tests.harness import QUIET

    run = run_start(integration=fortnox, kind="reconcile", entity=ORG)
    reconcile_entity(run=run, client_options=QUIET)
    drain()

    after_crm = {o["OrganisationId"]: (o["OrganisationName"], o["OrganisationCity"])
                 for o in uniconta.crm_client.list_records(ORG)}
    after_fortnox = {c["CustomerNumber"]: (c["Name"], c["City"]) for c in fortnox_client.list_records(ORG)}
    overwritten = [k for k, v in before_crm.items() if after_crm.get(k) != v]
    overwritten += [k for k, v in before_fortnox.items() if after_fortnox.get(k) != v]
    assert overwritten == []
    assert not SyncLink.objects.filter(integration=fortnox, crm_id__in=[str(o["OrganisationId"]) for o in orgs],
                                       erp_id__in=numbers).exists()


@pytest.fixture
def pos(db, synkro, sandboxes):
    from integrations.services import integration_webhooks_register

    pair = make_pair("customers1st", "uniconta", sandboxes)
    integration_webhooks_register(integration=pair.integration)
    pair.crm_client.suppress_hooks = False  # a person at the till, whose changes raise hooks
    return pair


def test_a_till_customer_whose_email_has_stray_spaces_in_uniconta_is_adopted(pos):
    debtor = pos.erp_client.create_record(ORG, {"Name": "Mette Nielsen", "ContactEmail": " mette.nielsen@havbrise.dk ",
                                                "City": "Vejle"})
    customer = pos.crm_client.create_record(ORG, {"name": "Mette Nielsen", "email": "Mette.Nielsen@Havbrise.dk",
                                                  "city": "Vejle"})
    drain()
    assert [d["Account"] for d in pos.erp_client.list_records(ORG)] == [debtor["Account"]]
    link = SyncLink.objects.get(integration=pos.integration, entity=ORG)
    assert (link.crm_id, link.erp_id) == (str(customer["id"]), debtor["Account"])


def test_a_till_customer_sharing_only_an_email_with_another_name_waits_for_a_person(pos):
    pos.erp_client.create_record(ORG, {"Name": "Havbrise Byg ApS", "ContactEmail": "info@havbrise.dk"})
    pos.crm_client.create_record(ORG, {"name": "Jens Hansen", "email": "info@havbrise.dk"})
    drain()
    assert [d["Name"] for d in pos.erp_client.list_records(ORG)] == ["Havbrise Byg ApS"]
    [customer] = list(pos.crm_client.list_records(ORG))
    assert customer["name"] == "Jens Hansen"  # neither side took the other's name
    match = PossibleMatch.objects.get(integration=pos.integration, state=MatchState.OPEN)  # one question, not two
    assert {match.source_label, match.candidates[0]["label"]} == {"Jens Hansen", "Havbrise Byg ApS"}


def test_a_record_waiting_for_a_person_is_not_drift_on_every_reconciliation(db, synkro, sandboxes):
    from integrations.engine.runs import reconcile_entity, run_start
    from tests.harness import QUIET

    pair = make("fortnox", sandboxes)
    pair.erp_client.create_record(ORG, {"CustomerNumber": "1001", "Name": "Annan Kund AB",
                                        "OrganisationNumber": "556012-3456"})
    org = new_org(pair, OrganisationName="Sjöviks VVS AB", OrganisationVatNumber="556677-8899",
                  OrganisationExtraCustom1="1001")
    sync_org(pair, org)
    assert PossibleMatch.objects.filter(state=MatchState.OPEN).count() == 1
    reviews = SyncLogEntry.objects.filter(action=LogAction.REVIEW).count()
    run = run_start(integration=pair.integration, kind="reconcile", entity=ORG)
    reconcile_entity(run=run, client_options=QUIET)
    drain()
    run.refresh_from_db()
    assert run.drift == 0
    assert SyncLogEntry.objects.filter(action=LogAction.REVIEW).count() == reviews
    assert [c["Name"] for c in erp_customers(pair)] == ["Annan Kund AB"]


def test_no_reconciliation_is_scheduled_for_records_the_erp_does_not_keep(db, synkro, sandboxes):
    from datetime import timedelta

    from django.utils import timezone

    from integrations.engine.runs import reconciliations_due

    pair = make("fortnox", sandboxes)
    due = {s.entity for s in reconciliations_due(now=timezone.now() + timedelta(days=2))
           if s.integration_id == pair.integration.pk}
    assert ORG in due and PERSON not in due  # Fortnox keeps no contact persons


@pytest.mark.parametrize("erp", ERPS)
def test_an_org_number_spelled_differently_on_each_side_is_not_rewritten(db, synkro, sandboxes, erp):
    from integrations.engine.runs import reconcile_entity, run_start
    from tests.harness import QUIET

    pair = make(erp, sandboxes)
    f = ERP_FIELDS[erp]
    erp_number, crm_number = SPELLINGS[erp]
    org = new_org(pair, OrganisationName="Björkdal Bygg AB", OrganisationVatNumber=crm_number)
    sync_org(pair, org)
    link = SyncLink.objects.get(integration=pair.integration, entity=ORG)
    pair.erp_client.update_record(ORG, link.erp_id, {f.vat: erp_number})  # the bookkeeper's own spelling
    for _ in range(2):
        run = run_start(integration=pair.integration, kind="reconcile", entity=ORG)
        reconcile_entity(run=run, client_options=QUIET)
        drain()
    [customer] = erp_customers(pair)
    assert customer[f.vat] == erp_number
    assert pair.crm_client.get_record(ORG, str(org["OrganisationId"]))["OrganisationVatNumber"] == crm_number
    run.refresh_from_db()
    assert run.drift == 0  # the second reconciliation finds nothing left to do


@pytest.mark.parametrize("erp", ERPS)
def test_create_new_after_a_number_collision_lets_the_erp_assign_the_number(db, synkro, sandboxes, erp):
    from django.contrib.auth import get_user_model

    from integrations.engine.review import possible_match_decide

    pair = make(erp, sandboxes)
    f = ERP_FIELDS[erp]
    pair.erp_client.create_record(ORG, {f.number: "1001", f.name: "Annan Kund AB", f.vat: "556012-3456"})
    org = new_org(pair, OrganisationName="Sjöviks VVS AB", OrganisationVatNumber="556677-8899",
                  OrganisationExtraCustom1="1001")
    sync_org(pair, org)
    match = PossibleMatch.objects.get(integration=pair.integration, state=MatchState.OPEN)
    admin = get_user_model().objects.create_user("decider")
    possible_match_decide(match=match, decision="create", user=admin)
    drain()
    customers = {str(c[f.number]): c[f.name] for c in erp_customers(pair)}
    link = SyncLink.objects.get(integration=pair.integration, entity=ORG)
    assert customers["1001"] == "Annan Kund AB" and customers[link.erp_id] == "Sjöviks VVS AB"
    assert link.erp_id != "1001"
    again = pair.crm_client.get_record(ORG, str(org["OrganisationId"]))
    assert again["OrganisationExtraCustom1"] == link.erp_id  # the ERP's number, written back


def test_a_contact_from_uniconta_becomes_a_person_relevant_for_the_erp(db, synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    org = new_org(pair, OrganisationName="Havbrise Byg ApS")
    sync_org(pair, org)
    debtor = SyncLink.objects.get(integration=pair.integration, entity=ORG).erp_id
    contact = pair.erp_client.create_record(PERSON, {"Name": "Jens Holm", "Email": "jens@havbrise.dk",
                                                     "DCAccount": debtor, "DCType": "Debtor"})
    notice(pair, "uniconta", PERSON, contact["RowId"])
    [person] = list(pair.crm_client.list_records(PERSON))
    assert person["PersonCheckMark1"] is True
    pair.crm.change_in_webcrm("Persons", person["PersonId"], PersonTitle="Indkøber")
    notice(pair, "webcrm", PERSON, person["PersonId"])
    assert [c["Title"] for c in pair.erp_client.list_records(PERSON)] == ["Indkøber"]


def test_a_record_linked_to_its_candidate_meanwhile_carries_on_and_settles_its_possible_match(
        db, synkro, sandboxes, monkeypatch):
    from integrations.engine import apply

    pair = make("fortnox", sandboxes)
    customer = pair.erp_client.create_record(ORG, {"Name": "Björkdal Bygg AB", "OrganisationNumber": "556677-8899"})
    org = new_org(pair, OrganisationName="Björkdal Bygg AB", OrganisationVatNumber="556677-8899")
    PossibleMatch.objects.create(tenant=pair.integration.tenant, integration=pair.integration, entity=ORG,
                                 source_role="crm", source_id=str(org["OrganisationId"]),
                                 candidates=[{"id": customer["CustomerNumber"], "label": "Björkdal Bygg AB"}])
    # The other side's notice linked the pair while this record's worker was between its two reads.
    SyncLink.objects.create(tenant=pair.integration.tenant, integration=pair.integration, entity=ORG,
                            crm_id=str(org["OrganisationId"]), erp_id=customer["CustomerNumber"])
    real_link_for, calls = apply.link_for, []

    def stale_first(ctx, side, record_id, entities=None):
        calls.append(record_id)
        return None if len(calls) == 1 else real_link_for(ctx, side, record_id, entities)

    monkeypatch.setattr(apply, "link_for", stale_first)
    sync_org(pair, org)
    assert len(erp_customers(pair)) == 1
    assert SyncLogEntry.objects.filter(integration=pair.integration, action=LogAction.REVIEW).count() == 0
    assert PossibleMatch.objects.get().state == MatchState.LINKED
