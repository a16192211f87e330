"""The Fortnox sandbox's consent page and ``authorization_code`` grant refuse what Fortnox refuses."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from integrations.systems import transport
from integrations.systems.fortnox.sandbox import (
    CODE_LIFETIME,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    REFRESH_TOKEN_LIFETIME,
    FortnoxSandbox,
)

BASE = "https://fortnox-consent.test"
APP_RETURN = "https://app.example.org/return"


@pytest.fixture
def fortnox():
    sandbox = FortnoxSandbox(rate_limit=(0, 0))
    sandbox.register_app("registered-app", "registered-secret", name="Registered app", redirect_uris=(APP_RETURN,))
    with transport.mounted(BASE, sandbox):
        yield sandbox


@pytest.fixture
def http(fortnox):
    session = transport.build_session()
    yield session
    session.close()


def basic(client_id: str = DEMO_CLIENT_ID, secret: str = DEMO_CLIENT_SECRET) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def auth_address(**overrides: str) -> str:
    query = {"client_id": DEMO_CLIENT_ID, "redirect_uri": APP_RETURN, "scope": "customer article", "state": "st4te",
             "access_type": "offline", "response_type": "code", **overrides}
    return f"{BASE}/oauth-v1/auth?{urlencode(query)}"


def allow(http, address: str, decision: str = "allow") -> dict[str, str]:
    page = http.get(address)
    consent = re.search(r'name="consent" value="([^"]+)"', page.text).group(1)
    answer = http.post(address, data={"consent": consent, "decision": decision}, allow_redirects=False)
    assert answer.status_code == 302
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}


def trade(http, code: str, *, redirect_uri: str = APP_RETURN, **credentials: str):
    return http.post(f"{BASE}/oauth-v1/token", headers=basic(**credentials),
                     data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})


def test_the_consent_page_names_the_app_and_the_scopes(http):
    page = http.get(auth_address())
    assert page.status_code == 200
    assert "Synkro (demo)" in page.text and "Customers" in page.text and "Articles" in page.text
    assert "Invoices" not in page.text  # only what was asked for


def test_allow_gives_a_code_and_the_state_back_and_the_code_buys_tokens_once(http, fortnox):
    answer = allow(http, auth_address())
    assert answer["state"] == "st4te"

    tokens = trade(http, answer["code"])
    assert tokens.status_code == 200
    body = tokens.json()
    assert body["expires_in"] == 3600 and body["token_type"] == "bearer" and body["scope"] == "customer article"
    assert body["refresh_token"] in fortnox.refresh_grants

    again = trade(http, answer["code"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert body["refresh_token"] not in fortnox.refresh_grants  # a replayed code revokes what it bought


def test_deny_sends_access_denied_with_the_state(http):
    answer = allow(http, auth_address(), decision="deny")
    assert answer["error"] == "access_denied" and answer["state"] == "st4te" and "code" not in answer


def test_an_unknown_app_or_an_unregistered_return_address_is_never_redirected_to(http):
    unknown = http.get(auth_address(client_id="nobody"), allow_redirects=False)
    assert unknown.status_code == 400 and "ClientID supplied is invalid" in unknown.text
    foreign = http.get(auth_address(client_id="registered-app", redirect_uri="https://evil.example.com/x"),
                       allow_redirects=False)
    assert foreign.status_code == 400 and "Location" not in foreign.headers


def test_an_unknown_scope_goes_back_as_invalid_scope(http):
    answer = http.get(auth_address(scope="customer everything"), allow_redirects=False)
    assert answer.status_code == 302
    assert parse_qs(urlsplit(answer.headers["Location"]).query)["error"] == ["invalid_scope"]


def test_the_code_is_bound_to_its_app_its_return_address_and_ten_minutes(http, fortnox):
    fortnox.register_app("other-app", "other-secret")
    code = allow(http, auth_address())["code"]
    assert trade(http, code, client_id="other-app", secret="other-secret").status_code == 400
    assert trade(http, code, client_id=DEMO_CLIENT_ID, secret="wrong").status_code == 401
    assert trade(http, code, redirect_uri="https://app.example.org/elsewhere").status_code == 400

    late = allow(http, auth_address())["code"]
    now = fortnox.clock()
    fortnox.clock = lambda: now + CODE_LIFETIME + 1
    refused = trade(http, late)
    assert refused.status_code == 400 and refused.json()["error_description"] == "Invalid authorization code"


def test_a_refresh_token_runs_out_after_45_days(http, fortnox):
    refresh = trade(http, allow(http, auth_address())["code"]).json()["refresh_token"]
    now = fortnox.wall_clock()
    fortnox.wall_clock = lambda: now + REFRESH_TOKEN_LIFETIME + 1
    answer = http.post(f"{BASE}/oauth-v1/token", headers=basic(),
                       data={"grant_type": "refresh_token", "refresh_token": refresh})
    assert answer.status_code == 400 and answer.json()["error_description"] == "Invalid refresh token"


def test_a_consent_answers_once(http):
    address = auth_address()
    page = http.get(address)
    consent = re.search(r'name="consent" value="([^"]+)"', page.text).group(1)
    assert http.post(address, data={"consent": consent, "decision": "allow"}, allow_redirects=False).status_code == 302
    assert http.post(address, data={"consent": consent, "decision": "allow"}, allow_redirects=False).status_code == 400
