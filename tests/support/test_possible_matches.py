"""Possible matches: a person links, creates or skips; the screens, roles and the API around that decision."""

from __future__ import annotations

import pytest

from integrations.engine.review import DecisionRefused, possible_match_decide
from integrations.models import (
    EventSource,
    EventState,
    InboundEvent,
    LogAction,
    MatchState,
    PossibleMatch,
    SyncLink,
    SyncLogEntry,
)
from tests.support.conftest import url

pytestmark = pytest.mark.django_db

CANDIDATES = [
    {"id": "1001", "label": "Sjöviks VVS", "values": {"Name": "Sjöviks VVS", "Org./VAT no.": "556123-4567",
                                                     "Number": "1001", "City": "Sundsvall"},
     "for": ["Org./VAT no. 556123-4567 is the same on both sides"],
     "against": ["The names differ: “Sjöviks VVS AB” and “Sjöviks VVS”"]},
    {"id": "1002", "label": "Sjöviks Rör & VVS AB", "values": {"Name": "Sjöviks Rör & VVS AB", "City": "Timrå"},
     "for": ["The names are alike"], "against": ["No org./VAT no. to compare"]},
]


def open_match(world, *, integration=None, source_role="crm", source_id="305", candidates=None,
               **fields) -> PossibleMatch:
    integration = integration or world.integration
    return PossibleMatch.objects.create(
        tenant=integration.tenant, integration=integration, entity="organisation", source_role=source_role,
        source_id=source_id, source_label=fields.pop("source_label", "Sjöviks VVS AB"),
        source_values=fields.pop("source_values", {"Name": "Sjöviks VVS AB", "Org./VAT no.": "556123-4567",
                                                   "City": "Sundsvall"}),
        candidates=CANDIDATES if candidates is None else candidates,
        reason=fields.pop("reason", "Two debtors in Uniconta could be this organisation, and the evidence disagrees."),
        **fields)


def manual_events(world):
    return InboundEvent.objects.filter(integration=world.integration, source=EventSource.MANUAL)


def reviews(world):
    return SyncLogEntry.objects.filter(integration=world.integration, action=LogAction.REVIEW)


# -- the decision service -------------------------------------------------------------------------------------

def test_link_links_both_records_writes_the_audit_entry_and_queues_the_record(world):
    match = open_match(world)
    decided = possible_match_decide(match=match, decision="link", candidate_id="1001", user=world.support)
    match.refresh_from_db()
    assert (match.state, match.chosen_id, match.decided_by) == (MatchState.LINKED, "1001", world.support)
    assert decided.state == MatchState.LINKED and match.decided_at is not None
    link = SyncLink.objects.get(integration=world.integration, entity="organisation")
    assert (link.crm_id, link.erp_id, link.label) == ("305", "1001", "Sjöviks VVS AB")
    [entry] = reviews(world)
    assert entry.reason == ("sofie-support linked webCRM organisation 305 “Sjöviks VVS AB” to "
                            "Uniconta debtor 1001 “Sjöviks VVS”.")
    assert (entry.crm_id, entry.erp_id, entry.direction) == ("305", "1001", "to_erp")
    [event] = manual_events(world)
    assert (event.system, event.entity, event.external_id, event.state) == (
        "webcrm", "organisation", "305", EventState.PENDING)


def test_an_erp_record_that_waits_is_linked_the_other_way_round(world):
    match = open_match(world, source_role="erp", source_id="1001", source_label="Sjöviks VVS",
                       candidates=[{"id": "305", "label": "Sjöviks VVS AB", "values": {"Name": "Sjöviks VVS AB"}}])
    possible_match_decide(match=match, decision="link", candidate_id="305", user=world.admin)
    link = SyncLink.objects.get(integration=world.integration)
    assert (link.crm_id, link.erp_id) == ("305", "1001")
    assert reviews(world).get().reason == ("anna-admin linked Uniconta debtor 1001 “Sjöviks VVS” to "
                                           "webCRM organisation 305 “Sjöviks VVS AB”.")
    assert manual_events(world).get().system == "uniconta"


