"""An initial import written in batches: one list insert for many new debtors, each linked and logged as alone."""

from __future__ import annotations

import pytest

from integrations.engine import bulk_create, process
from integrations.engine.runs import import_entity, run_start
from integrations.models import EventState, InboundEvent, LogAction, MatchState, PossibleMatch, SyncLink, SyncLogEntry
from integrations.systems.catalog import Entity
from integrations.systems.uniconta.sandbox_tables import UnicontaFault
from tests.harness import QUIET, make_pair

ORG = Entity.ORGANISATION


@pytest.fixture
def pair(db, synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    pair.sync(ORG).__class__.objects.filter(pk=pair.sync(ORG).pk).update(direction="to_erp")
    return pair


def new_orgs(pair, count: int, **values) -> list[dict]:
    return [pair.crm_client.create_record(ORG, {
        "OrganisationName": f"Importkunde {n:03} ApS", "OrganisationType": "Kunde", "OrganisationCity": "Vejle",
        "OrganisationAddress": f"Havnegade {n}", "OrganisationPostCode": "7100", **values}) for n in range(count)]


def start_import(pair):
    run = run_start(integration=pair.integration, kind="import", entity=ORG)
    import_entity(run=run, client_options=QUIET)
    return run


def process_batches() -> int:
    return bulk_create.events_batch_process(event_ids=process.events_due(), client_options=QUIET)


def uniconta_calls(pair, path_part: str, method: str = "POST") -> int:
    return sum(1 for r in pair.erp.requests if r.method == method and path_part in r.path)


def debtors(pair) -> list[dict]:
    return list(pair.erp_client.list_records(ORG))


def test_an_import_creates_its_debtors_with_one_list_insert_and_links_and_logs_each(pair):
    orgs = new_orgs(pair, 12)
    run = start_import(pair)
    pair.erp.requests.clear()

    assert process_batches() == 12

    assert uniconta_calls(pair, "/InsertList/DebtorClient") == 1
    assert uniconta_calls(pair, "/Insert/DebtorClient") == 0
    # The match searches of the batch: a few list reads, not one or more per record.
    assert uniconta_calls(pair, "/odata/", method="GET") < 12
    made = {d["Name"]: d for d in debtors(pair)}
    assert sorted(made) == [f"Importkunde {n:03} ApS" for n in range(12)]
    for org in orgs:
        debtor = made[org["OrganisationName"]]
        link = SyncLink.objects.get(integration=pair.integration, entity=ORG, crm_id=str(org["OrganisationId"]))
        assert link.erp_id == str(debtor["Account"]) and not link.pending
        entry = SyncLogEntry.objects.get(crm_id=str(org["OrganisationId"]), action=LogAction.CREATED)
        assert entry.erp_id == str(debtor["Account"]) and entry.run_id == run.pk and entry.event_id is not None
        assert entry.changes["Name"] == [None, org["OrganisationName"]]
        # The ERP assigned the number; it went back into webCRM as after a single create.
        assert pair.crm_client.get_record(ORG, str(org["OrganisationId"]))["OrganisationExtraCustom1"] == \
            str(debtor["Account"])
    assert set(InboundEvent.objects.filter(run=run).values_list("state", flat=True)) == {EventState.DONE}


def test_a_row_uniconta_refuses_fails_alone_with_its_words_and_the_others_are_created(pair, monkeypatch):
    orgs = new_orgs(pair, 5)
    refused = orgs[2]
    company = pair.erp.company()
    insert = company.insert

    def refusing(vendor_name, body):
        if vendor_name == "DebtorClient" and body.get("Name") == refused["OrganisationName"]:
            raise UnicontaFault(400, "Debtor group must be filled in", "FieldCannotBeBlank")
        return insert(vendor_name, body)

    monkeypatch.setattr(company, "insert", refusing)
    start_import(pair)

    process_batches()

    names = sorted(d["Name"] for d in debtors(pair))
    assert names == sorted(o["OrganisationName"] for o in orgs if o is not refused)
    assert SyncLink.objects.filter(integration=pair.integration, entity=ORG).count() == 4
    assert not SyncLink.objects.filter(crm_id=str(refused["OrganisationId"])).exists()
    failed = InboundEvent.objects.get(external_id=str(refused["OrganisationId"]))
    assert failed.state == EventState.FAILED and "Debtor group must be filled in" in failed.last_error
    entry = SyncLogEntry.objects.get(action=LogAction.FAILED)
    assert entry.crm_id == str(refused["OrganisationId"]) and "Debtor group must be filled in" in entry.vendor_message
    assert SyncLogEntry.objects.filter(action=LogAction.CREATED).count() == 4

    monkeypatch.setattr(company, "insert", insert)  # fixed in Uniconta: the replay creates it once
    process.event_replay(event=failed)
    process_batches()
    assert len(debtors(pair)) == 5


class Crash(BaseException):
    """The worker dies (killed, machine lost): nothing after this point runs."""


def test_a_crash_between_the_list_insert_and_the_links_creates_nothing_twice(pair, monkeypatch):
    orgs = new_orgs(pair, 6, OrganisationVatNumber="")
    for n, org in enumerate(orgs):  # each with its own CVR number, as real customers have
        pair.crm_client.update_record(ORG, str(org["OrganisationId"]), {"OrganisationVatNumber": f"DK{31000000 + n}"})
    start_import(pair)

    def killed(*args, **kwargs):
        raise Crash

    with monkeypatch.context() as patched:
        patched.setattr(bulk_create, "_link_and_log", killed)
        with pytest.raises(Crash):
            process_batches()
    assert len(debtors(pair)) == 6 and not SyncLink.objects.exists()

    # The claims of the dead worker run out; the events are taken up again.
    InboundEvent.objects.filter(state=EventState.PROCESSING).update(state=EventState.PENDING, next_attempt_at=None)
    process_batches()

    assert len(debtors(pair)) == 6
    accounts = {str(d["Account"]) for d in debtors(pair)}
    links = SyncLink.objects.filter(integration=pair.integration, entity=ORG)
    assert links.count() == 6 and {link.erp_id for link in links} == accounts
    assert set(InboundEvent.objects.values_list("state", flat=True)) == {EventState.DONE}
    for org in orgs:
        assert pair.crm_client.get_record(ORG, str(org["OrganisationId"]))["OrganisationExtraCustom1"] in accounts


def test_a_list_whose_answer_was_lost_is_retried_and_its_debtors_are_linked_not_made_again(pair, monkeypatch):
    from integrations.systems.errors import TransientError
    from integrations.systems.uniconta.client import UnicontaClient

    orgs = new_orgs(pair, 4)
    start_import(pair)
    sent = UnicontaClient.insert_rows

    def applied_but_unanswered(self, vendor_name, rows):
        sent(self, vendor_name, rows)  # Uniconta stored them; its answer never arrived
        raise TransientError("Uniconta did not answer in time")

    with monkeypatch.context() as patched:
        patched.setattr(UnicontaClient, "insert_rows", applied_but_unanswered)
        process_batches()
    assert len(debtors(pair)) == 4 and not SyncLink.objects.exists()
    waiting = InboundEvent.objects.filter(state=EventState.PENDING)
    assert waiting.count() == 4 and all("Uniconta did not answer in time" in e.last_error for e in waiting)

    waiting.update(next_attempt_at=None)  # their retry is due
    process_batches()

    assert len(debtors(pair)) == 4
    assert SyncLink.objects.filter(integration=pair.integration, entity=ORG).count() == 4
    assert {str(o["OrganisationId"]) for o in orgs} == set(SyncLink.objects.values_list("crm_id", flat=True))
    assert set(InboundEvent.objects.values_list("state", flat=True)) == {EventState.DONE}


def test_a_record_whose_evidence_disagrees_waits_for_a_person_and_the_rest_are_created(pair):
    pair.erp_client.create_record(ORG, {"Name": "Fjordlys Fiskeri A/S", "CompanyRegNo": "DK12345674",
                                        "City": "Esbjerg"})
    orgs = new_orgs(pair, 4)
    doubtful = pair.crm_client.create_record(ORG, {
        "OrganisationName": "Havbrise Byg ApS", "OrganisationType": "Kunde", "OrganisationVatNumber": "DK12345674"})
    start_import(pair)
    pair.erp.requests.clear()

    process_batches()

    assert uniconta_calls(pair, "/InsertList/DebtorClient") == 1
    assert sorted(d["Name"] for d in debtors(pair)) == sorted(
        ["Fjordlys Fiskeri A/S", *(o["OrganisationName"] for o in orgs)])
    match = PossibleMatch.objects.get(source_id=str(doubtful["OrganisationId"]))
    assert match.state == MatchState.OPEN and match.candidates[0]["label"] == "Fjordlys Fiskeri A/S"
    assert SyncLogEntry.objects.get(crm_id=str(doubtful["OrganisationId"])).action == LogAction.REVIEW
    assert not SyncLink.objects.filter(crm_id=str(doubtful["OrganisationId"])).exists()


def test_two_records_of_one_batch_with_the_same_cvr_are_not_both_created(pair):
    first, second = (pair.crm_client.create_record(ORG, {
        "OrganisationName": name, "OrganisationType": "Kunde", "OrganisationVatNumber": "DK12345674"})
        for name in ("Havbrise Byg ApS", "Havbrise Byg ApS"))
    start_import(pair)

    process_batches()

    # As one by one: the first is created, the second finds it (linked to the first) and waits for a person.
    assert [d["Name"] for d in debtors(pair)] == ["Havbrise Byg ApS"]
    assert SyncLink.objects.get(entity=ORG).crm_id == str(first["OrganisationId"])
    assert PossibleMatch.objects.get(source_id=str(second["OrganisationId"])).state == MatchState.OPEN


def test_the_uniconta_sandbox_refuses_a_list_beyond_its_limit(pair):
    from integrations.systems.errors import VendorValidationError
    from integrations.systems.uniconta.sandbox import LIST_ROWS_MAX

    rows = [{"Name": f"Kunde {n}"} for n in range(LIST_ROWS_MAX + 1)]
    with pytest.raises(VendorValidationError):
        pair.erp_client.insert_rows("DebtorClient", rows)
    assert debtors(pair) == []


def test_the_uniconta_client_sends_a_long_list_in_calls_within_its_size(pair):
    from integrations.systems.uniconta.client import LIST_INSERT_ROWS

    made = pair.erp_client.create_records(ORG, [{"Name": f"Kunde {n}"} for n in range(LIST_INSERT_ROWS + 3)])
    assert len(made) == LIST_INSERT_ROWS + 3 and all(row.get("Account") for row in made)
    assert uniconta_calls(pair, "/InsertList/DebtorClient") == 2


def test_a_batch_search_answers_what_one_search_each_answers(pair):
    for name, city in (("Havbrise Byg ApS", "Aarhus"), ("havbrise byg aps ", "Odense"), ("Skovly I/S", "Vejle"),
                       ("Havbrise Byggeri", "Kolding")):
        pair.erp_client.create_record(ORG, {"Name": name, "City": city})
    terms = [("Name", "Havbrise Byg ApS"), ("Name", "Skovly I/S"), ("Name", "Nobody A/S")]
    one_each = [sorted(str(r["Account"]) for r in pair.erp_client.find_records(ORG, *term)) for term in terms]
    finder = bulk_create.BatchFinder(pair.erp_client, ORG)
    pair.erp.requests.clear()

    finder.prefetch(terms)
    together = [sorted(str(r["Account"]) for r in finder.find_records(ORG, *term)) for term in terms]

    assert together == one_each and [len(accounts) for accounts in together] == [2, 1, 0]
    assert uniconta_calls(pair, "/odata/", method="GET") == 1
    finder.find_records(ORG, "Name", "Havbrise Byggeri")  # not asked before: the vendor is asked
    assert uniconta_calls(pair, "/odata/", method="GET") == 2
