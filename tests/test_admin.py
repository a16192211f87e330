import pytest

from tenants.models import Role
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_superuser_sees_every_tenants_connections(client, world):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    body = client.get("/admin/integrations/connection/").content.decode()
    assert world.connection.name in body and world.other_connection.name in body


def test_staff_admin_of_one_tenant_sees_only_its_rows(client, world):
    from django.contrib.auth.models import Permission

    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label__in=["integrations", "tenants"]))
    MembershipFactory(user=staff, tenant=world.tenant, role=Role.ADMIN)
    client.force_login(staff)
    body = client.get("/admin/integrations/connection/").content.decode()
    assert world.connection.name in body
    assert world.other_connection.name not in body
    assert client.get(f"/admin/integrations/connection/{world.other_connection.pk}/change/").status_code == 302
    page = client.get(f"/admin/integrations/connection/{world.connection.pk}/change/").content.decode()
    assert "webcrm-secret-api-key-123" not in page
