"""Stored secrets go only to the host they were entered for, and never travel in a web address."""

from __future__ import annotations

import json
import logging

import pytest
from django.urls import reverse
from werkzeug.wrappers import Request, Response

from integrations.models import Connection, ConnectionStatus
from integrations.services import connection_test
from integrations.systems import transport
from integrations.systems.hosts import OutboundPolicy, base_url_problem
from integrations.systems.registry import get_system
from tests.factories import ConnectionFactory

SECRET = "webcrm-secret-api-key-123"
PRODUCTION = OutboundPolicy(production=True, sandbox_enabled=False, allow_private=False)
WEBCRM = get_system("webcrm")


def public(host: str) -> list[str]:
    return ["93.184.216.34"]


class Recorder:
    """A foreign server: answers every request with one fixed response and remembers what it was sent."""

    def __init__(self, status: int = 404, body: str = "<html><body>Not here: internal-detail-42</body></html>",
                 content_type: str = "text/html", headers: dict[str, str] | None = None):
        self.status, self.body, self.content_type, self.headers = status, body, content_type, headers or {}
        self.seen: list[dict[str, str]] = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.seen.append({"url": request.url, "authorization": request.headers.get("Authorization", ""),
                          "body": request.get_data(as_text=True)})
        return Response(self.body, status=self.status, content_type=self.content_type,
                        headers=self.headers)(environ, start_response)


# -- the base URL rules ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("url, words", [
    ("https://api.webcrm.com/#", "#"),
    ("https://evil.example/x#", "#"),
    ("https://api.webcrm.com/?x=1", "query"),
    ("https://user:pw@api.webcrm.com", "user name or password"),
    ("ftp://api.webcrm.com", "https://"),
    ("http://api.webcrm.com", "https://api.webcrm.com"),
    ("https://api.webcrm.com:8443", "port 443"),
    ("https://api.webcrm.com/a/../admin", "path"),
    ("https://api.webcrm.com\\@evil.example", "backslashes"),
    ("https://evil.example", "api.webcrm.com"),
    ("https://webcrm.test", "sandboxes are switched off"),
])
def test_a_base_url_that_could_carry_secrets_elsewhere_is_refused(url, words):
    problem = base_url_problem(url, provider=WEBCRM, policy=PRODUCTION, resolve=public)
    assert problem and words in problem


def test_the_vendors_own_host_is_accepted_in_production():
    assert base_url_problem("https://api.webcrm.com", provider=WEBCRM, policy=PRODUCTION, resolve=public) is None
    fortnox = get_system("fortnox")
    assert base_url_problem("https://api.fortnox.se/3", provider=fortnox, policy=PRODUCTION, resolve=public) is None


@pytest.mark.parametrize("address", ["10.0.0.5", "127.0.0.1", "169.254.169.254", "224.0.0.1", "::1",
                                     "::ffff:192.168.1.1", "0.0.0.0", "240.0.0.1"])  # noqa: S104
def test_a_vendor_host_that_resolves_to_an_internal_address_is_refused(address):
    def rebound(host: str) -> list[str]:
        return ["93.184.216.34", address]

    problem = base_url_problem("https://api.webcrm.com", provider=WEBCRM, policy=PRODUCTION, resolve=rebound)
    assert problem and "private or internal" in problem and address in problem


def test_internal_addresses_are_allowed_only_where_the_setting_allows_them():
    development = OutboundPolicy(production=False, sandbox_enabled=False, allow_private=False)
    assert "private or internal" in base_url_problem("https://localhost:6379", provider=WEBCRM, policy=development,
                                                     resolve=lambda h: ["127.0.0.1"])
    allowed = OutboundPolicy(production=False, sandbox_enabled=False, allow_private=True)
    assert base_url_problem("http://localhost:8000", provider=WEBCRM, policy=allowed) is None


def test_sandbox_addresses_need_the_sandboxes_switched_on():
    on = OutboundPolicy(production=True, sandbox_enabled=True, allow_private=False,
                        public_base_url="http://127.0.0.1:8000")
    assert base_url_problem("https://webcrm.test", provider=WEBCRM, policy=on, resolve=lambda h: []) is None
    assert base_url_problem("http://127.0.0.1:8000/sandbox/webcrm", provider=WEBCRM, policy=on) is None
    # Synkro's own address is a sandbox only under /sandbox/.
    assert base_url_problem("http://127.0.0.1:8000/admin", provider=WEBCRM, policy=on) is not None
    off = OutboundPolicy(production=True, sandbox_enabled=False, public_base_url="http://127.0.0.1:8000")
    assert base_url_problem("http://127.0.0.1:8000/sandbox/webcrm", provider=WEBCRM, policy=off) is not None


