"""Switching an integration on creates nothing from before: the schedule only repairs what changed since.

webCRM ↔ Fortnox made days ago and left paused, Fortnox full of employees: switching it on must not
bring every employee over as a webCRM user. What existed before is the initial import's, which a person
starts; the safety reconciliation takes only records changed after the switch, and records whose vendor
keeps no modification time (Fortnox employees) are left to the import and counted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from integrations.engine.activation import LEFT_TO_IMPORT, changed_after_activation
from integrations.engine.runs import import_entity, reconcile_entity, reconciliations_due, run_start
from integrations.models import Integration, RunKind, SyncLink, SyncRun
from integrations.systems.catalog import Entity
from integrations.systems.registry import get_system
from tests.harness import QUIET, drain, make_pair

USER, ORG, DELIVERY = Entity.USER, Entity.ORGANISATION, Entity.DELIVERY
EMPLOYEES = [("Astrid", "Lindqvist"), ("Johan", "Berg"), ("Maja", "Holm")]


@pytest.fixture
def pair(db, synkro, sandboxes):
    pair = make_pair("webcrm", "fortnox", sandboxes)
    Integration.objects.filter(pk=pair.integration.pk).update(
        active=False, activated_at=None, created_at=timezone.now() - timedelta(days=40))
    pair.integration.refresh_from_db()
    for first, last in EMPLOYEES:
        pair.erp_client.create_record(USER, {"FirstName": first, "LastName": last,
                                             "Email": f"{first.lower()}@fjallvind.se"})
    real_clock = pair.crm.store.now
    pair.crm.store.now = lambda: real_clock() - timedelta(days=30)  # webCRM's clock when the customer was made
    try:
        pair.crm_client.create_record(ORG, {"OrganisationName": "Gammal Kund AB",
                                            "OrganisationType": "Kund – Företag"})
    finally:
        pair.crm.store.now = real_clock
    return pair


def switch_on(api, pair) -> Integration:
    admin = pair.integration.tenant.memberships.get().user
    api.force_authenticate(admin)
    response = api.patch(f"/api/v1/t/{pair.integration.tenant.slug}/integrations/{pair.integration.pk}/",
                         {"active": True}, format="json")
    assert response.status_code == 200, response.content
    pair.integration.refresh_from_db()
    return pair.integration


def reconcile_due(pair, *, now) -> dict[str, SyncRun]:
    """Start and carry out the pair's reconciliations of organisations and users due at ``now``, as the schedule
    does (Fortnox has no contact persons to compare)."""
    runs = {}
    for entity_sync in reconciliations_due(now=now):
        if entity_sync.integration_id != pair.integration.pk or entity_sync.entity not in (ORG, USER):
            continue
        run = run_start(integration=entity_sync.integration, kind=RunKind.RECONCILE, entity=entity_sync.entity)
        reconcile_entity(run=run, client_options=QUIET)
        runs[entity_sync.entity] = SyncRun.objects.get(pk=run.pk)
    drain()
    return runs


def webcrm_users(pair) -> list[dict]:
    return list(pair.crm_client.list_records(USER))


def test_switching_on_records_when_and_the_first_reconciliation_waits_a_full_interval(api, pair):
    before = timezone.now()
    integration = switch_on(api, pair)
    assert integration.activated_at >= before
    assert reconcile_due(pair, now=timezone.now()) == {}  # created 40 days ago, yet nothing is due at once
    hours = pair.sync("user").reconcile_interval_hours
    assert reconcile_due(pair, now=integration.activated_at + timedelta(hours=hours) - timedelta(minutes=1)) == {}
    assert "user" in reconcile_due(pair, now=integration.activated_at + timedelta(hours=hours))


def test_the_reconciliation_after_switching_on_creates_no_webcrm_user_from_old_employees(api, pair):
    integration = switch_on(api, pair)
    runs = reconcile_due(pair, now=integration.activated_at + timedelta(days=1))
    assert webcrm_users(pair) == []
    assert not SyncLink.objects.filter(integration=integration).exists()
    assert runs["user"].counts[LEFT_TO_IMPORT] == len(EMPLOYEES)
    assert runs["user"].drift == 0
    assert runs["organisation"].drift == 0 and runs["organisation"].counts[LEFT_TO_IMPORT] == 1
    assert [c["Name"] for c in pair.erp_client.list_records(ORG)] == []  # the old webCRM customer stayed put


def test_records_changed_after_switching_on_are_brought_over_by_the_reconciliation(api, pair):
    integration = switch_on(api, pair)
    Integration.objects.filter(pk=integration.pk).update(activated_at=integration.activated_at - timedelta(seconds=2))
    new = pair.crm_client.create_record(ORG, {"OrganisationName": "Ny Kund AB", "OrganisationType": "Kund – Företag"})
    old = next(o for o in pair.crm_client.list_records(ORG) if o["OrganisationName"] == "Gammal Kund AB")
    pair.crm_client.update_record(ORG, str(old["OrganisationId"]), {**old, "OrganisationCity": "Umeå"})
    runs = reconcile_due(pair, now=timezone.now() + timedelta(days=1))
    assert runs["organisation"].drift == 2
    assert sorted(c["Name"] for c in pair.erp_client.list_records(ORG)) == ["Gammal Kund AB", "Ny Kund AB"]
    assert SyncLink.objects.filter(integration=integration, entity="organisation",
                                   crm_id=str(new["OrganisationId"])).exists()


def test_a_fortnox_employee_keeps_no_change_time_so_only_the_initial_import_brings_it(api, pair):
    integration = switch_on(api, pair)
    Integration.objects.filter(pk=integration.pk).update(activated_at=integration.activated_at - timedelta(seconds=2))
    pair.erp_client.create_record(USER, {"FirstName": "Nils", "LastName": "Ek", "Email": "nils@fjallvind.se"})
    runs = reconcile_due(pair, now=timezone.now() + timedelta(days=1))
    assert webcrm_users(pair) == []
    assert runs["user"].counts[LEFT_TO_IMPORT] == len(EMPLOYEES) + 1
    run = run_start(integration=integration, kind=RunKind.IMPORT, entity="user")
    import_entity(run=run, client_options=QUIET)
    drain()
    assert sorted(u["UserEmail"] for u in webcrm_users(pair)) == sorted(
        [f"{first.lower()}@fjallvind.se" for first, _ in EMPLOYEES] + ["nils@fjallvind.se"])


def poll_users(pair) -> int:
    from integrations.engine.poll import poll_entity

    stored = poll_entity(integration=pair.integration, system="fortnox", entity=USER, client_options=QUIET)
    drain()
    return stored


def test_polling_after_switching_on_creates_no_webcrm_user_from_old_employees_but_brings_new_ones(api, pair):
    switch_on(api, pair)
    assert poll_users(pair) == 0  # the first poll starts the clock and remembers who was there
    assert poll_users(pair) == 0  # Fortnox lists every employee on every poll: the old ones are the import's
    assert webcrm_users(pair) == []
    pair.erp_client.create_record(USER, {"FirstName": "Nils", "LastName": "Ek", "Email": "nils@fjallvind.se"})
    assert poll_users(pair) == 1
    assert [u["UserEmail"] for u in webcrm_users(pair)] == ["nils@fjallvind.se"]


def test_switching_on_again_starts_the_polling_clock_anew(api, pair):
    from integrations.models import PollCursor

    switch_on(api, pair)
    poll_users(pair)
    Integration.objects.filter(pk=pair.integration.pk).update(active=False)
    pair.erp_client.create_record(USER, {"FirstName": "Nils", "LastName": "Ek", "Email": "nils@fjallvind.se"})
    switch_on(api, pair)
    assert not PollCursor.objects.filter(integration=pair.integration).exists()
    assert poll_users(pair) == 0 and poll_users(pair) == 0
    assert webcrm_users(pair) == []  # made while the integration was off: the import's, not the poll's


# -- vendors' timestamps ---------------------------------------------------------------------------------


def side(system: str, entity: Entity):
    """The parts of a side the check reads: its catalog entry and its provider."""
    provider = get_system(system)
    return SimpleNamespace(spec=provider.catalog().entity(entity), provider=provider)


@pytest.mark.parametrize(("system", "entity", "field", "value", "after"), [
    ("webcrm", USER, "UserUpdatedAt", "2026-03-02T09:00:01", True),  # UTC without an offset
    ("webcrm", USER, "UserUpdatedAt", "2026-03-02T09:00:00", True),  # the activation's own second
    ("webcrm", USER, "UserUpdatedAt", "2026-03-02T08:59:59", False),
    ("uniconta", DELIVERY, "UpdatedAt", "2026-03-02T09:00:00.000001", True),
    ("uniconta", ORG, "Created", "2026-03-02T09:00:00.000001", True),  # debtors keep only their creation time
    ("uniconta", ORG, "Created", "2026-03-02T08:59:59.999999", False),
    ("uniconta", USER, "UpdatedAt", "2026-03-02T09:00:00.000001", False),  # employees keep neither
    ("vismanet", ORG, "lastModifiedDateTime", "2026-03-02T10:30:00+02:00", False),  # 08:30 UTC
    ("vismanet", ORG, "lastModifiedDateTime", "2026-03-02T09:00:01Z", True),
    ("customers1st", ORG, "updated_at", "2026-03-02 09:59:59", False),  # Copenhagen: 08:59:59 UTC
    ("customers1st", ORG, "updated_at", "2026-03-02 10:00:01", True),
    ("customers1st", ORG, "updated_at", "2026-03-02 09:00:01", False),  # read as UTC it would pass
    ("webcrm", USER, "UserUpdatedAt", "in March", False),  # unreadable proves nothing
    ("webcrm", USER, "UserUpdatedAt", None, False),
])
def test_a_record_is_newer_than_the_activation_only_by_its_vendors_own_clock(system, entity, field, value, after):
    integration = Integration(activated_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    assert changed_after_activation(integration=integration, side=side(system, entity), record={field: value}) is after


def test_a_stamp_in_whole_seconds_counts_from_the_start_of_the_activations_second():
    integration = Integration(activated_at=datetime(2026, 3, 2, 9, 0, 0, 600_000, tzinfo=UTC))
    webcrm = side("webcrm", USER)
    assert changed_after_activation(integration=integration, side=webcrm,
                                    record={"UserUpdatedAt": "2026-03-02T09:00:00"})
    assert not changed_after_activation(integration=integration, side=webcrm,
                                        record={"UserUpdatedAt": "2026-03-02T08:59:59"})
    uniconta = side("uniconta", DELIVERY)
    assert not changed_after_activation(integration=integration, side=uniconta,
                                        record={"UpdatedAt": "2026-03-02T09:00:00.500000"})


def test_without_a_modification_time_no_record_counts_as_newer():
    integration = Integration(activated_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    assert side("fortnox", USER).spec.modified_field is None
    assert not changed_after_activation(integration=integration, side=side("fortnox", USER),
                                        record={"EmployeeId": "7", "EmploymentDate": "2026-04-01"})
