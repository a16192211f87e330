import pytest

from tenants.models import Membership, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_admin_adds_and_removes_a_member(api, world):
    newcomer = UserFactory(username="nina-new")
    api.force_authenticate(world.admin)
    url = f"/api/v1/t/{world.tenant.slug}/memberships/"
    response = api.post(url, {"username": "nina-new", "role": "support"}, format="json")
    assert response.status_code == 201, response.content
    membership = Membership.objects.get(user=newcomer, tenant=world.tenant)
    assert membership.role == Role.SUPPORT
    assert api.post(url, {"username": "nina-new", "role": "admin"}, format="json").status_code == 400
    assert api.delete(f"{url}{membership.pk}/").status_code == 204


def test_unknown_user_is_a_clear_400(api, world):
    api.force_authenticate(world.admin)
    response = api.post(f"/api/v1/t/{world.tenant.slug}/memberships/", {"username": "ghost", "role": "admin"},
                        format="json")
    assert response.status_code == 400
    assert "username" in response.json()


@pytest.mark.parametrize("role", ["customer", "support"])
def test_non_admins_read_but_cannot_change_members(api, world, role):
    api.force_authenticate(getattr(world, role))
    url = f"/api/v1/t/{world.tenant.slug}/memberships/"
    assert api.get(url).status_code == 200
    assert api.post(url, {"username": getattr(world, role).username, "role": "admin"},
                    format="json").status_code == 403


def test_openapi_schema_describes_the_tenant_endpoints(api, world):
    api.force_authenticate(world.admin)
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/t/{tenant_slug}/connections/" in schema["paths"]
    assert "/api/v1/tenants/" in schema["paths"]
    connection = schema["components"]["schemas"]["Connection"]["properties"]
    assert "credentials" not in connection  # write-only: only in the request schema
    assert "credentials" in schema["components"]["schemas"]["ConnectionRequest"]["properties"]


def test_api_needs_authentication(api, world):
    assert api.get(f"/api/v1/t/{world.tenant.slug}/connections/").status_code == 401
