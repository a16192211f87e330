"""A record's link is found through an index on both databases, not by reading every link of the integration."""

from __future__ import annotations

import pytest
from django.db import connection

from integrations.models import SyncLink

pytestmark = pytest.mark.django_db

LOOKUPS = {
    "link_crm_record": {"entity__in": ("organisation",), "crm_id": "42"},  # matching.link_for
    "link_erp_record": {"entity": "organisation", "erp_id": "D42"},
}


@pytest.mark.parametrize("index, lookup", LOOKUPS.items())
def test_a_link_is_looked_up_through_its_record_index(world, index, lookup):
    constraints = connection.introspection.get_constraints(connection.cursor(), SyncLink._meta.db_table)
    assert index in constraints and constraints[index]["index"]
    if connection.vendor != "sqlite":
        return  # PostgreSQL already used the partial unique indexes; its planner reads a tiny table whole
    sql, params = SyncLink.objects.filter(integration=world.integration, **lookup).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert f"USING INDEX {index}" in plan, plan
