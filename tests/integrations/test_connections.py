"""Connections: encrypted at rest, write-only secrets, role rules."""

import pytest
from django.db import connection as db_connection
from django.urls import reverse

from integrations.models import Connection
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db

SECRET = "webcrm-secret-api-key-123"


def raw_credentials(pk: int) -> str:
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM integrations_connection WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_database_row_holds_only_ciphertext(world):
    raw = raw_credentials(world.connection.pk)
    assert SECRET not in raw
    assert "api_key" not in raw
    assert raw.startswith("gAAAA")  # a Fernet token
    assert Connection.objects.get(pk=world.connection.pk).credentials == {"api_key": SECRET}


def test_repr_and_str_never_show_credentials(world):
    assert SECRET not in repr(world.connection)
    assert SECRET not in str(world.connection)


def test_keys_can_be_rotated(world, settings):
    from cryptography.fernet import Fernet

    from integrations import crypto

    old_key = settings.FIELD_ENCRYPTION_KEY[0]
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode(), old_key]
    crypto._fernet.cache_clear()
    try:
        connection = Connection.objects.get(pk=world.connection.pk)  # decrypts with the old key
        assert connection.credentials["api_key"] == SECRET
        connection.save()  # re-encrypts with the new one
        settings.FIELD_ENCRYPTION_KEY = settings.FIELD_ENCRYPTION_KEY[:1]
        crypto._fernet.cache_clear()
        assert Connection.objects.get(pk=world.connection.pk).credentials["api_key"] == SECRET
    finally:
        settings.FIELD_ENCRYPTION_KEY = [old_key]
        crypto._fernet.cache_clear()


def test_admin_creates_a_connection_and_the_form_never_shows_the_secret(client, world):
    client.force_login(world.admin)
    url = reverse("connection-create", args=[world.tenant.slug])
    form_page = client.get(url, {"system": "uniconta"}).content.decode()
    assert 'name="credential_password"' in form_page
    response = client.post(url, {"system": "uniconta", "name": "Books", "base_url": "",
                                 "credential_company_id": "4711", "credential_username": "api",
                                 "credential_password": "top-secret-pw"})
    assert response.status_code == 302
    created = Connection.objects.get(tenant=world.tenant, name="Books")
    assert created.credentials == {"company_id": "4711", "username": "api", "password": "top-secret-pw"}
    listing = client.get(reverse("connection-list", args=[world.tenant.slug])).content.decode()
    assert "Books" in listing and "top-secret-pw" not in listing
    assert "company_id=4711" in listing  # not a secret
    edit = client.get(reverse("connection-edit", args=[world.tenant.slug, created.pk])).content.decode()
    assert "top-secret-pw" not in edit
    assert "Stored. Leave empty to keep it." in edit


def test_editing_without_retyping_a_secret_keeps_it(client, world):
    client.force_login(world.admin)
    url = reverse("connection-edit", args=[world.tenant.slug, world.connection.pk])
    response = client.post(url, {"name": "Renamed", "base_url": "https://sandbox.webcrm.test",
                                 "credential_api_key": ""})
    assert response.status_code == 302
    world.connection.refresh_from_db()
    assert world.connection.name == "Renamed"
    assert world.connection.credentials == {"api_key": SECRET}


def test_missing_required_secret_is_a_form_error_and_saves_nothing(client, world):
    client.force_login(world.admin)
    response = client.post(reverse("connection-create", args=[world.tenant.slug]),
                           {"system": "webcrm", "name": "No key", "base_url": ""})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not Connection.objects.filter(name="No key").exists()


def test_duplicate_name_is_refused_in_plain_words(client, world):
    client.force_login(world.admin)
    response = client.post(reverse("connection-create", args=[world.tenant.slug]),
                           {"system": "webcrm", "name": world.connection.name, "credential_api_key": "x"})
    assert "already has this name" in response.content.decode()


def test_same_name_is_fine_in_another_tenant(world):
    ConnectionFactory(tenant=world.other_tenant, name=world.connection.name)


