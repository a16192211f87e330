"""Customers 1st (formerly ServicePOS): the POS whose sales go to Uniconta."""

from ..base import CredentialField, SystemKind, SystemProvider
from .catalog import PAYMENT_ARTICLE_FIELDS, build_catalog
from .client import Customers1stClient
from .sandbox import DEMO_SIGNING_SECRET, DEMO_TOKEN, Customers1stSandbox
from .webhooks import SUBSCRIBED_EVENTS, parse_webhook, register_webhooks, unregister_webhooks

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
    # A bucket of 80 requests refilling 8 per second: 80 per 10 s sustained, bursts of 80.
    rate_limit=(80, 10.0),
    # docs/vendors/customers1st.md "Hosts and error bodies".
    allowed_hosts=("api.c1st.com", "app.deltateq.com"),
    error_keys=("message", "error", "errorcode", "errors"),
    bare_error_text=True,
    docs="https://api-docs.c1st.com/",
    client_class=Customers1stClient,
    catalog_factory=build_catalog,
    webhook_parser=parse_webhook,
    webhook_registrar=register_webhooks,
    sandbox_factory=Customers1stSandbox,
    extras={
        "demo_credentials": {"api_token": DEMO_TOKEN, "signing_secret": DEMO_SIGNING_SECRET},
        "webhook_events": SUBSCRIBED_EVENTS,
        # ``webhook_unregistrar(client, url, entities=None)`` unsubscribes the REST hooks calling Synkro's URL.
        "webhook_unregistrar": unregister_webhooks,
        "pos_sale_line_fields": PAYMENT_ARTICLE_FIELDS,
        # updated_at carries no offset: the store's local time (docs/vendors/customers1st.md).
        "timestamp_zone": "Europe/Copenhagen",
    },
)
