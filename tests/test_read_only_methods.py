"""The screens answer only the methods they take: a PUT, PATCH or DELETE to a page is 405, never a page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.test_tenant_isolation import fill, tenant_routes

SCREEN_ROUTES = [r for r in tenant_routes() if not r.name.startswith("api-")]


@pytest.mark.django_db
@pytest.mark.parametrize("route", SCREEN_ROUTES, ids=lambda r: r.name)
def test_screens_refuse_methods_they_do_not_take(client, world, route):
    client.force_login(world.admin)
    url = reverse(route.name, kwargs=fill(route, world.rows, world.tenant.slug))
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(url)
        assert response.status_code == 405, f"{method.upper()} {url} answered {response.status_code}"


@pytest.mark.django_db
def test_a_read_only_screen_still_reads(client, world):
    client.force_login(world.support)
    assert client.get(reverse("log-list", args=[world.tenant.slug])).status_code == 200
    assert client.head(reverse("log-list", args=[world.tenant.slug])).status_code == 200