def test_the_client_factory_refuses_a_bad_base_url_before_any_request(settings):
    settings.SANDBOX_ENABLED = False
    with pytest.raises(Exception, match="may not contain “#”"):
        WEBCRM.client(base_url="https://api.webcrm.com/#", credentials={"api_key": SECRET})
    with pytest.raises(Exception, match="sandboxes are switched off"):
        WEBCRM.client(base_url="https://elsewhere.test", credentials={"api_key": SECRET})


# -- secrets bound to their host: screen, API, admin ----------------------------------------------------------

def test_moving_a_connection_to_another_host_on_the_screen_needs_the_secret_again(client, world):
    client.force_login(world.admin)
    url = reverse("connection-edit", args=[world.tenant.slug, world.connection.pk])
    response = client.post(url, {"name": "Moved", "base_url": "https://attacker.test", "credential_api_key": ""})
    assert response.status_code == 200
    page = response.content.decode()
    assert "entered for" in page and "API key (authCode)" in page
    world.connection.refresh_from_db()
    assert world.connection.base_url == "https://sandbox.webcrm.test" and world.connection.name != "Moved"

    response = client.post(url, {"name": "Moved", "base_url": "https://attacker.test",
                                 "credential_api_key": "a-new-key-for-the-new-host"})
    assert response.status_code == 302
    world.connection.refresh_from_db()
    assert world.connection.base_url == "https://attacker.test"
    assert world.connection.credentials == {"api_key": "a-new-key-for-the-new-host"}
    assert world.connection.status == ConnectionStatus.UNTESTED


def test_the_same_host_with_another_path_keeps_the_secret(client, world):
    client.force_login(world.admin)
    url = reverse("connection-edit", args=[world.tenant.slug, world.connection.pk])
    response = client.post(url, {"name": "Same host", "base_url": "https://sandbox.webcrm.test/v2",
                                 "credential_api_key": ""})
    assert response.status_code == 302
    world.connection.refresh_from_db()
    assert world.connection.credentials == {"api_key": SECRET}


def test_a_fragment_in_the_base_url_is_a_form_error(client, world):
    client.force_login(world.admin)
    url = reverse("connection-edit", args=[world.tenant.slug, world.connection.pk])
    response = client.post(url, {"name": "Hash", "base_url": "https://sandbox.webcrm.test/#",
                                 "credential_api_key": SECRET})
    assert response.status_code == 200 and "may not contain “#”" in response.content.decode()
    world.connection.refresh_from_db()
    assert world.connection.base_url == "https://sandbox.webcrm.test"


def api_url(world, connection) -> str:
    return f"/api/v1/t/{world.tenant.slug}/connections/{connection.pk}/"


def test_moving_a_connection_through_the_api_needs_every_secret_again(api, world):
    api.force_authenticate(world.admin)
    connection = world.rows.pos_integration.erp_connection  # Uniconta: one secret, two plain credentials
    response = api.patch(api_url(world, connection), {"base_url": "https://elsewhere.test"}, format="json")
    assert response.status_code == 400
    assert "password" in json.dumps(response.json())
    connection.refresh_from_db()
    assert connection.base_url == "https://sandbox.uniconta.test"

    response = api.patch(api_url(world, connection), {"base_url": "https://elsewhere.test",
                                                      "credentials": {"password": "new-pw"}}, format="json")
    assert response.status_code == 200, response.content
    connection.refresh_from_db()
    assert connection.base_url == "https://elsewhere.test" and connection.credentials["password"] == "new-pw"


def test_the_api_refuses_a_base_url_with_a_fragment(api, world):
    api.force_authenticate(world.admin)
    response = api.patch(api_url(world, world.connection), {"base_url": "https://sandbox.webcrm.test/#",
                                                             "credentials": {"api_key": "x"}}, format="json")
    assert response.status_code == 400 and "base_url" in response.json()
    world.connection.refresh_from_db()
    assert world.connection.credentials == {"api_key": SECRET}


@pytest.fixture
def superuser_client(client, user_factory):
    client.force_login(user_factory(is_staff=True, is_superuser=True))
    return client


def admin_form(connection: Connection, **changes) -> dict[str, str]:
    return {"tenant": connection.tenant_id, "system": connection.system, "name": connection.name,
            "base_url": connection.base_url, "status": connection.status, **changes}


