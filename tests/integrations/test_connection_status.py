"""Saving a connection tests it first, and a connection in daily use says when it last worked or since when it fails."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from integrations.connection_status import connection_call_recorded
from integrations.models import Connection, ConnectionStatus
from integrations.systems.catalog import Entity
from integrations.systems.errors import AuthError
from tests.harness import BASES, demo_credentials

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def create(client, world, system: str, credentials: dict[str, str], name: str = "Tested"):
    client.force_login(world.admin)
    data = {"system": system, "name": name, "base_url": BASES[system],
            **{f"credential_{key}": value for key, value in credentials.items()}}
    return client.post(reverse("connection-create", args=[world.tenant.slug]), data, follow=True)


# -- test on save ------------------------------------------------------------------------------------

def test_a_webcrm_key_webcrm_refuses_is_a_form_error_and_nothing_is_saved(client, world, sandboxes):
    response = create(client, world, "webcrm", {"api_key": "not-the-key"})

    page = response.content.decode()
    assert "Not saved: webCRM refused the credentials" in page
    assert not Connection.objects.filter(tenant=world.tenant, name="Tested").exists()
    assert sandboxes["webcrm"].count("POST", "/Auth/ApiLogin") >= 1  # really asked


def test_visma_net_client_credentials_are_checked_on_save_with_vismas_words_kept(client, world, sandboxes):
    credentials = {**demo_credentials("vismanet"), "client_secret": "wrong-secret"}
    credentials.pop("signing_secret", None)

    page = create(client, world, "vismanet", credentials).content.decode()

    assert "Not saved: Visma.net refused the credentials" in page
    assert "invalid_client" in page  # Visma Connect's own word
    assert "wrong-secret" not in page
    assert not Connection.objects.filter(tenant=world.tenant, name="Tested").exists()


def test_visma_net_good_credentials_are_saved_as_working(client, world, sandboxes):
    credentials = dict(demo_credentials("vismanet"))
    credentials.pop("signing_secret", None)

    page = create(client, world, "vismanet", credentials).content.decode()

    assert "Connection “Tested” saved and working: Visma.net tenant" in page
    saved = Connection.objects.get(tenant=world.tenant, name="Tested")
    assert saved.status == ConnectionStatus.OK and saved.last_success_at and saved.last_checked_at


def test_an_unreachable_vendor_saves_with_a_warning_that_it_was_not_checked(client, world, sandboxes):
    sandboxes["uniconta"].fail_next(4, status=503)

    page = create(client, world, "uniconta", demo_credentials("uniconta")).content.decode()

    assert "saved, but it could not be checked" in page
    saved = Connection.objects.get(tenant=world.tenant, name="Tested")
    assert saved.status == ConnectionStatus.UNTESTED
    assert saved.status_detail.startswith("Saved without a check: Uniconta could not be reached")


def test_a_pasted_fortnox_refresh_token_is_kept_as_fortnox_rotated_it(client, world, sandboxes):
    pasted = sandboxes["fortnox"].issue_refresh_token()
    credentials = {**demo_credentials("fortnox"), "refresh_token": pasted}

    create(client, world, "fortnox", credentials)

    saved = Connection.objects.get(tenant=world.tenant, name="Tested")
    assert saved.status == ConnectionStatus.OK
    assert saved.credentials["refresh_token"] != pasted  # the test spent it: the new one is what is kept
    assert saved.credentials["refresh_token"] in sandboxes["fortnox"].refresh_grants


def test_a_new_wrong_key_on_edit_keeps_the_old_one(client, world, sandboxes):
    good = Connection.objects.create(tenant=world.tenant, system="webcrm", name="Our webCRM",
                                     base_url=BASES["webcrm"], credentials=demo_credentials("webcrm"))
    client.force_login(world.admin)

    page = client.post(reverse("connection-edit", args=[world.tenant.slug, good.pk]),
                       {"name": "Our webCRM", "base_url": BASES["webcrm"], "credential_api_key": "typo"}).content
    assert "Not saved: webCRM refused the credentials" in page.decode()
    assert Connection.objects.get(pk=good.pk).credentials == demo_credentials("webcrm")


def test_renaming_alone_asks_the_vendor_nothing(client, world, sandboxes):
    good = Connection.objects.create(tenant=world.tenant, system="webcrm", name="Our webCRM",
                                     base_url=BASES["webcrm"], credentials=demo_credentials("webcrm"))
    client.force_login(world.admin)

    response = client.post(reverse("connection-edit", args=[world.tenant.slug, good.pk]),
                           {"name": "webCRM", "base_url": BASES["webcrm"], "credential_api_key": ""})

    assert response.status_code == 302
    assert Connection.objects.get(pk=good.pk).name == "webCRM"
    assert sandboxes["webcrm"].requests == []


# -- the status of a connection in daily use ------------------------------------------------------------

def saved(system: str, credentials: dict[str, str] | None = None, **fields) -> Connection:
    from tests.factories import TenantFactory

    return Connection.objects.create(tenant=TenantFactory(), system=system, name=system, base_url=BASES[system],
                                     credentials=credentials or demo_credentials(system), **fields)


def test_a_successful_call_in_daily_use_marks_the_connection_working(sandboxes):
    connection = saved("uniconta")
    assert connection.status == ConnectionStatus.UNTESTED

    list(connection.client(sleep=lambda s: None).list_records(Entity.ORGANISATION, page_size=5))

    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.OK
    assert connection.last_success_at is not None and connection.failing_since is None


def test_a_refusal_in_daily_use_marks_it_failing_with_the_vendors_reason(sandboxes):
    connection = saved("webcrm", {"api_key": "revoked-key"})

    with pytest.raises(AuthError):
        connection.client(sleep=lambda s: None).get_record(Entity.ORGANISATION, "1")

    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.FAILED and connection.failing_since is not None
    assert connection.last_error.startswith("webCRM refused the credentials")
    assert "revoked-key" not in connection.last_error


def test_the_same_outcome_is_written_at_most_once_a_minute_but_a_change_at_once(sandboxes):
    connection = saved("uniconta")
    created = connection.created_at.timestamp()
    refusal = AuthError("refused", status=401, vendor_message="Invalid login")

    def record(error=None) -> bool:
        return connection_call_recorded(connection_id=connection.pk, created=created, system_name="Uniconta",
                                        error=error)

    assert record() is True
    assert record() is False  # a second success within the minute costs no write
    assert record(refusal) is True  # the change is written at once
    connection.refresh_from_db()
    since = connection.failing_since
    assert connection.status == ConnectionStatus.FAILED and since is not None
    assert record(refusal) is False
    assert record() is True
    assert record(refusal) is True
    connection.refresh_from_db()
    assert connection.failing_since > since  # a new spell of failing after a success in between


def test_the_list_says_how_long_ago_it_last_worked_and_since_when_it_fails(client, world):
    now = timezone.now()
    Connection.objects.filter(pk=world.connection.pk).update(
        status=ConnectionStatus.OK, last_success_at=now - dt.timedelta(minutes=3))
    failing = saved("uniconta", status=ConnectionStatus.FAILED, failing_since=now - dt.timedelta(hours=2),
                    last_error="Uniconta refused the credentials: Invalid login. Check them and save again.")
    failing.tenant = world.tenant
    failing.save()
    client.force_login(world.admin)

    page = client.get(reverse("connection-list", args=[world.tenant.slug])).content.decode()

    assert "Working</span>" in page and "Last successful call 3\xa0minutes ago" in page
    assert "Failing</span>" in page and "since " in page and "Uniconta refused the credentials: Invalid login" in page


def test_the_api_tests_new_credentials_before_saving_them_too(api, world, sandboxes):
    api.force_authenticate(world.admin)
    url = f"/api/v1/t/{world.tenant.slug}/connections/"

    refused = api.post(url, {"system": "webcrm", "name": "API webCRM", "base_url": BASES["webcrm"],
                             "credentials": {"api_key": "not-the-key"}}, format="json")
    assert refused.status_code == 400
    assert "webCRM refused the credentials" in refused.json()["credentials"][0]
    assert not Connection.objects.filter(tenant=world.tenant, name="API webCRM").exists()

    created = api.post(url, {"system": "webcrm", "name": "API webCRM", "base_url": BASES["webcrm"],
                             "credentials": demo_credentials("webcrm")}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "ok" and created.json()["last_success_at"]
