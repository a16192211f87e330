import pytest
from django.core.cache import cache
from django.urls import reverse

from tenants.models import Role
from tests.factories import PASSWORD, MembershipFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"Log in to Synkro" in response.content


def test_anonymous_user_is_sent_to_login(client, world):
    response = client.get(reverse("tenant-home", args=[world.tenant.slug]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_with_one_tenant_lands_on_its_home(client, world):
    response = client.post(reverse("login"), {"username": "anna-admin", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("tenant-home", args=["nordlys"])
    assert "Nordlys Handel A/S" in response.content.decode()


def test_picker_lists_every_tenant_of_a_user_with_several(client, world):
    MembershipFactory(user=world.admin, tenant=world.other_tenant, role=Role.SUPPORT)
    client.force_login(world.admin)
    response = client.get(reverse("tenant-picker"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Nordlys Handel A/S" in body and "Fjällvind AB" in body


def test_picker_says_what_to_do_without_any_tenant(client, db):
    client.force_login(UserFactory())
    response = client.get(reverse("tenant-picker"))
    assert "not a member of any tenant" in response.content.decode()


def test_home_of_a_tenant_without_connections_says_what_to_set_up(client, db):
    tenant = TenantFactory()
    user = MembershipFactory(tenant=tenant, role=Role.ADMIN).user
    client.force_login(user)
    body = client.get(reverse("tenant-home", args=[tenant.slug])).content.decode()
    assert "Nothing is connected yet" in body
    assert reverse("connection-create", args=[tenant.slug]) in body


def test_home_without_integration_suggests_creating_one(client, world):
    from integrations.models import Integration

    Integration.objects.filter(tenant=world.tenant).delete()
    client.force_login(world.admin)
    body = client.get(reverse("tenant-home", args=[world.tenant.slug])).content.decode()
    assert "no integration yet" in body


def test_customer_sees_no_setup_buttons(client, db):
    tenant = TenantFactory()
    user = MembershipFactory(tenant=tenant, role=Role.CUSTOMER).user
    client.force_login(user)
    body = client.get(reverse("tenant-home", args=[tenant.slug])).content.decode()
    assert "An administrator of this tenant can add connections" in body


def test_non_member_gets_404_not_403(client, world):
    client.force_login(world.outsider)
    assert client.get(reverse("tenant-home", args=[world.tenant.slug])).status_code == 404


def test_unknown_and_inactive_tenants_look_the_same(client, world):
    client.force_login(world.admin)
    world.tenant.active = False
    world.tenant.save()
    assert client.get(reverse("tenant-home", args=[world.tenant.slug])).status_code == 404
    assert client.get(reverse("tenant-home", args=["no-such-tenant"])).status_code == 404


def test_platform_staff_act_as_support_in_every_tenant(client, world):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    response = client.get(reverse("tenant-home", args=[world.tenant.slug]))
    assert response.status_code == 200
    assert response.context["access"].role == Role.SUPPORT
    # Support may not change configuration.
    assert client.get(reverse("connection-create", args=[world.tenant.slug])).status_code == 403


def test_login_attempts_are_throttled(client, world, settings):
    cache.clear()
    for attempt in range(1, 11):
        response = client.post(reverse("login"), {"username": "anna-admin", "password": "wrong"})
        assert response.status_code == (429 if attempt == 10 else 200)  # the 10th failure locks the login
    response = client.post(reverse("login"), {"username": "anna-admin", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many login attempts" in response.content.decode()
    cache.clear()