def test_create_new_links_nothing_and_sends_the_record_on(world):
    match = open_match(world)
    possible_match_decide(match=match, decision="create", user=world.admin)
    match.refresh_from_db()
    assert (match.state, match.chosen_id, match.decided_by) == (MatchState.CREATED, "", world.admin)
    assert not SyncLink.objects.exists()
    assert reviews(world).get().reason == ("anna-admin chose to create a new Uniconta debtor for "
                                           "webCRM organisation 305 “Sjöviks VVS AB”.")
    assert manual_events(world).get().external_id == "305"


def test_skip_leaves_the_record_alone(world):
    match = open_match(world)
    possible_match_decide(match=match, decision="skip", user=world.support)
    match.refresh_from_db()
    assert match.state == MatchState.SKIPPED and match.decided_by == world.support
    assert not SyncLink.objects.exists()
    assert not manual_events(world).exists()
    assert reviews(world).get().reason == ("sofie-support chose to skip webCRM organisation 305 “Sjöviks VVS AB”: "
                                           "it is not sent to Uniconta.")


def test_a_decision_joins_a_change_already_waiting_for_the_record(world):
    from integrations.engine.ingest import event_ingest

    waiting, _ = event_ingest(integration=world.integration, system="webcrm", entity="organisation",
                              action="updated", external_id="305")
    possible_match_decide(match=open_match(world), decision="create", user=world.admin)
    events = InboundEvent.objects.filter(integration=world.integration, external_id="305", state=EventState.PENDING)
    assert [e.pk for e in events] == [waiting.pk]
    assert events.get().deliveries == 2


def assert_nothing_written(world, match):
    match.refresh_from_db()
    assert match.state == MatchState.OPEN and match.decided_by is None and match.chosen_id == ""
    assert not reviews(world).exists()
    assert not manual_events(world).exists()


def test_a_decided_match_cannot_be_decided_again(world):
    match = open_match(world)
    possible_match_decide(match=match, decision="skip", user=world.admin)
    with pytest.raises(DecisionRefused, match="decided already: anna-admin chose to skip it on "):
        possible_match_decide(match=match, decision="link", candidate_id="1001", user=world.support)
    match.refresh_from_db()
    assert match.state == MatchState.SKIPPED and match.decided_by == world.admin
    assert not SyncLink.objects.exists() and reviews(world).count() == 1


def test_only_a_candidate_of_the_match_can_be_linked(world):
    match = open_match(world)
    with pytest.raises(DecisionRefused, match="Uniconta debtor 4711 is not one of the candidates"):
        possible_match_decide(match=match, decision="link", candidate_id="4711", user=world.admin)
    with pytest.raises(DecisionRefused, match="not one of the candidates"):
        possible_match_decide(match=match, decision="link", user=world.admin)
    assert not SyncLink.objects.exists()
    assert_nothing_written(world, match)


def test_a_candidate_linked_to_another_record_is_refused(world):
    SyncLink.objects.create(tenant=world.tenant, integration=world.integration, entity="organisation", crm_id="77",
                            erp_id="1001")
    match = open_match(world)
    with pytest.raises(DecisionRefused, match="Uniconta debtor 1001 is already linked to webCRM organisation 77"):
        possible_match_decide(match=match, decision="link", candidate_id="1001", user=world.admin)
    assert SyncLink.objects.count() == 1
    assert_nothing_written(world, match)


@pytest.mark.parametrize("decision", ["link", "create", "skip"])
def test_a_record_linked_meanwhile_no_longer_waits(world, decision):
    SyncLink.objects.create(tenant=world.tenant, integration=world.integration, entity="organisation", crm_id="305",
                            erp_id="1002")
    match = open_match(world)
    with pytest.raises(DecisionRefused, match="already linked to Uniconta debtor 1002"):
        possible_match_decide(match=match, decision=decision, candidate_id="1001", user=world.admin)
    assert_nothing_written(world, match)


