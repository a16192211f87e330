"""Fortnox: Swedish ERP. No REST webhooks: it is polled with ``lastmodified``.

Its WebSocket change events can be fed to :func:`.webhooks.parse_topic_event` (see ``extras``).
"""

from ..base import CredentialField, SystemKind, SystemProvider
from .catalog import fortnox_catalog
from .client import FORTNOX_TOKEN_URL, FortnoxClient
from .sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, FortnoxSandbox
from .webhooks import parse_topic_event

provider = SystemProvider(
    key="fortnox",
    name="Fortnox",
    kind=SystemKind.ERP,
    default_base_url="https://api.fortnox.se/3",
    credential_fields=(
        CredentialField("client_id", "Client ID", secret=False),
        CredentialField("client_secret", "Client secret"),
        CredentialField("refresh_token", "Refresh token", help="From the OAuth2 authorisation of the app; "
                        "Fortnox replaces it on every use and Synkro stores the new one"),
    ),
    has_webhooks=False,
    webhook_instructions=("Fortnox sends no webhooks: Synkro listens to its change stream (manage.py fortnox_listen) "
                          "and also polls it on the schedule you set."),
    rate_limit=(25, 5.0),
    # docs/vendors/fortnox.md "Hosts and error bodies"; the token host comes from extras["token_url"].
    allowed_hosts=("api.fortnox.se",),
    error_keys=("ErrorInformation", "error"),
    docs="docs/vendors/fortnox.md",
    client_class=FortnoxClient,
    catalog_factory=fortnox_catalog,
    sandbox_factory=FortnoxSandbox,
    extras={
        "demo_credentials": {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET,
                             "refresh_token": DEMO_REFRESH_TOKEN},
        "token_url": FORTNOX_TOKEN_URL,
        "websocket_url": "wss://ws.fortnox.se/topics-v1",
        "websocket_topics": ("customers", "articles", "orders", "invoices"),
        "event_parser": parse_topic_event,
        "poll_parameter": "lastmodified",
        # Timestamps carry no offset: Swedish local time (docs/vendors/fortnox.md).
        "timestamp_zone": "Europe/Stockholm",
    },
)
