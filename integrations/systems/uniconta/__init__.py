"""Uniconta: ERP (debtors, items, orders, invoices, employees) and the books behind the POS."""

from ..base import CredentialField, SystemKind, SystemProvider
from .catalog import uniconta_catalog
from .client import UnicontaClient
from .sandbox import build_sandbox
from .webhooks import parse_change_notification, register_webhooks, unregister_webhooks

provider = SystemProvider(
    key="uniconta",
    name="Uniconta",
    kind=SystemKind.ERP,
    default_base_url="https://odata.uniconta.com",
    credential_fields=(
        CredentialField("company_id", "Company ID", secret=False, help="The number of the company in Uniconta"),
        CredentialField("username", "API user login", secret=False,
                        help="Synkro logs in as 00<Company ID>/<login>"),
        CredentialField("password", "API user password"),
    ),
    has_webhooks=True,
    signs_webhooks=False,
    # Uniconta publishes no limit for its REST face; this keeps Synkro well clear of any the service keeps.
    rate_limit=(600, 60.0),
    # docs/vendors/uniconta.md "Hosts and error bodies".
    allowed_hosts=("odata.uniconta.com",),
    error_keys=("Message", "ErrorCode", "odata.error", "error"),
    bare_error_text=True,
    docs="docs/vendors/uniconta.md",
    client_class=UnicontaClient,
    catalog_factory=uniconta_catalog,
    webhook_parser=parse_change_notification,
    webhook_registrar=register_webhooks,
    sandbox_factory=build_sandbox,
    extras={
        # ``webhook_unregistrar(client, url, entities=None)`` deletes the Change URL rows calling Synkro's URL.
        "webhook_unregistrar": unregister_webhooks,
        "pos_ledger": True,
        "demo_credentials": {"company_id": "1234", "username": "synkro", "password": "demo-password"},
    },
)
