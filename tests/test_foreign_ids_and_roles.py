"""What the API and the admin tell about other tenants (nothing), and who may test and register."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tenants.models import Membership, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NO_SUCH_ID = 987_654


def _base(world) -> str:
    return f"/api/v1/t/{world.tenant.slug}"


def _foreign_ids(world) -> dict[str, int]:
    rows = world.other_rows
    return {"integration": rows.integration.pk,
            "entity_sync": rows.integration.entity_syncs.first().pk,
            "pos_settings": rows.pos_integration.pos_settings.pk}


FILTERS = [("entity-syncs/", "integration"), ("webhook-toggles/", "integration"), ("pos-settings/", "integration"),
           ("pos-registers/", "pos_settings"), ("field-mappings/", "entity_sync"), ("field-mappings/", "integration"),
           ("config-changes/", "integration"), ("log-entries/", "integration")]


@pytest.mark.parametrize(("path", "param"), FILTERS, ids=lambda v: str(v))
def test_a_foreign_id_in_a_list_filter_answers_like_a_missing_one(api, world, path, param):
    api.force_authenticate(world.admin)
    foreign = api.get(f"{_base(world)}/{path}", {param: _foreign_ids(world)[param]})
    missing = api.get(f"{_base(world)}/{path}", {param: NO_SUCH_ID})
    assert (foreign.status_code, foreign.json()) == (missing.status_code, missing.json())
    assert foreign.status_code in (200, 400)
    if foreign.status_code == 200:
        assert foreign.json()["results"] == []


@pytest.mark.parametrize(("path", "param"), FILTERS[:7], ids=lambda v: str(v))
def test_an_own_id_in_a_list_filter_still_narrows(api, world, path, param):
    rows = world.rows
    own = {"integration": rows.pos_integration.pk if path == "pos-settings/" else rows.integration.pk,
           "entity_sync": rows.mapping.entity_sync_id, "pos_settings": rows.pos_integration.pos_settings.pk}[param]
    api.force_authenticate(world.admin)
    response = api.get(f"{_base(world)}/{path}", {param: own})
    assert response.status_code == 200
    assert response.json()["count"] >= 1


def test_memberships_do_not_tell_whether_a_username_exists(api, world):
    api.force_authenticate(world.admin)
    url = f"{_base(world)}/memberships/"
    ghost = api.post(url, {"username": "ghost", "role": "support"}, format="json")
    foreign = api.post(url, {"username": world.outsider.username, "role": "support"}, format="json")
    staff = UserFactory(username="pia-platform", is_staff=True)
    platform = api.post(url, {"username": staff.username, "role": "support"}, format="json")
    assert ghost.status_code == foreign.status_code == platform.status_code == 400
    assert ghost.json() == foreign.json() == platform.json()
    assert not Membership.objects.filter(tenant=world.tenant, user__in=[world.outsider, staff]).exists()


def test_an_account_of_no_tenant_can_still_be_added(api, world):
    newcomer = UserFactory(username="nina-new")
    api.force_authenticate(world.admin)
    response = api.post(f"{_base(world)}/memberships/", {"username": "nina-new", "role": "customer"}, format="json")
    assert response.status_code == 201
    assert Membership.objects.get(tenant=world.tenant, user=newcomer).role == Role.CUSTOMER


def test_support_tests_a_connection_through_the_api(api, world, monkeypatch):
    from integrations import api as integrations_api

    tested = []

    def connection_test(*, connection):
        tested.append(connection.pk)
        return connection

    monkeypatch.setattr(integrations_api, "connection_test", connection_test)
    url = f"{_base(world)}/connections/{world.connection.pk}/test/"
    api.force_authenticate(world.support)
    assert api.post(url).status_code == 200
    api.force_authenticate(world.customer)
    assert api.post(url).status_code == 403
    assert tested == [world.connection.pk]
    api.force_authenticate(world.support)
    assert api.patch(f"{_base(world)}/connections/{world.connection.pk}/", {"name": "Renamed"},
                     format="json").status_code == 403


def test_only_admins_register_webhooks_in_the_vendors(client, world, monkeypatch):
    from support import views

    calls = []
    monkeypatch.setattr(views, "integration_webhooks_register", lambda *, integration: calls.append(integration) or [])
    health = reverse("webhook-health", args=[world.tenant.slug, world.integration.pk])
    register = reverse("webhook-register", args=[world.tenant.slug, world.integration.pk])
    client.force_login(world.customer)
    assert "Register in" not in client.get(health).content.decode()
    assert client.post(register).status_code == 403
    assert calls == []
    client.force_login(world.admin)
    assert "Register in" in client.get(health).content.decode()
    assert client.post(register).status_code == 200
    assert calls == [world.integration]


def test_customers_still_toggle_webhooks(api, world):
    api.force_authenticate(world.customer)
    toggle = world.rows.toggle
    response = api.patch(f"{_base(world)}/webhook-toggles/{toggle.pk}/", {"enabled": not toggle.enabled},
                         format="json")
    assert response.status_code == 200


@pytest.mark.parametrize("admin_page", ["admin:integrations_connection_changelist",
                                        "admin:integrations_integration_changelist",
                                        "admin:tenants_membership_changelist"])
def test_the_admins_tenant_filter_names_only_administered_tenants(client, world, admin_page):
    world.admin.is_staff = True
    world.admin.save()
    from django.contrib.auth.models import Permission

    world.admin.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client.force_login(world.admin)
    body = client.get(reverse(admin_page)).content.decode()
    assert world.tenant.name in body
    assert world.other_tenant.name not in body
