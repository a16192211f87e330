"""The shared HTTP layer sends a connection's credentials only to the origin of its base URL."""

from __future__ import annotations

import pytest
from werkzeug.wrappers import Request, Response

from integrations.systems import transport
from integrations.systems.base import ForeignAnswerError
from integrations.systems.errors import NotFoundError, TransientError
from integrations.systems.hosts import BaseUrlRefused
from integrations.systems.registry import get_system

BASE = "https://guarded.test"
ELSEWHERE = "https://elsewhere.test"


class Recorder:
    def __init__(self, status: int = 200, body: str = "[]", headers: dict[str, str] | None = None,
                 content_type: str = "application/json"):
        self.status, self.body, self.headers, self.content_type = status, body, headers or {}, content_type
        self.seen: list[str] = []

    def __call__(self, environ, start_response):
        self.seen.append(Request(environ).url)
        return Response(self.body, status=self.status, headers=self.headers,
                        content_type=self.content_type)(environ, start_response)


@pytest.fixture
def uniconta():
    """A Uniconta client (Basic auth on every call) of a base URL served by a recorder, and a second host."""
    home, other = Recorder(), Recorder()
    with transport.mounted(BASE, home), transport.mounted(ELSEWHERE, other):
        client = get_system("uniconta").client(
            base_url=BASE, credentials={"company_id": "1", "username": "u", "password": "pw"}, sleep=lambda s: None)
        yield client, home, other


def test_an_absolute_url_to_another_host_is_stopped_before_sending(uniconta):
    client, _, other = uniconta
    with pytest.raises(BaseUrlRefused, match=r"elsewhere\.test"):
        client.request("GET", f"{ELSEWHERE}/steal")
    assert other.seen == [] and client.calls == 0


def test_a_lookalike_host_is_another_origin(uniconta):
    client, _, _ = uniconta
    with pytest.raises(BaseUrlRefused):
        client.request("GET", "https://guarded.test.elsewhere.test/x")
    with pytest.raises(BaseUrlRefused):
        client.request("GET", "http://guarded.test/x")  # another scheme is another origin


def test_a_path_on_the_own_host_is_sent(uniconta):
    client, home, _ = uniconta
    client.request("GET", "/odata/1/Debtor")
    assert home.seen == [f"{BASE}/odata/1/Debtor"]


def test_a_redirect_is_not_followed(uniconta):
    client, home, other = uniconta
    home.status, home.headers, home.body = 307, {"Location": f"{ELSEWHERE}/collect"}, ""
    with pytest.raises(ForeignAnswerError, match=r"HTTP 307"):
        client.request("POST", "/api/Entities/Insert/Debtor", json={"Name": "x"})
    assert other.seen == []


def test_a_foreign_not_found_page_is_no_proof_that_a_record_is_gone(uniconta):
    client, home, _ = uniconta
    home.status, home.body, home.content_type = 404, "<html>nginx</html>", "text/html"
    with pytest.raises(ForeignAnswerError) as raised:
        client.request("GET", "/odata/1/Debtor")
    assert not isinstance(raised.value, NotFoundError)
    assert "nginx" not in str(raised.value) and raised.value.vendor_message is None


def test_a_proxys_error_page_stays_worth_retrying(uniconta):
    client, home, _ = uniconta
    home.status, home.body, home.content_type = 502, "<html>Bad gateway</html>", "text/html"
    with pytest.raises(TransientError, match=r"did not answer like Uniconta's API \(HTTP 502\)"):
        client.request("GET", "/odata/1/Debtor")


def test_the_vendors_fixed_token_host_is_allowed_beside_its_api_host():
    client = get_system("fortnox").client_class(base_url="https://api.fortnox.se/3", credentials={})
    origins = {host for _, host, _ in client.allowed_origins}
    assert origins == {"api.fortnox.se", "apps.fortnox.se"}
