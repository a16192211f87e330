"""Every tenant URL, walked from the URL conf: another tenant's member gets 404, always.

A new view or endpoint under /t/<slug>/ or /api/v1/t/<slug>/ is picked up automatically. If it
takes an object id this walker does not know how to fill, the suite fails until a filler is added
below — so no endpoint ships without this check. URLs outside a tenant must be listed in
``NOT_TENANT_SCOPED`` with a reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

# URL names that are not inside a tenant, and why that is safe.
NOT_TENANT_SCOPED = {
    "tenant-picker": "lists only the caller's own tenants",
    "login": "public",
    "logout": "public",
    "webhook-receive": "the integration's secret token names the tenant; a wrong token is 404 (test_webhook_endpoint)",
    "fortnox-connect-return": "the state in the caller's own session names tenant and connection; membership and "
                              "role are checked again (tests/integrations/test_connect_fortnox.py)",
    "api-root": "index of links",
    "api-tenant-list": "lists only the caller's own tenants (tested below)",
    "api-tenant-detail": "looked up among the caller's own tenants (tested below)",
    "api-schema": "the API description, no tenant data",
    "api-docs": "the API description, no tenant data",
}
NOT_TENANT_SCOPED_PREFIXES = ("admin/",)  # Django admin: staff only, tenant-scoped querysets (tests/test_admin.py)


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    kwargs: frozenset[str]


def walk(patterns, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            kwargs = set(entry.pattern.regex.groupindex) | set(getattr(entry.pattern, "converters", {}))
            resolver_kwargs = _prefix_kwargs(prefix)
            if entry.name:
                yield Route(f"{namespace}{entry.name}", pattern, frozenset(kwargs | resolver_kwargs))


def _prefix_kwargs(prefix: str) -> set[str]:
    return {"tenant_slug"} if "<slug:tenant_slug>" in prefix else set()


def all_routes() -> list[Route]:
    seen: dict[tuple[str, frozenset[str]], Route] = {}
    for route in walk(get_resolver().url_patterns):
        if "format" in route.kwargs:
            continue  # DRF's ".json" twins of the same views
        seen[(route.name, route.kwargs)] = route
    return sorted(seen.values(), key=lambda r: r.name)


def tenant_routes() -> list[Route]:
    return [r for r in all_routes() if "tenant_slug" in r.kwargs]


def _possible_match(rows: SimpleNamespace) -> object:
    """The tenant's one possible match, made on first use."""
    from integrations.models import PossibleMatch

    match, _ = PossibleMatch.objects.get_or_create(
        tenant=rows.tenant, integration=rows.integration, entity="organisation", source_role="crm", source_id="305",
        defaults={"source_label": "Sjöviks VVS AB", "candidates": [{"id": "1001", "label": "Sjöviks VVS"}]})
    return match


# How to fill each URL argument with a row of the tenant being asked for. Keyed by kwarg (and for DRF
# detail routes, by the viewset's basename).
Filler = Callable[[SimpleNamespace], object]
FILLERS: dict[str, Filler] = {
    "connection_id": lambda r: r.connection.pk,
    "integration_id": lambda r: r.integration.pk,
    "entity": lambda r: "organisation",
    "mapping_id": lambda r: r.mapping.pk,
    "toggle_id": lambda r: r.toggle.pk,
    "register_id": lambda r: r.register.pk,
    "entry_id": lambda r: r.log_entry.pk,
    "run_id": lambda r: r.run.pk,
    "event_id": lambda r: r.dead_letter.pk,
    "match_id": lambda r: _possible_match(r).pk,
}
# Routes whose integration must be the POS one for the other arguments to belong to it.
POS_ROUTES = {"pos-settings", "pos-register-create", "pos-register-delete"}
API_PK_FILLERS: dict[str, Filler] = {
    "api-connection": lambda r: r.connection.pk,
    "api-integration": lambda r: r.integration.pk,
    "api-membership": lambda r: r.membership.pk,
    "api-entity-sync": lambda r: r.integration.entity_syncs.first().pk,
    "api-field-mapping": lambda r: r.mapping.pk,
    "api-webhook-toggle": lambda r: r.toggle.pk,
    "api-pos-settings": lambda r: r.pos_integration.pos_settings.pk,
    "api-pos-register": lambda r: r.register.pk,
    "api-config-change": lambda r: r.integration.config_changes.first().pk,
    "api-log-entry": lambda r: r.log_entry.pk,
    "api-run": lambda r: r.run.pk,
    "api-conflict": lambda r: r.conflict.pk,
    "api-dead-letter": lambda r: r.dead_letter.pk,
    "api-possible-match": lambda r: _possible_match(r).pk,
}


