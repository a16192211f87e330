"""“Connect to Fortnox”: Fortnox's consent page, the code traded for tokens, and nothing written on any refusal."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from integrations.models import Connection, ConnectionStatus
from integrations.oauth import SESSION_KEY, STATE_LIFETIME, ConnectRefused, fortnox_connect_state_take
from integrations.systems import transport
from integrations.systems.catalog import Entity
from integrations.systems.fortnox.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from tenants.models import Role
from tests.factories import ConnectionFactory, MembershipFactory
from tests.harness import BASES

pytestmark = pytest.mark.django_db

BASE = BASES["fortnox"]
PUBLIC = "https://synkro.example.org"
RETURN = f"{PUBLIC}/connections/fortnox/return/"


@pytest.fixture(autouse=True)
def _public_address(settings):
    settings.PUBLIC_BASE_URL = PUBLIC


@pytest.fixture
def fortnox(sandboxes):
    return sandboxes["fortnox"]


def start(client, world, **fields) -> str:
    """Press "Connect to Fortnox" on the new-connection form; the address the browser is sent to."""
    client.force_login(world.admin)
    response = client.post(reverse("connection-create", args=[world.tenant.slug]), {
        "system": "fortnox", "name": "Fortnox", "base_url": BASE, "connect": "fortnox", **fields})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


def consent(address: str, decision: str = "allow") -> dict[str, str]:
    """What a person does on Fortnox's consent page: the query Fortnox sends back to the redirect URI."""
    session = transport.build_session()
    page = session.get(address)
    assert page.status_code == 200, page.text
    consent_id = re.search(r'name="consent" value="([^"]+)"', page.text).group(1)
    answer = session.post(address, data={"consent": consent_id, "decision": decision}, allow_redirects=False)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(RETURN)
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def come_back(client, query: dict[str, str]):
    return client.get(reverse("fortnox-connect-return"), query, follow=True)


def test_the_button_sends_the_browser_to_fortnox_with_everything_fortnox_asks_for(client, world, fortnox):
    address = start(client, world)

    parts = urlsplit(address)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{BASE}/oauth-v1/auth"
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert query["client_id"] == DEMO_CLIENT_ID
    assert query["redirect_uri"] == RETURN
    assert query["response_type"] == "code" and query["access_type"] == "offline"
    assert set(query["scope"].split()) >= {"customer", "article", "order", "invoice"}
    assert len(query["state"]) >= 40
    assert DEMO_CLIENT_SECRET not in address
    assert not Connection.objects.filter(tenant=world.tenant, system="fortnox").exists()  # nothing before a yes


def test_allowing_access_saves_a_working_connection_with_the_tokens_encrypted(client, world, fortnox):
    answer = consent(start(client, world))

    page = come_back(client, answer).content.decode()

    assert "Fortnox is connected: “Fortnox” works" in page
    connection = Connection.objects.get(tenant=world.tenant, name="Fortnox")
    assert connection.status == ConnectionStatus.OK and connection.last_success_at and not connection.failing_since
    credentials = connection.credentials
    assert credentials["client_id"] == DEMO_CLIENT_ID and credentials["client_secret"] == DEMO_CLIENT_SECRET
    assert credentials["refresh_token"] in fortnox.refresh_grants
    assert credentials["access_token"] in fortnox.access_tokens
    for secret in (credentials["refresh_token"], credentials["access_token"], DEMO_CLIENT_SECRET):
        assert secret not in page
    # The connection reads Fortnox with the tokens it was given, without spending the refresh token.
    reader = Connection.objects.get(pk=connection.pk).client(sleep=lambda s: None)
    assert list(reader.list_records(Entity.ORGANISATION)) == []  # the sandbox's company is empty, and it answers
    assert fortnox.count("POST", "/oauth-v1/token") == 1


def test_denied_access_writes_nothing_and_says_so(client, world, fortnox):
    answer = consent(start(client, world), decision="deny")
    assert answer["error"] == "access_denied"

    page = come_back(client, answer).content.decode()

    assert "Fortnox was not connected: access was not allowed" in page
    assert not Connection.objects.filter(tenant=world.tenant, system="fortnox").exists()
    assert fortnox.count("POST", "/oauth-v1/token") == 0


def test_a_state_is_single_use(client, world, fortnox):
    answer = consent(start(client, world))
    come_back(client, answer)
    connection = Connection.objects.get(tenant=world.tenant, name="Fortnox")
    credentials = connection.credentials

    page = come_back(client, answer).content.decode()

    assert "does not belong to a connection started here, or it was used already" in page
    assert Connection.objects.get(pk=connection.pk).credentials == credentials
    assert fortnox.count("POST", "/oauth-v1/token") == 1


def test_a_made_up_state_writes_nothing(client, world, fortnox):
    answer = consent(start(client, world))

    page = come_back(client, {**answer, "state": "x" * 43}).content.decode()

    assert "does not belong to a connection started here" in page
    assert not Connection.objects.filter(tenant=world.tenant, system="fortnox").exists()
    assert fortnox.count("POST", "/oauth-v1/token") == 0


