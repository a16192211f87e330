"""An administrator logs in, picks a tenant, adds a connection and sees it listed without its secret."""

import pytest
from django.db import connection as db_connection

from integrations.models import Connection
from tenants.models import Role
from tests.browser.login import log_in
from tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "browser-typed-secret-9f8e7d"


def test_admin_adds_a_connection_in_the_browser(page, live_server):
    first = TenantFactory(name="Nordlys Handel A/S", slug="nordlys")
    second = TenantFactory(name="Fjällvind AB", slug="fjallvind")
    user = UserFactory(username="anna")
    MembershipFactory(user=user, tenant=first, role=Role.ADMIN)
    MembershipFactory(user=user, tenant=second, role=Role.SUPPORT)

    log_in(page, live_server, "anna")

    # Two tenants: the picker.
    page.wait_for_selector("text=Choose a tenant")
    page.get_by_role("link", name="Nordlys Handel A/S").click()
    page.wait_for_selector("text=Nothing is connected yet")

    page.get_by_role("link", name="Add a connection").click()
    page.select_option("#id_system", "webcrm")
    # htmx swaps in the credential fields of the chosen system.
    page.wait_for_selector("#id_credential_api_key")
    page.fill("#id_name", "Our webCRM")
    page.fill("#id_credential_api_key", SECRET)
    page.get_by_role("button", name="Save connection").click()

    page.wait_for_selector("text=Connection “Our webCRM” saved")
    row = page.locator("#connections tbody tr", has_text="Our webCRM")
    assert row.count() == 1
    assert "webCRM" in row.inner_text()
    assert SECRET not in page.content()

    stored = Connection.objects.get(name="Our webCRM", tenant=first)
    assert stored.credentials == {"api_key": SECRET}
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM integrations_connection WHERE id = %s", [stored.pk])
        assert SECRET not in cursor.fetchone()[0]

    # The edit form does not show it either.
    row.get_by_role("link", name="Edit").click()
    page.wait_for_selector("text=Stored. Leave empty to keep it.")
    assert SECRET not in page.content()
    assert page.input_value("#id_credential_api_key") == ""
