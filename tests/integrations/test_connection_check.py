"""“Test connection” makes a real authenticated call through the system's client and keeps the outcome."""

from __future__ import annotations

import pytest

from integrations.models import Connection, ConnectionStatus
from integrations.services import connection_test
from integrations.systems.registry import all_systems
from tests.factories import TenantFactory
from tests.harness import BASES, demo_credentials

SYSTEMS = sorted(p.key for p in all_systems())


def connection(system: str, credentials: dict[str, str]) -> Connection:
    return Connection.objects.create(tenant=TenantFactory(), system=system, name=system, base_url=BASES[system],
                                     credentials=credentials)


@pytest.mark.django_db
@pytest.mark.parametrize("system", SYSTEMS)
def test_good_credentials_are_reported_working(system, sandboxes):
    checked = connection_test(connection=connection(system, demo_credentials(system)))
    checked.refresh_from_db()
    assert checked.status == ConnectionStatus.OK, checked.last_error
    assert checked.status_detail and not checked.last_error and checked.last_checked_at


@pytest.mark.django_db
@pytest.mark.parametrize("system", SYSTEMS)
def test_wrong_credentials_are_explained_in_plain_words(system, sandboxes):
    credentials = demo_credentials(system)
    secret = next(f.name for f in next(p for p in all_systems() if p.key == system).credential_fields
                  if f.secret and f.name in credentials)
    credentials[secret] = "wrong-" + credentials[secret]
    checked = connection_test(connection=connection(system, credentials))
    checked.refresh_from_db()
    assert checked.status == ConnectionStatus.FAILED
    assert "refused the credentials" in checked.last_error
    assert "wrong-" not in checked.last_error
