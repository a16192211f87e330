"""Every system pair starts with a configuration that the real field catalogs accept as it is."""

from __future__ import annotations

import pytest

from integrations.models import Connection, Integration
from mappings.defaults import PAIR_ROWS, integration_setup_defaults
from mappings.models import FieldMapping
from mappings.services import entity_problems
from tests.factories import TenantFactory

PAIRS = sorted(PAIR_ROWS)


@pytest.mark.django_db
@pytest.mark.parametrize(("front", "erp"), PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_defaults_name_real_fields_and_pass_validation(front, erp):
    tenant = TenantFactory()
    front_connection = Connection.objects.create(tenant=tenant, system=front, name=front, credentials={"x": "y"})
    erp_connection = Connection.objects.create(tenant=tenant, system=erp, name=erp, credentials={"x": "y"})
    integration = Integration.objects.create(tenant=tenant, name="pair", crm_connection=front_connection,
                                             erp_connection=erp_connection)
    integration_setup_defaults(integration=integration)

    for entity, rows in PAIR_ROWS[(front, erp)].items():
        entity_sync = integration.entity_syncs.get(entity=entity)
        stored = set(FieldMapping.objects.filter(entity_sync=entity_sync).values_list("erp_field", "crm_field"))
        dropped = {(erp_field, crm_field) for erp_field, crm_field, _, _ in rows} - stored
        assert not dropped, f"{entity}: default rows name fields the catalogs do not know: {sorted(dropped)}"
    for entity_sync in integration.entity_syncs.all():
        problems = [p.message for p in entity_problems(entity_sync=entity_sync)]
        assert not problems, f"{entity_sync.entity}: {problems}"