def test_a_state_from_another_session_is_refused(client, world, fortnox, django_user_model):
    answer = consent(start(client, world))
    intruder = MembershipFactory(tenant=world.tenant, role=Role.ADMIN, user__username="ivar-intruder").user
    client.force_login(intruder)  # a new session: the state is not in it

    page = come_back(client, answer).content.decode()

    assert "does not belong to a connection started here" in page
    assert not Connection.objects.filter(tenant=world.tenant, system="fortnox").exists()


def session_with_state(*, expires: float) -> dict:
    """A session holding one state started by user 1 for a new connection, valid until ``expires``."""
    return {SESSION_KEY: {"s" * 43: {"tenant_slug": "nordlys", "user_id": 1, "connection_id": None,
                                     "name": "Fortnox", "base_url": BASE, "redirect_uri": RETURN,
                                     "expires": expires}}}


def test_an_expired_state_is_refused():
    session = session_with_state(expires=1000.0)
    with pytest.raises(ConnectRefused, match="after more than 10 minutes"):
        fortnox_connect_state_take(session=session, state="s" * 43, user_id=1, now=1000.0)
    assert session[SESSION_KEY] == {}  # and it is gone
    assert STATE_LIFETIME == 600


def test_a_state_started_by_another_user_is_refused():
    session = session_with_state(expires=2000.0)
    with pytest.raises(ConnectRefused, match="started by someone else"):
        fortnox_connect_state_take(session=session, state="s" * 43, user_id=2, now=1000.0)


def test_an_expired_code_is_refused_by_fortnox_and_nothing_is_written(client, world, fortnox):
    answer = consent(start(client, world))
    fortnox.expire_codes()

    page = come_back(client, answer).content.decode()

    assert "Fortnox refused the connection (Invalid authorization code)" in page
    assert not Connection.objects.filter(tenant=world.tenant, system="fortnox").exists()


def test_reconnecting_replaces_the_tokens_of_that_connection_only(client, world, fortnox):
    old = ConnectionFactory(tenant=world.tenant, system="fortnox", name="Fortnox AB", base_url=BASE, credentials={
        "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET, "refresh_token": "revoked-long-ago"},
        status=ConnectionStatus.FAILED, last_error="Fortnox refused the credentials")
    other = ConnectionFactory(tenant=world.other_tenant, system="fortnox", name="Fortnox AB", base_url=BASE,
                              credentials={"refresh_token": "theirs"})
    client.force_login(world.admin)
    response = client.post(reverse("connection-edit", args=[world.tenant.slug, old.pk]),
                           {"name": "Fortnox AB", "base_url": BASE, "connect": "fortnox"})
    answer = consent(response["Location"])

    come_back(client, answer)

    old.refresh_from_db()
    assert old.status == ConnectionStatus.OK and old.last_error == ""
    assert old.credentials["refresh_token"] in fortnox.refresh_grants
    assert Connection.objects.get(pk=other.pk).credentials == {"refresh_token": "theirs"}
    assert Connection.objects.filter(tenant=world.tenant, system="fortnox").count() == 1


def test_fortnox_itself_needs_the_apps_credentials_from_the_settings(client, world, settings):
    settings.FORTNOX_CLIENT_ID, settings.FORTNOX_CLIENT_SECRET = "", ""
    client.force_login(world.admin)
    url = reverse("connection-create", args=[world.tenant.slug])

    refused = client.post(url, {"system": "fortnox", "name": "Fortnox", "base_url": "", "connect": "fortnox"})
    assert refused.status_code == 200
    assert "Connecting to Fortnox is not set up on this installation yet" in refused.content.decode()

    settings.FORTNOX_CLIENT_ID, settings.FORTNOX_CLIENT_SECRET = "synkro-prod-app", "prod-secret-never-shown"
    sent = client.post(url, {"system": "fortnox", "name": "Fortnox", "base_url": "", "connect": "fortnox"})
    assert sent.status_code == 302
    assert sent["Location"].startswith("https://apps.fortnox.se/oauth-v1/auth?")
    assert parse_qs(urlsplit(sent["Location"]).query)["client_id"] == ["synkro-prod-app"]
    assert "prod-secret-never-shown" not in sent["Location"]
    assert not Connection.objects.filter(tenant=world.tenant, system="fortnox").exists()


@pytest.mark.parametrize("role", ["customer", "support"])
def test_only_those_who_configure_may_connect(client, world, role, fortnox):
    client.force_login(getattr(world, role))
    response = client.post(reverse("connection-create", args=[world.tenant.slug]),
                           {"system": "fortnox", "name": "Fortnox", "base_url": BASE, "connect": "fortnox"})
    assert response.status_code == 403


def test_the_return_address_needs_a_login(client):
    response = client.get(reverse("fortnox-connect-return"), {"code": "c", "state": "s"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_form_offers_the_button_for_fortnox_only(client, world):
    client.force_login(world.admin)
    url = reverse("connection-create", args=[world.tenant.slug])
    assert "Connect to Fortnox" in client.get(url, {"system": "fortnox"}).content.decode()
    assert "Connect to Fortnox" not in client.get(url, {"system": "webcrm"}).content.decode()


def test_the_code_and_state_of_the_return_address_never_reach_a_log_line():
    from config.logredact import redact

    line = '"GET /connections/fortnox/return/?code=s3cr3t-code&state=s3cr3t-state HTTP/1.1" 302'
    assert redact(line) == '"GET /connections/fortnox/return/?code=…&state=… HTTP/1.1" 302'