def fill(route: Route, rows: SimpleNamespace, tenant_slug: str) -> dict[str, object]:
    """URL arguments for ``route`` inside ``tenant_slug``, naming the rows in ``rows``."""
    values: dict[str, object] = {"tenant_slug": tenant_slug}
    for kwarg in route.kwargs - {"tenant_slug"}:
        if kwarg == "pk":
            basename = route.name.rsplit("-", 1)[0]
            assert basename in API_PK_FILLERS, f"{route.name}: add an API_PK_FILLERS entry for {basename}"
            values["pk"] = API_PK_FILLERS[basename](rows)
        else:
            assert kwarg in FILLERS, f"{route.name} ({route.pattern}): add a FILLERS entry for <{kwarg}>"
            values[kwarg] = FILLERS[kwarg](rows)
    if route.name in POS_ROUTES:
        values["integration_id"] = rows.pos_integration.pk
    return values


def test_every_route_is_either_tenant_scoped_or_explained():
    unexplained = [
        f"{r.name} ({r.pattern})" for r in all_routes()
        if "tenant_slug" not in r.kwargs and r.name not in NOT_TENANT_SCOPED
        and not r.pattern.startswith(NOT_TENANT_SCOPED_PREFIXES)
    ]
    assert not unexplained, f"URLs outside a tenant without a reason: {unexplained}"


def test_the_walker_sees_the_tenant_routes():
    names = {r.name for r in tenant_routes()}
    assert {"tenant-home", "connection-edit", "api-connection-detail", "api-connection-test"} <= names
    assert {"log-list", "log-detail", "log-entry-replay", "log-replay-matching", "dead-letter-list",
            "dead-letter-replay", "dead-letters-replay-all", "run-list", "run-row", "run-start", "conflict-list",
            "queue", "webhook-health", "webhook-register", "api-log-entry-list", "api-log-entry-detail",
            "api-log-entry-replay", "api-log-entry-replay-matching", "api-run-list", "api-run-detail",
            "api-conflict-list", "api-conflict-detail", "api-dead-letter-list", "api-dead-letter-detail",
            "api-dead-letter-replay"} <= names


METHODS = ("get", "post", "put", "patch", "delete")


@pytest.mark.django_db
@pytest.mark.parametrize("route", tenant_routes(), ids=lambda r: r.name)
def test_member_of_another_tenant_gets_404(client, world, route):
    """The outsider is an admin elsewhere; here every method on every tenant URL is a 404."""
    client.force_login(world.outsider)
    url = reverse(route.name, kwargs=fill(route, world.rows, world.tenant.slug))
    for method in METHODS:
        response = getattr(client, method)(url, content_type="application/json") if method != "get" \
            else client.get(url)
        assert response.status_code == 404, f"{method.upper()} {url} answered {response.status_code}"


@pytest.mark.django_db
@pytest.mark.parametrize("route", [r for r in tenant_routes() if r.kwargs - {"tenant_slug"}],
                         ids=lambda r: r.name)
def test_rows_of_another_tenant_are_404_inside_ones_own(client, world, route):
    """An admin of the other tenant asks, inside their own tenant, for this tenant's rows by id."""
    client.force_login(world.outsider)
    url = reverse(route.name, kwargs=fill(route, world.rows, world.other_tenant.slug))
    for method in METHODS:
        response = getattr(client, method)(url, content_type="application/json") if method != "get" \
            else client.get(url)
        # 405 (a method the view never takes) says nothing about the row; anything else must be 404.
        assert response.status_code in (404, 405), f"{method.upper()} {url} answered {response.status_code}"


@pytest.mark.django_db
def test_api_tenant_list_and_detail_show_only_own_tenants(api, world):
    api.force_authenticate(world.outsider)
    slugs = [t["slug"] for t in api.get("/api/v1/tenants/").json()["results"]]
    assert slugs == [world.other_tenant.slug]
    assert api.get(f"/api/v1/tenants/{world.tenant.slug}/").status_code == 404
    assert api.get(f"/api/v1/tenants/{world.other_tenant.slug}/").status_code == 200
