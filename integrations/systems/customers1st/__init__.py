"""Customers 1st (formerly ServicePOS): the POS whose sales go to Uniconta."""

from ..base import CredentialField, SystemKind, SystemProvider

provider = SystemProvider(
    key="customers1st",
    name="Customers 1st",
    kind=SystemKind.POS,
    default_base_url="https://api.c1st.com/api",
    credential_fields=(
        CredentialField("api_token", "API token", help="Customers 1st → Settings → API → API users"),
        CredentialField("signing_secret", "Webhook signing secret", required=False,
                        help="Settings → API; used to verify X-C1st-Webhook-Signature"),
    ),
    has_webhooks=True,
    signs_webhooks=True,
    rate_limit=(80, 10.0),
)
