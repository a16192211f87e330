"""Configuration has bounded sizes and known fields, on the screens and through the API alike."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from integrations.systems.catalog import Entity, EntitySpec, FieldSpec, FieldType
from mappings.models import EntitySync, FieldMapping
from mappings.validation import (
    MAX_TRIGGER_VALUES,
    MAX_VALUE_MAP_ENTRIES,
    MAX_VALUE_MAP_TEXT,
    EntityConfig,
    MappingRow,
    Side,
    validate_entity_config,
)

pytestmark = pytest.mark.django_db


def _base(world) -> str:
    return f"/api/v1/t/{world.tenant.slug}"


def _sync(world, entity: str) -> EntitySync:
    return world.integration.entity_syncs.get(entity=entity)


def test_a_huge_trigger_list_is_refused_through_the_api(api, world):
    sync = _sync(world, "organisation")
    api.force_authenticate(world.admin)
    response = api.patch(f"{_base(world)}/entity-syncs/{sync.pk}/",
                         {"trigger_field": "type", "trigger_values": ["Kunde"] * 200_000}, format="json")
    assert response.status_code == 400
    assert "trigger_values" in response.json()
    sync.refresh_from_db()
    assert len(sync.trigger_values) <= MAX_TRIGGER_VALUES


def test_a_value_map_with_a_huge_key_or_too_many_pairs_is_refused(api, world):
    sync = _sync(world, "organisation")
    api.force_authenticate(world.admin)
    before = FieldMapping.objects.filter(entity_sync=sync).count()
    url = f"{_base(world)}/field-mappings/"
    row = {"entity_sync": sync.pk, "erp_field": "xSegment", "crm_field": "OrganisationExtraCustom7"}
    huge_key = api.post(url, {**row, "value_map": {"k" * 1_000_000: "A"}}, format="json")
    assert huge_key.status_code == 400, huge_key.content[:200]
    assert "value_map" in huge_key.json()
    many = api.post(url, {**row, "value_map": {f"v{n}": "A" for n in range(100_000)}}, format="json")
    assert many.status_code == 400, many.content[:200]
    assert "value_map" in many.json()
    assert FieldMapping.objects.filter(entity_sync=sync).count() == before
    fine = api.post(url, {**row, "value_map": {"Guld": "A", "Sølv": "B"}}, format="json")
    assert fine.status_code == 201, fine.content[:300]


def test_an_unknown_relevant_flag_is_refused(api, world):
    sync = _sync(world, "person")
    api.force_authenticate(world.admin)
    url = f"{_base(world)}/entity-syncs/{sync.pk}/"
    response = api.patch(url, {"relevant_flag_field": "PersonNoSuchFlag"}, format="json")
    assert response.status_code == 400
    assert "relevant_flag_field" in response.json()
    assert EntitySync.objects.get(pk=sync.pk).relevant_flag_field != "PersonNoSuchFlag"
    not_a_flag = api.patch(url, {"relevant_flag_field": "PersonEmail"}, format="json")
    assert not_a_flag.status_code == 400
    assert api.patch(url, {"relevant_flag_field": "PersonCheckMark2"}, format="json").status_code == 200
    assert api.patch(url, {"relevant_flag_field": ""}, format="json").status_code == 200


def test_a_huge_credential_or_body_is_refused_with_413(api, world):
    api.force_authenticate(world.admin)
    url = f"{_base(world)}/connections/{world.connection.pk}/"
    response = api.patch(url, {"credentials": {"api_key": "k" * 3_000_000}}, format="json")
    assert response.status_code == 413
    world.connection.refresh_from_db()
    assert len(world.connection.credentials["api_key"]) < 1000
    body = json.dumps({"name": "x" * 30_000_000})
    response = api.generic("PATCH", url, body, content_type="application/json")
    assert response.status_code == 413


def test_an_over_long_credential_is_refused_on_the_api_and_the_screen(api, client, world):
    from integrations.systems.base import CREDENTIAL_MAX_LENGTH

    api.force_authenticate(world.admin)
    url = f"{_base(world)}/connections/{world.connection.pk}/"
    before = dict(world.connection.credentials)
    response = api.patch(url, {"credentials": {"api_key": "k" * (CREDENTIAL_MAX_LENGTH + 1)}}, format="json")
    assert response.status_code == 400 and "credentials" in response.json()
    world.connection.refresh_from_db()
    assert world.connection.credentials == before
    assert api.patch(url, {"credentials": {"api_key": "k" * 64}}, format="json").status_code == 200

    client.force_login(world.admin)
    page = client.post(reverse("connection-edit", args=[world.tenant.slug, world.connection.pk]),
                       {"name": world.connection.name, "system": world.connection.system,
                        "base_url": world.connection.base_url,
                        "credential_api_key": "k" * (CREDENTIAL_MAX_LENGTH + 1)})
    assert page.status_code == 200 and page.context["form"].errors  # shown again with the error, nothing saved


def test_an_ordinary_body_still_passes(api, world):
    api.force_authenticate(world.admin)
    url = f"{_base(world)}/connections/{world.connection.pk}/"
    response = api.patch(url, {"name": "webCRM (sales)"}, format="json")
    assert response.status_code == 200, response.content
    response = api.patch(url, "name=webCRM+(north)", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.content


def test_the_screens_share_the_limits(client, world):
    sync = _sync(world, "organisation")
    client.force_login(world.admin)
    url = reverse("entity-settings", args=[world.tenant.slug, world.integration.pk, "organisation"])
    values = ", ".join(f"Type {n}" for n in range(MAX_TRIGGER_VALUES + 1))
    response = client.post(url, {"direction": sync.direction, "trigger_field": "type", "trigger_values": values,
                                 "number_authority": sync.number_authority, "conflict_owner": sync.conflict_owner})
    assert f"Give at most {MAX_TRIGGER_VALUES} trigger values" in response.content.decode()
    assert len(EntitySync.objects.get(pk=sync.pk).trigger_values) <= MAX_TRIGGER_VALUES

    add = reverse("mapping-add", args=[world.tenant.slug, world.integration.pk, "organisation"])
    before = FieldMapping.objects.filter(entity_sync=sync).count()
    pairs = "; ".join(f"v{n} = A" for n in range(MAX_VALUE_MAP_ENTRIES + 1))
    response = client.post(add, {"erp_user_field": "xSegment", "crm_field": "OrganisationExtraCustom7",
                                 "value_map": pairs})
    assert f"at most {MAX_VALUE_MAP_ENTRIES} pairs" in response.content.decode()
    assert FieldMapping.objects.filter(entity_sync=sync).count() == before


PERSONS = EntitySpec(Entity.PERSON, "Persons", "PersonId", (
    FieldSpec("PersonEmail", type=FieldType.EMAIL), FieldSpec("PersonCheckMark1", type=FieldType.BOOLEAN)))


@pytest.mark.parametrize(("config", "rows", "field"), [
    (EntityConfig(direction="two_way", relevant_flag_field="PersonEmail"), [], "relevant_flag_field"),
    (EntityConfig(direction="two_way", relevant_flag_field="Nope"), [], "relevant_flag_field"),
    (EntityConfig(direction="two_way", accepted_order_types=["SO"] * 21), [], "accepted_order_types"),
    (EntityConfig(direction="two_way", trigger_field="type", trigger_values=["x" * 101]), [], "trigger_values"),
    (EntityConfig(direction="two_way"), [MappingRow("Email", "PersonEmail",
                                                    value_map={"a": "b" * (MAX_VALUE_MAP_TEXT + 1)})], "value_map"),
], ids=["not-a-check-mark", "unknown-flag", "order-types", "long-trigger", "long-map-value"])
def test_the_shared_rule_names_each_limit(config, rows, field):
    side = Side("webCRM", PERSONS)
    problems = validate_entity_config(entity_label="persons", config=config, rows=rows, crm=side,
                                      erp=Side("Uniconta", None))
    assert field in {p.field for p in problems}


def test_the_shared_rule_accepts_a_check_mark():
    side = Side("webCRM", PERSONS)
    config = EntityConfig(direction="two_way", relevant_flag_field="PersonCheckMark1")
    assert validate_entity_config(entity_label="persons", config=config, rows=[], crm=side,
                                  erp=Side("Uniconta", None)) == []