def test_links_of_another_entity_or_integration_do_not_count(world):
    SyncLink.objects.create(tenant=world.tenant, integration=world.integration, entity="person", crm_id="305",
                            erp_id="1001")
    SyncLink.objects.create(tenant=world.other_tenant, integration=world.other_integration, entity="organisation",
                            crm_id="305", erp_id="1001")
    possible_match_decide(match=open_match(world), decision="link", candidate_id="1001", user=world.admin)
    assert SyncLink.objects.filter(integration=world.integration, entity="organisation").count() == 1


def test_an_unknown_decision_is_refused(world):
    match = open_match(world)
    with pytest.raises(DecisionRefused, match="Choose one of"):
        possible_match_decide(match=match, decision="merge", user=world.admin)
    assert_nothing_written(world, match)


# -- the screens ----------------------------------------------------------------------------------------------

def test_everyone_in_the_tenant_sees_both_records_side_by_side_with_the_evidence(client, world):
    match = open_match(world)
    for user in (world.admin, world.support, world.customer):
        client.force_login(user)
        page = client.get(url("integration-possible-matches", world, world.integration.pk))
        assert page.status_code == 200
        text = page.content.decode()
        assert f'id="match-{match.pk}"' in text and "Sjöviks VVS AB" in text
        assert "556123-4567" in text and "Sundsvall" in text and "Timrå" in text
        assert "Org./VAT no. 556123-4567 is the same on both sides" in text
        assert "The names differ: “Sjöviks VVS AB” and “Sjöviks VVS”" in text
        assert ("Link these" in text) is (user != world.customer)
        assert ("Create new" in text) is (user != world.customer)


def test_the_comparison_has_one_row_per_identity_field(client, world):
    match = open_match(world)
    client.force_login(world.support)
    page = client.get(url("possible-match-detail", world, match.pk))
    rows = page.context["view"].rows
    assert [row.field for row in rows] == ["Name", "Org./VAT no.", "Number", "City"]
    name, vat, number, city = rows
    assert [cell.same for cell in vat.candidates] == [True, False]
    assert [cell.same for cell in city.candidates] == [True, False]
    assert [cell.same for cell in name.candidates] == [True, False]  # "AB" is a legal form, not the name
    assert number.source is None and number.candidates[0].value == "1001"


def test_the_filter_shows_waiting_decided_or_all(client, world):
    waiting = open_match(world)
    decided = open_match(world, source_id="306", source_label="Lövsta Trä HB")
    possible_match_decide(match=decided, decision="skip", user=world.admin)
    client.force_login(world.support)
    base = url("possible-match-list", world)

    def shown(show):
        return [view.match.pk for view in client.get(base, {"show": show}).context["views"]]

    assert shown("open") == [waiting.pk]
    assert shown("decided") == [decided.pk]
    assert sorted(shown("all")) == sorted([waiting.pk, decided.pk])
    assert shown("nonsense") == [waiting.pk]
    text = client.get(base, {"show": "decided"}).content.decode()
    assert "anna-admin chose to skip it on" in text


def test_the_integration_screen_lists_only_its_own_matches(client, world):
    from tests.factories import IntegrationFactory

    second = IntegrationFactory(tenant=world.tenant, crm_connection=world.connection,
                                erp_connection=world.integration.erp_connection)
    mine, theirs = open_match(world), open_match(world, integration=second)
    client.force_login(world.admin)
    listed = client.get(url("integration-possible-matches", world, world.integration.pk)).context["views"]
    assert [view.match.pk for view in listed] == [mine.pk]
    everything = client.get(url("possible-match-list", world)).context["views"]
    assert sorted(view.match.pk for view in everything) == sorted([mine.pk, theirs.pk])


