"""Visma.net ERP."""

from ..base import CredentialField, SystemKind, SystemProvider
from .catalog import vismanet_catalog
from .client import VISMA_CONNECT_TOKEN_URL, VismaNetClient
from .sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, RATE_LIMIT, VismaNetSandbox
from .webhooks import INSTRUCTIONS, parse_webhook, register_webhooks, unregister_webhooks

provider = SystemProvider(
    key="vismanet",
    name="Visma.net",
    kind=SystemKind.ERP,
    default_base_url="https://api.finance.visma.net",
    credential_fields=(
        CredentialField("client_id", "Client ID", secret=False,
                        help="The Visma Connect client of the application (Visma Developer Portal)"),
        CredentialField("client_secret", "Client secret"),
        CredentialField("tenant_id", "Tenant ID", secret=False,
                        help="The Visma.net company's tenant id (Visma Admin → Company → Configuration)"),
        CredentialField("signing_secret", "Webhook signature key", required=False,
                        help="Visma Developer Portal → your application → Webhooks: the subscription's signature "
                             "key; every notice is checked against it (x-vwd-signature-v1)"),
    ),
    has_webhooks=True,
    signs_webhooks=True,
    rate_limit=RATE_LIMIT,
    # docs/vendors/vismanet.md "Hosts and error bodies"; the token host comes from extras["token_url"].
    allowed_hosts=("api.finance.visma.net",),
    # ... and the Sales Order service's ProblemDetails (title, detail): docs/vendors/vismanet.md "Sales Order service".
    error_keys=("ExceptionType", "ExceptionMessage", "Message", "message", "error", "title", "detail"),
    docs="docs/vendors/vismanet.md",
    client_class=VismaNetClient,
    catalog_factory=vismanet_catalog,
    webhook_parser=parse_webhook,
    webhook_registrar=register_webhooks,
    webhook_instructions=INSTRUCTIONS,
    sandbox_factory=VismaNetSandbox,
    extras={
        "demo_credentials": {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET,
                             "tenant_id": DEMO_TENANT_ID},
        "token_url": VISMA_CONNECT_TOKEN_URL,
        "api_prefix": VismaNetClient.api_prefix,
        # ``webhook_unregistrar(client, url, entities=None)``: the sandbox's subscriptions; Visma itself: the portal.
        "webhook_unregistrar": unregister_webhooks,
    },
)
