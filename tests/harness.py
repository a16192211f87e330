"""End-to-end harness: Synkro and the vendors' sandboxes talking real HTTP in-process.

The sandboxes are mounted under their own base URLs and Synkro's WSGI app under ``SYNKRO_URL``, so a
sandbox's webhook reaches Synkro's webhook view exactly as it would over the network. Workers are
replaced by ``drain()``, which processes due events in this thread until the queue is empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from integrations.engine import process
from integrations.models import Connection, EventState, InboundEvent, Integration
from integrations.systems.catalog import Entity
from integrations.systems.registry import get_system
from mappings.defaults import integration_setup_defaults
from tenants.models import Role
from tests.factories import MembershipFactory, TenantFactory

SYNKRO_URL = "http://synkro.test"
BASES = {"webcrm": "https://webcrm.test", "uniconta": "https://uniconta.test", "fortnox": "https://fortnox.test",
         "vismanet": "https://vismanet.test", "customers1st": "https://c1st.test"}


def demo_credentials(system: str) -> dict[str, str]:
    return get_system(system).demo_credentials


@dataclass
class Pair:
    integration: Integration
    crm: Any
    erp: Any
    crm_client: Any
    erp_client: Any

    def sync(self, entity: str):
        return self.integration.entity_syncs.get(entity=entity)

    def webcrm_hooks(self, *resources: str, events: tuple[str, ...] = ("Create", "Update")) -> None:
        """Point webCRM's hooks of ``resources`` (``"Organisations"``, …) at Synkro, as its admin screen would."""
        from integrations.systems.webcrm.webhooks import HOOK_RESOURCES, hook_target

        entity_of = {path: entity for entity, (path, _) in HOOK_RESOURCES.items()}
        for resource in resources:
            for event_type in events:  # one hook per event, naming it in the URL, as Synkro's registration makes
                target = hook_target(self.integration.webhook_url("webcrm"), entity_of[resource], event_type)
                self.crm_client.request("POST", f"/{resource}/Hooks", json={
                    "Id": 0, "TargetUrl": target, "EventType": event_type, "Filter": ["All"], "IsEnabled": True})


def make_pair(front: str, erp: str, sandboxes: dict[str, Any]) -> Pair:
    tenant = TenantFactory(name="Nordlys Handel A/S", slug=f"nordlys-{front}-{erp}")
    MembershipFactory(tenant=tenant, role=Role.ADMIN)
    connections = {
        key: Connection.objects.create(tenant=tenant, system=key, name=get_system(key).name, base_url=BASES[key],
                                       credentials=demo_credentials(key))
        for key in (front, erp)
    }
    integration = Integration.objects.create(tenant=tenant, name=f"{front} ↔ {erp}", crm_connection=connections[front],
                                             erp_connection=connections[erp])
    integration_setup_defaults(integration=integration)
    clients = {key: c.client(sleep=lambda s: None) for key, c in connections.items()}
    return Pair(integration, sandboxes[front], sandboxes[erp], clients[front], clients[erp])


#: Client options for tests: no real sleeping, no shared rate limiter (the sandboxes run without limits).
QUIET = {"sleep": lambda s: None, "rate_limiter": None}


def drain(*, rounds: int = 30) -> list:
    """Process every due event, again and again, until none is left (our own echoes included)."""
    outcomes = []
    for _ in range(rounds):
        due = process.events_due()
        if not due:
            return outcomes
        for event_id in due:
            outcomes.append(process.event_process(event_id=event_id, client_options=QUIET))
    left = InboundEvent.objects.filter(state=EventState.PENDING).values_list("entity", "external_id")
    raise AssertionError(f"the queue did not empty: {list(left)}")


def organisation(**values: Any) -> dict[str, Any]:
    return {"OrganisationName": "Havbrise Byg ApS", "OrganisationType": "Kunde", "OrganisationAddress": "Havnevej 3",
            "OrganisationPostCode": "8000", "OrganisationCity": "Aarhus C", **values}


ORG = Entity.ORGANISATION