def test_support_links_through_the_screen_with_htmx(client, world):
    match = open_match(world)
    client.force_login(world.support)
    answer = client.post(url("possible-match-decide", world, match.pk), {"decision": "link", "candidate_id": "1001"},
                         HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    text = answer.content.decode()
    assert 'data-state="linked"' in text and "<html" not in text
    assert "sofie-support linked it to Uniconta debtor 1001 “Sjöviks VVS”" in text
    assert "Link these" not in text
    assert SyncLink.objects.get(integration=world.integration).erp_id == "1001"


def test_an_admin_creates_new_with_a_plain_post_and_is_sent_back_to_the_list(client, world):
    match = open_match(world)
    client.force_login(world.admin)
    answer = client.post(url("possible-match-decide", world, match.pk), {"decision": "create"}, follow=True)
    assert answer.redirect_chain[-1][0] == url("integration-possible-matches", world, world.integration.pk)
    assert "anna-admin chose to create a new record on" in answer.content.decode()
    assert PossibleMatch.objects.get(pk=match.pk).state == MatchState.CREATED


def test_a_customer_may_read_but_not_decide(client, world):
    match = open_match(world)
    client.force_login(world.customer)
    assert client.get(url("possible-match-detail", world, match.pk)).status_code == 200
    answer = client.post(url("possible-match-decide", world, match.pk), {"decision": "skip"})
    assert answer.status_code == 403
    assert "does not allow this" in answer.content.decode()
    assert_nothing_written(world, match)


def test_a_refused_decision_answers_400_in_words_and_writes_nothing(client, world):
    SyncLink.objects.create(tenant=world.tenant, integration=world.integration, entity="organisation", crm_id="77",
                            erp_id="1001")
    match = open_match(world)
    client.force_login(world.admin)
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        answer = client.post(url("possible-match-decide", world, match.pk),
                             {"decision": "link", "candidate_id": "1001"}, **headers)
        assert answer.status_code == 400
        assert "Uniconta debtor 1001 is already linked to webCRM organisation 77" in answer.content.decode()
    assert_nothing_written(world, match)


@pytest.mark.parametrize("body", [{}, {"decision": "merge"}, {"decision": "link", "candidate_id": "x" * 500}])
def test_bad_input_answers_400_and_writes_nothing(client, world, body):
    match = open_match(world)
    client.force_login(world.support)
    answer = client.post(url("possible-match-decide", world, match.pk), body)
    assert answer.status_code == 400
    assert_nothing_written(world, match)


def test_strangers_get_404_for_every_possible_match_screen(client, world):
    match = open_match(world)
    client.force_login(world.outsider)
    assert client.get(url("possible-match-list", world)).status_code == 404
    assert client.get(url("integration-possible-matches", world, world.integration.pk)).status_code == 404
    assert client.get(url("possible-match-detail", world, match.pk)).status_code == 404
    assert client.post(url("possible-match-decide", world, match.pk), {"decision": "skip"}).status_code == 404
    # Inside their own tenant, this tenant's match is as missing as one that does not exist.
    own = [world.other_tenant.slug, match.pk]
    from django.urls import reverse

    assert client.get(reverse("possible-match-detail", args=own)).status_code == 404
    assert client.post(reverse("possible-match-decide", args=own), {"decision": "skip"}).status_code == 404
    assert_nothing_written(world, match)


def test_the_dashboard_counts_open_matches_and_links_to_the_screen(client, world):
    open_match(world)
    open_match(world, source_id="306")
    decided = open_match(world, source_id="307")
    possible_match_decide(match=decided, decision="skip", user=world.admin)
    open_match(world, integration=world.other_integration)
    client.force_login(world.support)
    page = client.get(f"/t/{world.tenant.slug}/")
    assert page.context["open_matches"] == 2
    text = page.content.decode()
    assert "2 possible matches wait for a person" in text
    assert url("integration-possible-matches", world, world.integration.pk) in text
    assert 'data-open-matches="2"' in text


# -- the API --------------------------------------------------------------------------------------------------

def api_url(world, *rest) -> str:
    return "/".join([f"/api/v1/t/{world.tenant.slug}/possible-matches", *map(str, rest)]) + "/"


def test_the_api_lists_and_reads_possible_matches(api, world):
    waiting = open_match(world)
    skipped = open_match(world, source_id="306")
    possible_match_decide(match=skipped, decision="skip", user=world.admin)
    open_match(world, integration=world.other_integration)
    api.force_authenticate(world.customer)
    assert sorted(m["id"] for m in api.get(api_url(world)).json()["results"]) == sorted([waiting.pk, skipped.pk])
    assert [m["id"] for m in api.get(api_url(world), {"state": "open"}).json()["results"]] == [waiting.pk]
    assert [m["id"] for m in api.get(api_url(world), {"state": "skipped"}).json()["results"]] == [skipped.pk]
    assert api.get(api_url(world), {"state": "maybe"}).status_code == 400
    assert api.get(api_url(world), {"integration": world.other_integration.pk}).status_code == 400
    one = api.get(api_url(world, skipped.pk)).json()
    assert (one["state"], one["decided_by"], one["source_id"]) == ("skipped", "anna-admin", "306")
    assert one["decided"].startswith("anna-admin chose to skip it on ")
    assert one["candidates"][0]["against"] == CANDIDATES[0]["against"]


def test_support_decides_through_the_api(api, world):
    match = open_match(world)
    api.force_authenticate(world.support)
    answer = api.post(api_url(world, match.pk, "decide"), {"decision": "link", "candidate_id": "1001"}, format="json")
    assert answer.status_code == 200
    assert (answer.json()["state"], answer.json()["chosen_id"]) == ("linked", "1001")
    assert SyncLink.objects.get(integration=world.integration).crm_id == "305"
    assert manual_events(world).count() == 1


def test_a_refused_decision_through_the_api_answers_400_with_the_words(api, world):
    match = open_match(world)
    api.force_authenticate(world.admin)
    answer = api.post(api_url(world, match.pk, "decide"), {"decision": "link", "candidate_id": "4711"}, format="json")
    assert answer.status_code == 400
    assert "Uniconta debtor 4711 is not one of the candidates" in answer.json()["detail"]
    assert api.post(api_url(world, match.pk, "decide"), {"decision": "merge"}, format="json").status_code == 400
    assert_nothing_written(world, match)


def test_customers_get_403_and_strangers_404_from_the_api(api, world):
    match = open_match(world)
    api.force_authenticate(world.customer)
    assert api.post(api_url(world, match.pk, "decide"), {"decision": "skip"}, format="json").status_code == 403
    api.force_authenticate(world.outsider)
    assert api.get(api_url(world)).status_code == 404
    assert api.get(api_url(world, match.pk)).status_code == 404
    assert api.post(api_url(world, match.pk, "decide"), {"decision": "skip"}, format="json").status_code == 404
    own = f"/api/v1/t/{world.other_tenant.slug}/possible-matches/{match.pk}/"
    assert api.get(own).status_code == 404
    assert api.post(own + "decide/", {"decision": "skip"}, format="json").status_code == 404
    assert_nothing_written(world, match)


def test_values_the_engine_counts_as_the_same_are_shown_as_the_same():
    from support.review_selectors import comparison_rows

    rows = comparison_rows(
        source_values={"Name": "Björkdal Bygg Aktiebolag", "Org./VAT no.": "25313763", "E-mail": "Info@Bjorkdal.se "},
        candidates=[{"values": {"Name": "Björkdal Bygg AB", "Org./VAT no.": "DK 25 31 37 63",
                                "E-mail": "info@bjorkdal.se"}},
                    {"values": {"Name": "Björkdal Måleri AB", "Org./VAT no.": "13585628", "E-mail": "x@y.se"}}])
    assert [[cell.same for cell in row.candidates] for row in rows] == [[True, False]] * 3
