"""In the browser: an administrator presses "Connect to Fortnox", allows access on Fortnox's consent page and lands
back on the connection, shown as working."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from integrations.models import Connection, ConnectionStatus
from integrations.systems import transport
from integrations.systems.fortnox.sandbox import DEMO_CLIENT_SECRET, FortnoxSandbox
from tenants.models import Role
from tests.browser.login import log_in
from tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fortnox_site():
    """The Fortnox sandbox on a port of its own (the browser's Fortnox), and in-process for Synkro's own calls."""
    sandbox = FortnoxSandbox(rate_limit=(0, 0))
    server = make_server("127.0.0.1", 0, sandbox, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.port}"
    transport.mount(url, sandbox)
    try:
        yield url, sandbox
    finally:
        transport.unmount(url)
        server.shutdown()
        thread.join(timeout=5)


def test_admin_connects_fortnox_through_its_consent_page(page, live_server, settings, fortnox_site):
    url, sandbox = fortnox_site
    settings.PUBLIC_BASE_URL = live_server.url  # the app's redirect URI is Synkro's own address
    # As in production for apps.fortnox.se: the connection form may be sent on to the consent page's origin.
    policy = dict(settings.CONTENT_SECURITY_POLICY)
    directives = dict(policy["DIRECTIVES"])
    directives["form-action"] = [*directives.get("form-action", []), url]
    settings.CONTENT_SECURITY_POLICY = {**policy, "DIRECTIVES": directives}
    tenant = TenantFactory(name="Björkdal Bygg AB", slug="bjorkdal")
    MembershipFactory(user=UserFactory(username="britt"), tenant=tenant, role=Role.ADMIN)

    log_in(page, live_server, "britt")
    page.goto(f"{live_server.url}/t/bjorkdal/connections/new/?system=fortnox")
    page.fill("#id_name", "Fortnox")
    page.fill("#id_base_url", url)
    page.get_by_role("button", name="Connect to Fortnox").click()

    # Fortnox's consent page: the app and what it asks for.
    page.wait_for_selector("text=Connect an app to Fortnox")
    assert "Synkro (demo)" in page.content() and "Customers" in page.content()
    page.get_by_role("button", name="Allow").click()

    page.wait_for_selector("text=Fortnox is connected")
    row = page.locator("#connections tbody tr", has_text="Fortnox")
    assert "Working" in row.inner_text()
    assert "Last successful call just now" in row.inner_text()
    assert DEMO_CLIENT_SECRET not in page.content()

    connection = Connection.objects.get(tenant=tenant, name="Fortnox")
    assert connection.status == ConnectionStatus.OK
    assert connection.credentials["refresh_token"] in sandbox.refresh_grants
    assert connection.credentials["refresh_token"] not in page.content()
