"""webCRM: the CRM side of most integrations."""

from ..base import CredentialField, SystemKind, SystemProvider

provider = SystemProvider(
    key="webcrm",
    name="webCRM",
    kind=SystemKind.CRM,
    default_base_url="https://api.webcrm.com",
    credential_fields=(
        CredentialField("api_key", "API key (authCode)", help="webCRM → Settings → API → API keys"),
    ),
    has_webhooks=True,
    rate_limit=(250, 60.0),
)