def test_the_admin_cannot_move_a_connection_with_secrets_nor_change_its_system(superuser_client, world):
    url = reverse("admin:integrations_connection_change", args=[world.connection.pk])
    response = superuser_client.post(url, admin_form(world.connection, base_url="https://attacker.test"))
    assert response.status_code == 200 and "entered for" in response.content.decode()
    response = superuser_client.post(url, admin_form(world.connection, system="uniconta"))
    assert response.status_code == 200 and "cannot change" in response.content.decode()
    world.connection.refresh_from_db()
    assert (world.connection.base_url, world.connection.system) == ("https://sandbox.webcrm.test", "webcrm")


# -- what "Test connection" shows ----------------------------------------------------------------------------

def test_a_foreign_answer_is_never_copied_into_the_connection_error(db):
    foreign = Recorder(status=404)
    connection = ConnectionFactory(base_url="https://foreign.test")
    with transport.mounted("https://foreign.test", foreign):
        connection_test(connection=connection)
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.FAILED
    assert connection.last_error == "The server at foreign.test did not answer like webCRM's API (HTTP 404)."


def test_a_foreign_json_body_is_not_shown_either(db):
    foreign = Recorder(status=401, body=json.dumps({"instance_secret": "internal-detail-42"}),
                       content_type="application/json")
    connection = ConnectionFactory(base_url="https://foreign.test")
    with transport.mounted("https://foreign.test", foreign):
        connection_test(connection=connection)
    connection.refresh_from_db()
    assert "internal-detail-42" not in connection.last_error
    assert "did not answer like webCRM's API (HTTP 401)" in connection.last_error


def test_the_vendors_own_words_are_shown_capped(db):
    words = "The authentication code is invalid " * 40
    vendor = Recorder(status=401, body=json.dumps({"Error": "invalid_grant", "ErrorDescription": words}),
                      content_type="application/json")
    connection = ConnectionFactory(base_url="https://capped.test")
    with transport.mounted("https://capped.test", vendor):
        connection_test(connection=connection)
    connection.refresh_from_db()
    assert "The authentication code is invalid" in connection.last_error
    assert len(connection.last_error) < 450


def test_a_stored_base_url_with_a_fragment_is_not_tested_and_nothing_is_sent(db):
    target = Recorder()
    connection = ConnectionFactory(base_url="https://target.test/#")
    with transport.mounted("https://target.test", target):
        connection_test(connection=connection)
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.FAILED and connection.last_error.startswith("Not tested")
    assert target.seen == []


# -- no secret in a web address ------------------------------------------------------------------------------

def test_the_system_choice_asks_for_its_fields_with_a_post_that_carries_no_secret(client, world):
    client.force_login(world.admin)
    url = reverse("connection-create", args=[world.tenant.slug])
    page = client.get(url).content.decode()
    assert 'hx-post=""' in page and "hx-get" not in page
    assert 'hx-params="system,switch"' in page
    response = client.post(url, {"system": "uniconta", "switch": "system", "name": "Not saved"})
    assert response.status_code == 200 and 'name="credential_password"' in response.content.decode()
    assert not Connection.objects.filter(name="Not saved").exists()


@pytest.mark.parametrize("query", ["credential_api_key=typed-secret-77", "password=typed-secret-77",
                                   "system=fortnox&credential_client_secret=typed-secret-77",
                                   "CREDENTIAL_API_TOKEN=typed-secret-77"])
def test_a_get_with_a_credential_in_its_query_is_refused_and_not_logged(client, world, caplog, query):
    client.force_login(world.admin)
    caplog.set_level(logging.DEBUG)
    response = client.get(reverse("connection-create", args=[world.tenant.slug]) + "?" + query)
    assert response.status_code == 400
    assert "never accepted in a web address" in response.content.decode()
    assert "typed-secret-77" not in caplog.text


def test_an_ordinary_query_still_works(client, world):
    client.force_login(world.admin)
    response = client.get(reverse("connection-create", args=[world.tenant.slug]), {"system": "uniconta"})
    assert response.status_code == 200


class Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_the_server_log_line_of_such_a_request_leaves_out_the_value(client, world):
    client.get("/")  # the middleware is in place
    server_log, lines = logging.getLogger("django.server"), Lines()
    server_log.addHandler(lines)
    try:
        server_log.warning('"%s" %s %s', "GET /t/nordlys/connections/new/?credential_api_key=typed-secret-77 HTTP/1.1",
                           "400", "120")
        server_log.warning('"%s" %s %s', "GET /t/nordlys/connections/new/?system=webcrm HTTP/1.1", "200", "1000")
    finally:
        server_log.removeHandler(lines)
    assert lines.lines[0] == '"GET /t/nordlys/connections/new/?[removed] HTTP/1.1" 400 120'
    assert "?system=webcrm" in lines.lines[1]
