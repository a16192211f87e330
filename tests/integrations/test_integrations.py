import pytest
from django.urls import reverse

from integrations.models import Integration
from tests.factories import ConnectionFactory, ErpConnectionFactory

pytestmark = pytest.mark.django_db


def test_admin_pairs_webcrm_with_an_erp(client, world):
    client.force_login(world.admin)
    crm = ConnectionFactory(tenant=world.tenant, system="webcrm")
    erp = ConnectionFactory(tenant=world.tenant, system="fortnox",
                            credentials={"client_id": "c", "client_secret": "s", "refresh_token": "r"})
    response = client.post(reverse("integration-create", args=[world.tenant.slug]),
                           {"name": "Sales", "crm_connection": crm.pk, "erp_connection": erp.pk, "active": "on"})
    assert response.status_code == 302
    integration = Integration.objects.get(name="Sales")
    assert integration.tenant == world.tenant
    assert len(integration.webhook_token) >= 40
    assert integration.webhook_token not in repr(integration)


def test_two_integrations_never_share_a_token(world):
    assert world.integration.webhook_token != world.other_integration.webhook_token


@pytest.mark.parametrize(("front", "back", "field", "message"), [
    ("uniconta", "uniconta", "crm_connection", "is an ERP"),
    ("webcrm", "webcrm", "erp_connection", "is not an ERP"),
    ("customers1st", "fortnox", "erp_connection", "only be booked in an ERP with POS support"),
])
def test_pairs_that_make_no_sense_are_refused(client, world, front, back, field, message):
    client.force_login(world.admin)
    crm = ConnectionFactory(tenant=world.tenant, system=front)
    erp = ConnectionFactory(tenant=world.tenant, system=back)
    response = client.post(reverse("integration-create", args=[world.tenant.slug]),
                           {"name": "Odd", "crm_connection": crm.pk, "erp_connection": erp.pk})
    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    assert not Integration.objects.filter(name="Odd").exists()


def test_customers1st_pairs_with_uniconta(client, world):
    client.force_login(world.admin)
    pos = ConnectionFactory(tenant=world.tenant, system="customers1st", credentials={"api_token": "t"})
    erp = ErpConnectionFactory(tenant=world.tenant)
    response = client.post(reverse("integration-create", args=[world.tenant.slug]),
                           {"name": "Shop", "crm_connection": pos.pk, "erp_connection": erp.pk})
    assert response.status_code == 302


def test_form_offers_only_own_connections(client, world):
    client.force_login(world.admin)
    response = client.post(reverse("integration-create", args=[world.tenant.slug]),
                           {"name": "Steal", "crm_connection": world.other_connection.pk,
                            "erp_connection": world.integration.erp_connection.pk})
    assert "Select a valid choice" in str(response.context["form"].errors["crm_connection"])


def test_api_refuses_connections_of_another_tenant(api, world):
    api.force_authenticate(world.admin)
    response = api.post(f"/api/v1/t/{world.tenant.slug}/integrations/", {
        "name": "Steal", "crm_connection": world.other_connection.pk,
        "erp_connection": world.integration.erp_connection.pk}, format="json")
    assert response.status_code == 400
    assert "crm_connection" in response.json()


def test_api_creates_and_never_shows_the_token(api, world):
    api.force_authenticate(world.admin)
    crm = ConnectionFactory(tenant=world.tenant)
    erp = ErpConnectionFactory(tenant=world.tenant)
    response = api.post(f"/api/v1/t/{world.tenant.slug}/integrations/", {
        "name": "Via API", "crm_connection": crm.pk, "erp_connection": erp.pk}, format="json")
    assert response.status_code == 201, response.content
    created = Integration.objects.get(name="Via API")
    assert created.webhook_token not in response.content.decode()


@pytest.mark.parametrize("role", ["customer", "support"])
def test_only_admins_change_integrations(client, api, world, role):
    user = getattr(world, role)
    client.force_login(user)
    assert client.post(reverse("integration-delete", args=[world.tenant.slug, world.integration.pk])).status_code == 403
    api.force_authenticate(user)
    assert api.delete(f"/api/v1/t/{world.tenant.slug}/integrations/{world.integration.pk}/").status_code == 403
    assert Integration.objects.filter(pk=world.integration.pk).exists()
    assert client.get(reverse("integration-detail", args=[world.tenant.slug, world.integration.pk])).status_code == 200
