"""Uniconta: ERP (debtors, items, orders, invoices, employees) and the books behind the POS."""

from ..base import CredentialField, SystemKind, SystemProvider

provider = SystemProvider(
    key="uniconta",
    name="Uniconta",
    kind=SystemKind.ERP,
    default_base_url="https://odata.uniconta.com",
    credential_fields=(
        CredentialField("company_id", "Company ID", secret=False, help="The number of the company in Uniconta"),
        CredentialField("username", "API user login", secret=False),
        CredentialField("password", "API user password"),
    ),
    has_webhooks=True,
    extras={"pos_ledger": True},
)
