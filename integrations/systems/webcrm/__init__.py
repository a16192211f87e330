"""webCRM: the CRM side of most integrations."""

from ..base import CredentialField, SystemKind, SystemProvider
from .catalog import webcrm_catalog
from .client import WebcrmClient
from .sandbox import DEMO_API_KEY, WebcrmSandbox
from .webhooks import parse_webhook, register_webhooks, unregister_webhooks

provider = SystemProvider(
    key="webcrm",
    name="webCRM",
    kind=SystemKind.CRM,
    default_base_url="https://api.webcrm.com",
    credential_fields=(
        CredentialField("api_key", "API key (authCode)",
                        help="webCRM → Configuration → Integration → API → REST: an application token"),
    ),
    has_webhooks=True,
    signs_webhooks=False,
    rate_limit=(250, 60.0),
    # docs/vendors/webcrm.md "Hosts and error bodies".
    allowed_hosts=("api.webcrm.com",),
    error_keys=("Message", "ErrorDescription", "Error", "errors", "title", "message"),
    bare_error_text=True,
    docs="https://api.webcrm.com",
    client_class=WebcrmClient,
    catalog_factory=webcrm_catalog,
    webhook_parser=parse_webhook,
    webhook_registrar=register_webhooks,
    sandbox_factory=WebcrmSandbox,
    # ``webhook_unregistrar(client, url, entities=None)`` removes every hook of Synkro's URL.
    extras={"demo_credentials": {"api_key": DEMO_API_KEY}, "webhook_unregistrar": unregister_webhooks},
)
