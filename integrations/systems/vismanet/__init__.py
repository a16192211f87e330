"""Visma.net ERP."""

from ..base import CredentialField, SystemKind, SystemProvider

provider = SystemProvider(
    key="vismanet",
    name="Visma.net",
    kind=SystemKind.ERP,
    default_base_url="https://api.finance.visma.net",
    credential_fields=(
        CredentialField("client_id", "Client ID", secret=False),
        CredentialField("client_secret", "Client secret"),
        CredentialField("tenant_id", "Tenant ID", secret=False, help="The Visma.net company (tenant) id"),
    ),
    has_webhooks=True,
)
