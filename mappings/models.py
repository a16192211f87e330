"""What to sync and how, per integration: entity settings, field mappings, webhook toggles, POS settings.

Models hold fields and constraints only. Rules live in ``validation.py``, writes in ``services.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from integrations.models import Integration
from integrations.systems.catalog import Entity
from tenants.models import TenantOwned


class SyncEntity(models.TextChoices):
    """The entities an integration can sync (labels in the vendors' screen words)."""

    ORGANISATION = Entity.ORGANISATION.value, "Organisations / debtors"
    PERSON = Entity.PERSON.value, "Persons / contacts"
    ITEM = Entity.ITEM.value, "Items / articles"
    DELIVERY = Entity.DELIVERY.value, "Deliveries / orders"
    INVOICE = Entity.INVOICE.value, "Invoices"
    USER = Entity.USER.value, "Users / employees"
    POS_SALE = Entity.POS_SALE.value, "POS sales"
    DAILY_REPORT = Entity.DAILY_REPORT.value, "Daily report"


class Direction(models.TextChoices):
    OFF = "off", "Off"
    TO_ERP = "to_erp", "webCRM → ERP"
    TO_CRM = "to_crm", "webCRM ← ERP"
    TWO_WAY = "two_way", "Two way"


class FieldDirection(models.TextChoices):
    """A mapping row may narrow its entity's direction (e.g. read-only ERP fields: ERP → webCRM only)."""

    ENTITY = "", "As the entity"
    TO_ERP = "to_erp", "webCRM → ERP only"
    TO_CRM = "to_crm", "webCRM ← ERP only"


class ConflictOwner(models.TextChoices):
    CRM = "crm", "webCRM wins"
    ERP = "erp", "ERP wins"
    NEWEST = "newest", "Newest change wins"


class Overflow(models.TextChoices):
    """What a mapping row does with a value longer than the field it writes (see ``integrations/engine/limits.py``)."""

    SHORTEN = "shorten", "Shorten at a word boundary (and log it)"
    REFUSE = "refuse", "Refuse: the record waits, nothing written"


class TriggerField(models.TextChoices):
    NONE = "", "No trigger: every organisation"
    TYPE = "type", "Type"
    STATUS = "status", "Status"


class NumberAuthority(models.TextChoices):
    ERP = "erp", "The ERP assigns customer numbers"
    CRM = "crm", "webCRM assigns customer numbers (typed in webCRM, required)"


class DeliveryTarget(models.TextChoices):
    SALES_ORDER = "sales_order", "Sales order"
    INVOICE = "invoice", "Invoice"


class ReconcileInterval(models.IntegerChoices):
    OFF = 0, "Off"
    H3 = 3, "Every 3 hours"
    H6 = 6, "Every 6 hours"
    H12 = 12, "Every 12 hours"
    H24 = 24, "Every 24 hours"


class EntitySync(TenantOwned):
    """How one entity of one integration is synced."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="entity_syncs")
    entity = models.CharField(max_length=30, choices=SyncEntity.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.OFF)
    conflict_owner = models.CharField(
        max_length=10, choices=ConflictOwner.choices, default=ConflictOwner.NEWEST,
        help_text="For two-way sync: who wins when a field changed on both sides. Rows may override it.",
    )
    # Organisations
    trigger_field = models.CharField(max_length=10, choices=TriggerField.choices, blank=True, default="")
    trigger_values = models.JSONField(default=list, blank=True,
                                      help_text="Sync only organisations whose trigger field takes one of these")
    erp_created_type = models.CharField(
        max_length=100, blank=True, help_text="Set type for ERP customers: the Type of organisations made from the ERP"
    )
    type_lock = models.BooleanField(default=False,
                                    help_text="While the debtor exists in the ERP, a Type changed away is set back")
    number_authority = models.CharField(max_length=5, choices=NumberAuthority.choices, default=NumberAuthority.ERP)
    # Persons
    relevant_flag_field = models.CharField(max_length=60, blank=True,
                                           help_text="The webCRM check mark meaning “relevant for ERP”")
    # Deliveries
    delivery_target = models.CharField(max_length=20, choices=DeliveryTarget.choices, blank=True,
                                       default=DeliveryTarget.SALES_ORDER)
    outgoing_order_type = models.CharField(max_length=10, blank=True, default="SO")
    accepted_order_types = models.JSONField(default=list, blank=True)
    # Schedules
    polling_interval_seconds = models.PositiveIntegerField(default=60)
    polling_offset_seconds = models.PositiveIntegerField(default=0)
    reconcile_interval_hours = models.PositiveSmallIntegerField(choices=ReconcileInterval.choices,
                                                                default=ReconcileInterval.H6)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["integration", "entity"]
        constraints = [models.UniqueConstraint(fields=["integration", "entity"], name="one_entity_sync_per_entity")]
        verbose_name = "entity sync"

    def __str__(self) -> str:
        return f"{self.integration} · {self.get_entity_display()}"

    @property
    def enabled(self) -> bool:
        return self.direction != Direction.OFF


class FieldMapping(TenantOwned):
    """One row of a mapping table: ERP field ↔ webCRM field."""

    entity_sync = models.ForeignKey(EntitySync, on_delete=models.CASCADE, related_name="field_mappings")
    erp_field = models.CharField(max_length=120)
    crm_field = models.CharField(max_length=120)
    direction = models.CharField(max_length=10, choices=FieldDirection.choices, blank=True, default="")
    value_map = models.JSONField(default=dict, blank=True,
                                 help_text="webCRM value → ERP value, e.g. {\"Kunde – Privat\": \"PRIVATE\"}")
    required = models.BooleanField(default=False, help_text="Create a record only when this field is filled")
    conflict_owner = models.CharField(max_length=10, choices=ConflictOwner.choices, blank=True, default="",
                                      help_text="Overrides the entity's owner for this field")
    overflow = models.CharField(max_length=10, choices=Overflow.choices, default=Overflow.SHORTEN,
                                help_text="What happens to a value longer than the receiving field holds")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["entity_sync", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.erp_field} ↔ {self.crm_field}"


class WebhookAction(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    DELETED = "deleted", "Deleted"


class WebhookToggle(TenantOwned):
    """Whether an event of one system is acted upon. Deleted events are off by default."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="webhook_toggles")
    system = models.CharField(max_length=30)
    entity = models.CharField(max_length=30, choices=SyncEntity.choices)
    action = models.CharField(max_length=10, choices=WebhookAction.choices)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["integration", "system", "entity", "action"]
        constraints = [models.UniqueConstraint(fields=["integration", "system", "entity", "action"],
                                               name="one_toggle_per_event")]

    def __str__(self) -> str:
        return f"{self.system} {self.entity} {self.action}: {'on' if self.enabled else 'off'}"


def default_variant_fields() -> dict[str, str]:
    return {
        "style_no": "xStyleNo", "size": "xSize", "color": "xColor",
        "custom1": "xCustomField1", "custom2": "xCustomField2", "custom3": "xCustomField3",
        "custom4": "xCustomField4", "barcode": "xBarcode",
    }


class PosSettings(TenantOwned):
    """Customers 1st → Uniconta: where POS sales and the daily report go in the books."""

    integration = models.OneToOneField(Integration, on_delete=models.CASCADE, related_name="pos_settings")
    default_debtor_group = models.CharField(max_length=60, blank=True)
    default_pos_debtor = models.CharField(max_length=60, blank=True,
                                          help_text="The debtor account for POS sales without a customer")
    default_item_group = models.CharField(max_length=60, blank=True)
    auto_invoice_cash_sales = models.BooleanField(default=True)
    auto_invoice_debtor_sales = models.BooleanField(default=False)
    pos_journal = models.CharField(max_length=60, blank=True, help_text="The Uniconta journal for POS postings")
    cash_gl_account = models.CharField(max_length=30, blank=True)
    difference_gl_account = models.CharField(max_length=30, blank=True,
                                             help_text="GL account for cash differences and øre rounding")
    cash_payment_name = models.CharField(max_length=60, default="Kontant")
    debtor_payment_name = models.CharField(max_length=60, default="Debitor",
                                           help_text="Payment type name meaning “on account” (Debitor/Faktura)")
    daily_report_time = models.TimeField(null=True, blank=True,
                                         help_text="When the day's POS totals are posted; empty: not posted")
    variant_fields = models.JSONField(default=default_variant_fields)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "POS settings"
        verbose_name_plural = "POS settings"

    def __str__(self) -> str:
        return f"POS settings of {self.integration}"


class PosRegister(TenantOwned):
    """One cash register of the shop; each gets its own daily report."""

    pos_settings = models.ForeignKey(PosSettings, on_delete=models.CASCADE, related_name="registers")
    register_id = models.CharField(max_length=60, help_text="The register's id in Customers 1st")
    name = models.CharField(max_length=120)
    cash_gl_account = models.CharField(max_length=30, blank=True, help_text="Overrides the shop's cash account")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["pos_settings", "register_id"], name="register_once")]

    def __str__(self) -> str:
        return self.name


class ConfigChange(TenantOwned):
    """The audit trail: who changed which setting of an integration, when, from what to what."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="config_changes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=10)  # created / updated / deleted
    subject = models.CharField(max_length=200, help_text="What was changed, in words")
    changes = models.JSONField(default=dict, help_text="{field: [before, after]}")
    #: The integration's whole configuration right after this change (``provenance.integration_settings``): the
    #: settings version a log entry written later names. Null for changes recorded before versions were kept.
    settings_after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action} {self.subject}"
