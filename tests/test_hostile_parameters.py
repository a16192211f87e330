"""Parameters out of every range a screen or the API expects are answered 4xx, never 500, on any database."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import SyncLogEntry
from tests.test_tenant_isolation import Route, tenant_routes

HUGE_ID = 10**29  # 30 digits: more than PostgreSQL's bigint holds


@pytest.fixture
def log(world):
    """Write a failed log entry of the world's tenant, five minutes old."""

    def write(**fields) -> SyncLogEntry:
        entry = SyncLogEntry.objects.create(tenant=world.tenant, integration=world.integration, entity="organisation",
                                            action="failed", direction="to_erp", crm_id="4711",
                                            label="Havbrise Byg", **fields)
        SyncLogEntry.objects.filter(pk=entry.pk).update(at=timezone.now() - dt.timedelta(minutes=5))
        return entry

    return write


def _with_ids(route: Route) -> bool:
    return bool(route.kwargs - {"tenant_slug", "entity"})


def _huge_kwargs(route: Route, slug: str) -> dict[str, object]:
    values: dict[str, object] = {"tenant_slug": slug}
    for kwarg in route.kwargs - {"tenant_slug"}:
        values[kwarg] = "organisation" if kwarg == "entity" else HUGE_ID
    return values


@pytest.mark.django_db
@pytest.mark.parametrize("route", [r for r in tenant_routes() if _with_ids(r)], ids=lambda r: r.name)
def test_a_thirty_digit_id_in_the_path_is_not_found(client, world, route):
    client.force_login(world.admin)
    url = reverse(route.name, kwargs=_huge_kwargs(route, world.tenant.slug))
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code in (404, 405), f"{method.upper()} {url} answered {response.status_code}"


def _api(world, path: str) -> str:
    return f"/api/v1/t/{world.tenant.slug}/{path}"


def _cursor(position: str) -> str:
    return base64.b64encode(f"o=0&p={position}".encode()).decode()


LIST_PARAMETERS = [
    ("integrations/", {"limit": str(10**22)}),
    ("connections/", {"limit": str(10**22), "offset": str(10**22)}),
    ("memberships/", {"offset": str(10**22)}),
    ("log-entries/", {"cursor": _cursor("not-a-moment")}),
    ("runs/", {"limit": "-5"}),
    ("field-mappings/", {"integration": str(HUGE_ID)}),
    ("field-mappings/", {"entity_sync": str(HUGE_ID)}),
    ("entity-syncs/", {"integration": str(HUGE_ID)}),
    ("webhook-toggles/", {"integration": str(HUGE_ID)}),
    ("pos-settings/", {"integration": str(HUGE_ID)}),
    ("pos-registers/", {"pos_settings": str(HUGE_ID)}),
    ("config-changes/", {"integration": str(HUGE_ID)}),
    ("log-entries/", {"integration": str(HUGE_ID)}),
    ("log-entries/", {"integration": "²"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "params"), LIST_PARAMETERS, ids=lambda v: str(v)[:40])
def test_api_lists_take_hostile_parameters_without_a_500(api, world, path, params):
    api.force_authenticate(world.admin)
    response = api.get(_api(world, path), params)
    assert response.status_code in (200, 400, 404), response.content[:300]


@pytest.mark.django_db
def test_a_huge_limit_is_clamped_to_the_largest_page(api, world, settings):
    from tests.factories import ConnectionFactory

    for n in range(3):
        ConnectionFactory(tenant=world.tenant, name=f"Extra {n}")
    api.force_authenticate(world.admin)
    response = api.get(_api(world, "connections/"), {"limit": str(10**22)})
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == body["count"] >= 4


@pytest.mark.parametrize(("given", "expected"), [(str(10**22), 200), ("201", 200), ("20", 20), ("-5", 50)])
def test_the_page_size_is_clamped(given, expected):
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from tenants.pagination import TenantPages

    request = Request(APIRequestFactory().get("/", {"limit": given}))
    assert TenantPages().get_limit(request) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("params", [{"until": "9999-12-31"}, {"since": "0001-01-01"}, {"since": "1800-02-01"}],
                         ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
def test_dates_outside_the_databases_range_are_a_form_error(client, api, world, params):
    client.force_login(world.admin)
    screen = client.get(reverse("log-list", args=[world.tenant.slug]), params)
    assert screen.status_code == 200
    assert "Give a date between" in screen.content.decode()

    api.force_authenticate(world.admin)
    listed = api.get(_api(world, "log-entries/"), params)
    assert listed.status_code == 400
    assert "Give a date between" in str(listed.json())

    replay = api.post(_api(world, "log-entries/replay/"), params, format="json")
    assert replay.status_code == 400


@pytest.mark.django_db
def test_dates_inside_the_range_still_filter(api, world, log):
    entry = log()
    api.force_authenticate(world.admin)
    listed = api.get(_api(world, "log-entries/"), {"since": "1900-01-01", "until": "9998-12-31"})
    assert listed.status_code == 200
    assert entry.pk in [row["id"] for row in listed.json()["results"]]


@pytest.mark.django_db
@pytest.mark.parametrize("params", [
    {"after_at": "2020-13-45T99:00", "after_id": "5"},
    {"after_at": "0001-01-01T00:00", "after_id": "5"},
    {"after_at": "9999-12-31T23:59:59", "after_id": "5"},
    {"after_at": "2020-01-01T00:00", "after_id": str(HUGE_ID)},
    {"after_at": "2020-01-01T00:00", "after_id": "²"},
], ids=lambda p: f"{p['after_at']}/{p['after_id'][:8]}")
def test_a_malformed_log_position_shows_the_first_page(client, world, log, params):
    entry = log()
    client.force_login(world.admin)
    response = client.get(reverse("log-list", args=[world.tenant.slug]), params)
    assert response.status_code == 200
    assert f"/log/{entry.pk}/" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["²", str(HUGE_ID)])
def test_the_conflicts_filter_takes_odd_integration_ids(client, world, value):
    client.force_login(world.admin)
    response = client.get(reverse("conflict-list", args=[world.tenant.slug]), {"integration": value})
    assert response.status_code == 404
