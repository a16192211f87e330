"""Fixtures shared by the whole suite: two tenants, a member per role, and an outsider."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.core.handlers.wsgi import WSGIHandler
from rest_framework.test import APIClient

from tenants.models import Role, Tenant

from .factories import (
    ConnectionFactory,
    IntegrationFactory,
    MembershipFactory,
    TenantFactory,
    UserFactory,
)


@dataclass
class World:
    """One tenant with a member per role, and a second tenant with its own admin and rows."""

    tenant: Tenant
    admin: object
    customer: object
    support: object
    other_tenant: Tenant
    outsider: object  # admin of other_tenant only
    connection: object
    integration: object
    other_connection: object
    other_integration: object
    other_membership: object
    rows: SimpleNamespace
    other_rows: SimpleNamespace


def tenant_rows(tenant: Tenant, integration, membership) -> TenantRows:
    """One row of every tenant-owned kind, for the isolation tests."""
    from mappings.defaults import integration_setup_defaults
    from mappings.models import FieldMapping, PosRegister, WebhookToggle

    integration_setup_defaults(integration=integration)
    pos_integration = IntegrationFactory(
        tenant=tenant, crm_connection=ConnectionFactory(tenant=tenant, system="customers1st",
                                                        credentials={"api_token": "t"}),
        erp_connection=integration.erp_connection)
    integration_setup_defaults(integration=pos_integration)
    mapping = FieldMapping.objects.filter(entity_sync__integration=integration).first() or FieldMapping.objects.create(
        tenant=tenant, entity_sync=integration.entity_syncs.get(entity="organisation"), erp_field="Name",
        crm_field="OrganisationName")
    toggle = WebhookToggle.objects.filter(integration=integration).first()
    register = PosRegister.objects.create(tenant=tenant, pos_settings=pos_integration.pos_settings,
                                          register_id="1", name="Kasse 1")
    return TenantRows(tenant=tenant, connection=integration.crm_connection, integration=integration,
                      membership=membership, mapping=mapping, toggle=toggle, register=register,
                      pos_integration=pos_integration)


SYNC_ROWS = ("run", "dead_letter", "log_entry", "conflict")


class TenantRows(SimpleNamespace):
    """A tenant's rows. The sync engine's rows (a run, a dead letter, a log entry, a conflict) are made on
    first use, so that tests of the engine start from an empty queue and an empty log."""

    def __getattr__(self, name: str):
        if name not in SYNC_ROWS:
            raise AttributeError(name)
        self.__dict__.update(sync_rows(self.tenant, self.integration))
        return self.__dict__[name]


def sync_rows(tenant: Tenant, integration) -> dict:
    from integrations.models import Conflict, InboundEvent, SyncLogEntry, SyncRun

    run = SyncRun.objects.create(tenant=tenant, integration=integration, kind="import", entity="organisation")
    dead_letter = InboundEvent.objects.create(tenant=tenant, integration=integration, system="webcrm",
                                              entity="organisation", action="updated", external_id="17",
                                              state="failed", last_error="Uniconta refused the data")
    log_entry = SyncLogEntry.objects.create(tenant=tenant, integration=integration, entity="organisation",
                                            action="failed", direction="to_erp", crm_id="17", label="Havbrise Byg",
                                            error="Uniconta refused the data", event=dead_letter, run=run)
    conflict = Conflict.objects.create(tenant=tenant, integration=integration, entity="organisation",
                                       crm_field="OrganisationCity", erp_field="City", crm_value="Aarhus",
                                       erp_value="Århus", owner="erp", winner="erp", resolved_value="Århus")
    return {"run": run, "dead_letter": dead_letter, "log_entry": log_entry, "conflict": conflict}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing cost belongs to production; tests only need a working hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db) -> World:
    tenant = TenantFactory(name="Nordlys Handel A/S", slug="nordlys")
    other = TenantFactory(name="Fjällvind AB", slug="fjallvind")
    admin = MembershipFactory(tenant=tenant, role=Role.ADMIN, user__username="anna-admin").user
    customer = MembershipFactory(tenant=tenant, role=Role.CUSTOMER, user__username="carl-customer").user
    support = MembershipFactory(tenant=tenant, role=Role.SUPPORT, user__username="sofie-support").user
    other_membership = MembershipFactory(tenant=other, role=Role.ADMIN, user__username="olle-outsider")
    integration = IntegrationFactory(tenant=tenant)
    other_integration = IntegrationFactory(tenant=other)
    rows = tenant_rows(tenant, integration, tenant.memberships.get(user=admin))
    other_rows = tenant_rows(other, other_integration, other_membership)
    return World(
        tenant=tenant, admin=admin, customer=customer, support=support, other_tenant=other,
        outsider=other_membership.user, connection=integration.crm_connection, integration=integration,
        other_connection=other_integration.crm_connection, other_integration=other_integration,
        other_membership=other_membership, rows=rows, other_rows=other_rows,
    )


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def make_connection(db):
    return ConnectionFactory


@pytest.fixture
def user_factory(db):
    return UserFactory


def pytest_report_header(config):
    from django.conf import settings

    return f"database: {settings.DATABASES['default']['ENGINE']}"


# -- browser (Playwright driving Debian's Chromium; no browser is ever downloaded) -------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
# Flags for a closed network and a root user (CI runs as root).
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (the CI script does)")
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
        )
        yield context
        context.close()


@pytest.fixture
def page(browser, live_server):
    page = browser.new_page()
    page.set_default_timeout(15_000)
    yield page
    page.close()
    browser.clear_cookies()


# -- the vendors' sandboxes and Synkro, talking real HTTP in-process (see tests/harness.py) -----------

@pytest.fixture
def synkro(settings):
    """Synkro's WSGI app mounted at ``SYNKRO_URL`` for the sandboxes' webhooks (in-process)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from integrations.systems import transport
    from tests.harness import SYNKRO_URL

    handler = WSGIHandler()

    def app(environ, start_response):
        # As Django's test client does: a request served inside a test must not close the test's connection.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            result = handler(environ, start_response)
            body = b"".join(result)
            if hasattr(result, "close"):
                result.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        return [body]

    settings.PUBLIC_BASE_URL = SYNKRO_URL
    settings.ALLOWED_HOSTS = ["synkro.test", "testserver"]
    with transport.mounted(SYNKRO_URL, app):
        yield SYNKRO_URL


@pytest.fixture
def sandboxes():
    """One fresh sandbox per system, without rate limits (tests that want them set their own)."""
    from integrations.systems import transport
    from integrations.systems.registry import get_system
    from tests.harness import BASES

    apps = {key: get_system(key).sandbox(rate_limit=(0, 0), seed=11) for key in BASES}
    for key, app in apps.items():
        transport.mount(BASES[key], app)
    try:
        yield apps
    finally:
        for key in BASES:
            transport.unmount(BASES[key])
