"""Create (or bring up to date) the demo tenant: one user per role, and connections to the sandboxes.

Safe to run any number of times: nothing is duplicated, and passwords are reset to the demo one. The first run
(the one that creates the demo tenant) also queues the initial imports of the running integrations, so the
dashboard, the runs and the sync log show work from the first minute; later runs queue nothing.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from integrations.demo_imports import demo_first_imports_queue
from integrations.models import Connection, Integration
from integrations.services import integration_activate
from integrations.systems.base import SystemKind
from integrations.systems.registry import all_systems
from mappings.defaults import integration_setup_defaults
from mappings.models import PosRegister
from tenants.models import Membership, Role, Tenant

DEMO_PASSWORD = "synkro-demo"  # noqa: S105 - printed on purpose; demo tenants only
DEMO_USERS = [("demo-admin", Role.ADMIN), ("demo-customer", Role.CUSTOMER), ("demo-support", Role.SUPPORT)]
DEMO_TENANT = ("demo", "Nordlys Handel A/S (demo)")
#: A second, empty tenant that earlier versions of the demo made; removed while nobody has put anything in it.
FORMER_SECOND_TENANT = "demo-sverige"


class Command(BaseCommand):
    help = "Create the demo tenant, its users and its sandbox connections (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default=settings.PUBLIC_BASE_URL,
                            help="Where this Synkro answers; sandboxes are under <base-url>/sandbox/<system>")

    @transaction.atomic
    def handle(self, *args, base_url: str, **options):
        slug, name = DEMO_TENANT
        tenant, first_start = Tenant.objects.get_or_create(slug=slug, defaults={"name": name})
        if tenant.name != name:
            tenant.name = name
            tenant.save(update_fields=["name"])
        self._former_second_tenant_remove()
        User = get_user_model()
        for username, role in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
            user.set_password(DEMO_PASSWORD)
            user.save()
            Membership.objects.update_or_create(user=user, tenant=tenant, defaults={"role": role})

        connections = self._sandbox_connections(tenant, base_url.rstrip("/"))
        self._integrations(tenant, connections)
        if first_start:
            runs = demo_first_imports_queue(tenant=tenant)
            self.stdout.write(f"  Queued {len(runs)} initial imports; watch them under Runs once Synkro answers.")

        self.stdout.write(self.style.SUCCESS("Demo tenant ready: " + tenant.name))
        self.stdout.write(f"  Log in at {base_url.rstrip('/')}/accounts/login/ with password {DEMO_PASSWORD!r}:")
        for username, role in DEMO_USERS:
            self.stdout.write(f"    {username:<14} {role.label}")

    @staticmethod
    def _former_second_tenant_remove() -> None:
        """Drop the empty second demo tenant of earlier versions, unless someone gave it connections (then it is
        theirs and stays)."""
        former = Tenant.objects.filter(slug=FORMER_SECOND_TENANT).first()
        if former is not None and not Connection.objects.filter(tenant=former).exists():
            former.delete()

    def _sandbox_connections(self, tenant: Tenant, base_url: str) -> dict[str, Connection]:
        connections: dict[str, Connection] = {}
        for provider in all_systems():
            credentials = provider.demo_credentials
            connection, created = Connection.objects.get_or_create(
                tenant=tenant, name=f"{provider.name} (sandbox)",
                defaults={"system": provider.key, "base_url": f"{base_url}/sandbox/{provider.key}",
                          "credentials": credentials},
            )
            if not created:
                connection.base_url = f"{base_url}/sandbox/{provider.key}"
                connection.credentials = credentials
                connection.save(update_fields=["base_url", "credentials", "updated_at"])
            connections[provider.key] = connection
        return connections

    def _integrations(self, tenant: Tenant, connections: dict[str, Connection]) -> None:
        fronts = [c for c in connections.values() if c.provider.kind in (SystemKind.CRM, SystemKind.POS)]
        erps = [c for c in connections.values() if c.provider.kind == SystemKind.ERP]
        for front in fronts:
            for index, erp in enumerate(erps):
                if front.provider.kind == SystemKind.POS and not erp.provider.extras.get("pos_ledger"):
                    continue
                # One webCRM feeds one ERP at a time (their default rows write the same webCRM fields, and a
                # field has one owner): the first ERP's integration runs, the others wait paused until someone
                # switches over. Made paused, then switched on through the service, which records when.
                integration, created = Integration.objects.get_or_create(
                    tenant=tenant, name=f"{front.provider.name} ↔ {erp.provider.name}",
                    defaults={"crm_connection": front, "erp_connection": erp, "active": False},
                )
                integration_setup_defaults(integration=integration)
                if created and (index == 0 or front.provider.kind == SystemKind.POS):
                    integration_activate(integration=integration)
                if front.provider.kind == SystemKind.POS:
                    self._pos_settings(integration)

    @staticmethod
    def _pos_settings(integration: Integration) -> None:
        """The demo shop's books: the accounts, journal and registers of the sandboxes' demo data."""
        settings = integration.pos_settings
        if not settings.default_pos_debtor:
            settings.default_pos_debtor, settings.default_debtor_group = "99999", "Indland"
            settings.default_item_group, settings.pos_journal = "Varer", "POS"
            settings.cash_gl_account, settings.difference_gl_account = "5500", "5590"
            settings.daily_report_time = datetime.time(21, 0)
            settings.save()
        for register_id, name in (("1", "Kasse 1"), ("2", "Kasse 2"), ("3", "Værksted")):
            PosRegister.objects.get_or_create(tenant_id=integration.tenant_id, pos_settings=settings,
                                              register_id=register_id, defaults={"name": name})
