"""Fixtures shared by the whole suite: two tenants, a member per role, and an outsider."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
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
    return World(
        tenant=tenant, admin=admin, customer=customer, support=support, other_tenant=other,
        outsider=other_membership.user, connection=integration.crm_connection, integration=integration,
        other_connection=other_integration.crm_connection, other_integration=other_integration,
        other_membership=other_membership,
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
