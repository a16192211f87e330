"""Every password login is throttled per client address and per normalised username, in the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from tenants.login import client_address, login_username, throttle_key, wait_in_words
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SITE_LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture
def limit(settings) -> int:
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    return 5


def post_login(path: str, username: str, password: str, address: str = "203.0.113.7", client: Client | None = None):
    client = client or Client()
    response = client.post(path, {"username": username, "password": password, "next": "/"}, REMOTE_ADDR=address)
    return client, response


def signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


# --- plain rules ---------------------------------------------------------------------------------------------

def test_a_username_is_normalised_before_it_is_looked_up():
    assert login_username(" name\t") == "name"
    assert login_username("ｎａｍｅ") == "name"
    assert login_username("Name") == "Name"  # usernames keep their case when looked up


def test_every_spelling_of_a_username_shares_one_throttle_key():
    assert {throttle_key(v) for v in ["name", " name", "name\t", "ＮＡＭＥ", "Name", "ｎａｍｅ "]} == {"name"}


def test_the_client_address_is_the_connection_without_a_proxy(settings):
    settings.PROXY_COUNT = 0
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert client_address(request) == "10.0.0.9"


def test_behind_a_proxy_the_address_the_proxy_saw_counts_not_what_the_client_claims(settings):
    settings.PROXY_COUNT = 1
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.9",
                                    HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.50")
    assert client_address(request) == "203.0.113.50"
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.9")
    assert client_address(request) == "10.0.0.9"


def test_the_wait_is_said_in_plain_words():
    assert wait_in_words(timedelta(minutes=15)) == "15 minutes"
    assert wait_in_words(timedelta(hours=1)) == "1 hour"
    assert wait_in_words(timedelta(minutes=1)) == "1 minute"


# --- through the login pages ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [SITE_LOGIN, ADMIN_LOGIN])
def test_after_the_limit_even_the_right_password_is_refused(path, limit):
    user = UserFactory(username="anna", is_staff=True, is_superuser=True)
    for _ in range(limit):
        post_login(path, user.username, "wrong")
    client, response = post_login(path, user.username, PASSWORD)
    assert response.status_code == 429
    assert "Too many login attempts" in response.content.decode()
    assert not signed_in(client)


def test_the_lockout_page_is_plain_and_says_how_long_to_wait(limit):
    UserFactory(username="anna")
    for _ in range(limit):
        _, response = post_login(SITE_LOGIN, "anna", "wrong")
    assert response.status_code == 429
    body = response.content.decode()
    assert "Wait 15 minutes and try again." in body
    assert response["Retry-After"] == str(15 * 60)


def test_spellings_of_one_username_from_many_addresses_share_one_count(limit):
    UserFactory(username="anna")
    spellings = [" anna", "anna\t", "ＡＮＮＡ", "Anna", "ａｎｎａ "]
    for number, spelling in enumerate(spellings[:limit]):
        post_login(SITE_LOGIN, spelling, "wrong", address=f"198.51.100.{number + 1}")
    client, response = post_login(SITE_LOGIN, "anna", PASSWORD, address="192.0.2.200")
    assert response.status_code == 429
    assert not signed_in(client)


def test_a_padded_or_full_width_username_logs_into_the_same_account():
    user = UserFactory(username="anna")
    for spelling in [" anna ", "ａｎｎａ"]:
        client, response = post_login(SITE_LOGIN, spelling, PASSWORD)
        assert response.status_code == 302
        assert client.session[SESSION_KEY] == str(user.pk)


def test_one_address_trying_many_usernames_is_locked_out(limit):
    UserFactory(username="anna")
    for number in range(limit):
        post_login(SITE_LOGIN, f"guess-{number}", "wrong", address="203.0.113.9")
    client, response = post_login(SITE_LOGIN, "anna", PASSWORD, address="203.0.113.9")
    assert response.status_code == 429
    assert not signed_in(client)
    client, response = post_login(SITE_LOGIN, "anna", PASSWORD, address="203.0.113.10")
    assert response.status_code == 302
    assert signed_in(client)


def test_the_count_is_kept_in_the_database_not_in_one_process(limit):
    """A second process has its own cache, but the same database: clearing the cache unlocks nothing."""
    UserFactory(username="anna")
    for _ in range(limit):
        post_login(SITE_LOGIN, "anna", "wrong")
    assert AccessAttempt.objects.filter(username="anna").exists()
    cache.clear()
    _, response = post_login(SITE_LOGIN, "anna", PASSWORD, client=Client())
    assert response.status_code == 429


def test_failures_below_the_limit_do_not_lock(limit):
    UserFactory(username="anna")
    for _ in range(limit - 1):
        _, response = post_login(SITE_LOGIN, "anna", "wrong")
        assert response.status_code == 200
    client, response = post_login(SITE_LOGIN, "anna", PASSWORD)
    assert response.status_code == 302
    assert signed_in(client)


def test_after_the_cool_off_the_right_password_works_again(limit):
    UserFactory(username="anna")
    for _ in range(limit):
        post_login(SITE_LOGIN, "anna", "wrong")
    assert post_login(SITE_LOGIN, "anna", PASSWORD)[1].status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    client, response = post_login(SITE_LOGIN, "anna", PASSWORD)
    assert response.status_code == 302
    assert signed_in(client)


def test_the_limit_comes_from_the_settings(settings):
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(username="anna")
    post_login(SITE_LOGIN, "anna", "wrong")
    _, response = post_login(SITE_LOGIN, "anna", "wrong")
    assert response.status_code == 429


def test_the_login_page_still_answers_get_when_locked(limit):
    for _ in range(limit):
        post_login(SITE_LOGIN, "anna", "wrong")
    response = Client().get(reverse("login"), REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 200