@pytest.mark.parametrize("role", ["customer", "support"])
def test_customer_and_support_cannot_change_connections(client, world, role):
    client.force_login(getattr(world, role))
    slug, pk = world.tenant.slug, world.connection.pk
    assert client.get(reverse("connection-create", args=[slug])).status_code == 403
    assert client.post(reverse("connection-create", args=[slug]),
                       {"system": "webcrm", "name": "x", "credential_api_key": "k"}).status_code == 403
    assert client.post(reverse("connection-edit", args=[slug, pk]), {"name": "hijacked"}).status_code == 403
    assert client.post(reverse("connection-delete", args=[slug, pk])).status_code == 403
    world.connection.refresh_from_db()
    assert world.connection.name != "hijacked"
    assert Connection.objects.filter(pk=pk).exists()
    # Reading is allowed.
    assert client.get(reverse("connection-list", args=[slug])).status_code == 200


def test_admin_can_delete_an_unused_connection_but_not_one_in_use(client, world):
    client.force_login(world.admin)
    slug = world.tenant.slug
    client.post(reverse("connection-delete", args=[slug, world.connection.pk]))
    assert Connection.objects.filter(pk=world.connection.pk).exists()
    spare = ConnectionFactory(tenant=world.tenant)
    client.post(reverse("connection-delete", args=[slug, spare.pk]))
    assert not Connection.objects.filter(pk=spare.pk).exists()


# -- API -------------------------------------------------------------------------------------

def test_api_never_returns_secrets(api, world):
    api.force_authenticate(world.admin)
    url = f"/api/v1/t/{world.tenant.slug}/connections/"
    listing = api.get(url)
    assert listing.status_code == 200
    assert SECRET not in listing.content.decode()
    item = listing.json()["results"][0]
    assert "credentials" not in item
    assert item["credentials_set"] == ["api_key"]
    created = api.post(url, {"system": "uniconta", "name": "ERP", "credentials": {
        "company_id": "9", "username": "api", "password": "pw-never-shown"}}, format="json")
    assert created.status_code == 201, created.content
    assert "pw-never-shown" not in created.content.decode()
    assert created.json()["public_credentials"] == {"company_id": "9", "username": "api"}
    detail = api.get(f"{url}{created.json()['id']}/")
    assert "pw-never-shown" not in detail.content.decode()


def test_api_validates_credentials_by_name(api, world):
    api.force_authenticate(world.admin)
    url = f"/api/v1/t/{world.tenant.slug}/connections/"
    response = api.post(url, {"system": "webcrm", "name": "Bad", "credentials": {"apikey": "x"}}, format="json")
    assert response.status_code == 400
    assert "takes no credential named apikey" in response.json()["credentials"][0]
    response = api.post(url, {"system": "webcrm", "name": "Bad", "credentials": {}}, format="json")
    assert response.status_code == 400
    assert "Missing: api_key" in response.json()["credentials"][0]
    assert not Connection.objects.filter(name="Bad").exists()


def test_api_update_replaces_only_given_credentials(api, world):
    api.force_authenticate(world.admin)
    conn = ConnectionFactory(tenant=world.tenant, system="uniconta",
                             credentials={"company_id": "1", "username": "u", "password": "p"})
    response = api.patch(f"/api/v1/t/{world.tenant.slug}/connections/{conn.pk}/",
                         {"credentials": {"password": "new"}}, format="json")
    assert response.status_code == 200
    conn.refresh_from_db()
    assert conn.credentials == {"company_id": "1", "username": "u", "password": "new"}


@pytest.mark.parametrize("role", ["customer", "support"])
def test_api_customer_and_support_cannot_change_connections(api, world, role):
    api.force_authenticate(getattr(world, role))
    url = f"/api/v1/t/{world.tenant.slug}/connections/"
    assert api.get(url).status_code == 200
    assert api.post(url, {"system": "webcrm", "name": "x", "credentials": {"api_key": "k"}},
                    format="json").status_code == 403
    assert api.patch(f"{url}{world.connection.pk}/", {"name": "hijacked"}, format="json").status_code == 403
    assert api.delete(f"{url}{world.connection.pk}/").status_code == 403
    assert Connection.objects.get(pk=world.connection.pk).name != "hijacked"


def test_api_token_authentication(api, world):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=world.admin)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get(f"/api/v1/t/{world.tenant.slug}/connections/").status_code == 200
    api.credentials(HTTP_AUTHORIZATION="Token wrong")
    assert api.get(f"/api/v1/t/{world.tenant.slug}/connections/").status_code == 401
