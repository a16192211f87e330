"""Register Synkro's webhook URLs in the external systems of a tenant's integrations (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from integrations.models import Integration
from integrations.services import integration_webhooks_register


class Command(BaseCommand):
    help = "Tell each system of each active integration to call Synkro's webhook URL."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Only this tenant's integrations (slug)")

    def handle(self, *args, tenant: str | None = None, **options):
        integrations = Integration.objects.filter(active=True).select_related("crm_connection", "erp_connection")
        if tenant:
            integrations = integrations.filter(tenant__slug=tenant)
        for integration in integrations:
            for result in integration_webhooks_register(integration=integration):
                style = self.style.SUCCESS if result.ok else self.style.WARNING
                self.stdout.write(style(f"{integration.name}: {result.message}"))
