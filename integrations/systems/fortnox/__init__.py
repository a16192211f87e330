"""Fortnox: Swedish ERP. No REST webhooks: it is polled."""

from ..base import CredentialField, SystemKind, SystemProvider

provider = SystemProvider(
    key="fortnox",
    name="Fortnox",
    kind=SystemKind.ERP,
    default_base_url="https://api.fortnox.se/3",
    credential_fields=(
        CredentialField("client_id", "Client ID", secret=False),
        CredentialField("client_secret", "Client secret"),
        CredentialField("refresh_token", "Refresh token", help="From the OAuth2 authorisation of the app"),
    ),
    has_webhooks=False,
    rate_limit=(25, 5.0),
)
