"""Uniconta's tables as Synkro sees them, under the property names of Uniconta's client classes.

The REST/OData face serialises every entity with the C# property names of its ``…Client`` class
(DebtorClient, InvItemClient, …), so those are the field names here. Sources per field are listed in
``docs/vendors/uniconta.md``. User-defined fields (``xStyleNo``) are not known in advance: the tables
that carry them say so with ``open_custom_fields`` and the sandbox keeps the set each company defined.
"""

from __future__ import annotations

from ..catalog import Catalog, Entity, EntitySpec, FieldSpec, FieldType

S, T, INT, D, B = FieldType.STRING, FieldType.TEXT, FieldType.INTEGER, FieldType.DECIMAL, FieldType.BOOLEAN
DATE, DT, EMAIL, CHOICE, REF, LIST = (FieldType.DATE, FieldType.DATETIME, FieldType.EMAIL, FieldType.CHOICE,
                                      FieldType.REFERENCE, FieldType.LIST)

#: Uniconta's VatZone enum.
VAT_ZONES = ("Domestic", "EU", "Abroad")
#: Uniconta's GLJournalAccountType enum, as the daily journal line names the account kind.
JOURNAL_ACCOUNT_TYPES = ("Finans", "Debtor", "Creditor")
#: ContactClient.DCType: whose contact person this is.
CONTACT_OWNER_TYPES = ("Debtor", "Creditor", "Prospect")


def _f(name: str, type: FieldType = S, label: str = "", **kwargs) -> FieldSpec:
    return FieldSpec(name=name, label=label or name, type=type, **kwargs)


def _ro(name: str, type: FieldType = S, label: str = "", **kwargs) -> FieldSpec:
    return _f(name, type, label, read_only=True, **kwargs)


ROW_ID = _ro("RowId", INT, "Row id", help="Uniconta's internal row number")
UPDATED_AT = _ro("UpdatedAt", DT, "Last changed")

DEBTOR = EntitySpec(
    Entity.ORGANISATION, "DebtorClient", "Account", label="Debtor", number_field="Account",
    created_field="Created", open_custom_fields=True,
    field_roles=(("number", "Account"), ("vat", "CompanyRegNo"), ("name", "Name"), ("email", "ContactEmail"),
                 ("blocked", "Blocked")),
    fields=(
        ROW_ID,
        _f("Account", label="Debtor number", max_length=20,
           help="Left empty, Uniconta takes the next number from the debtor group's number series"),
        _f("Name", required=True, max_length=100),
        _f("Address1", label="Address 1"), _f("Address2", label="Address 2"), _f("Address3", label="Address 3"),
        _f("ZipCode", label="Zip code"), _f("City"), _f("Country", CHOICE, help="Uniconta's CountryCode name",
                                                               value_kind="country_enum"),
        _f("Phone"), _f("MobilPhone", label="Mobile phone"), _f("ContactEmail", EMAIL, "Contact e-mail"),
        _f("InvoiceEmail", EMAIL, "Invoice e-mail"), _f("ContactPerson", label="Contact person"),
        _f("CompanyRegNo", label="CVR / company reg. no."), _f("VatNumber", label="VAT number"),
        _f("Vat", label="VAT code"), _f("VatZone", CHOICE, "VAT zone", choices=VAT_ZONES),
        _f("EAN", label="EAN / GLN"), _f("Payment", REF, "Payment terms"), _f("Group", REF, "Debtor group"),
        _f("Currency", CHOICE), _f("Employee", REF, "Seller (employee)"), _f("PriceList", REF, "Price list"),
        _f("CreditMax", D, "Credit limit", value_kind="amount"), _f("Blocked", B), _f("Www", label="Website"),
        _f("PricesInclVat", B, "Prices incl. VAT"), _f("EndDiscountPct", D, "End discount %"),
        _f("LayoutGroup", REF, "Layout group"), _f("CrmGroup", REF, "CRM group"),
        _f("DeliveryName", label="Delivery name"), _f("DeliveryAddress1", label="Delivery address 1"),
        _f("DeliveryAddress2", label="Delivery address 2"), _f("DeliveryAddress3", label="Delivery address 3"),
        _f("DeliveryZipCode", label="Delivery zip code"), _f("DeliveryCity", label="Delivery city"),
        _f("DeliveryCountry", CHOICE, "Delivery country", value_kind="country_enum"),
        _ro("Created", DT),
    ))

CONTACT = EntitySpec(
    Entity.PERSON, "ContactClient", "RowId", label="Contact",
    field_roles=(("email", "Email"), ("name", "Name"), ("organisation", "DCAccount")), fields=(
        ROW_ID, _f("Name", required=True), _f("Email", EMAIL, "E-mail"), _f("Mobil", label="Mobile phone"),
        _f("Title"), _f("DCType", CHOICE, "Belongs to", choices=CONTACT_OWNER_TYPES),
        _f("DCAccount", REF, "Debtor/creditor number"), _f("ContactType", REF, "Contact type"),
    ))

INV_ITEM = EntitySpec(
    Entity.ITEM, "InvItemClient", "Item", label="Inventory item", number_field="Item",
    open_custom_fields=True,
    field_roles=(("number", "Item"), ("name", "Name"), ("blocked", "Blocked")),
    fields=(
        ROW_ID, _f("Item", label="Item number", required=True, max_length=30), _f("Name"),
        _f("Group", REF, "Item group"), _f("Unit", CHOICE), _f("CostPrice", D, "Cost price"),
        _f("SalesPrice1", D, "Sales price 1"), _f("SalesPrice2", D, "Sales price 2"),
        _f("SalesPrice3", D, "Sales price 3"), _f("EAN", label="EAN / barcode"),
        _ro("Qty", D, "Quantity on stock"), _f("Blocked", B), _f("UseVariants", B, "Uses variants"),
    ))

_ORDER_LINE_FIELDS = (
    ROW_ID, _f("OrderNumber", INT, "Order number"), _f("LineNumber", D, "Line number"), _f("Item", REF),
    _f("Text", T), _f("Qty", D, "Quantity"), _f("Price", D, "Unit price"), _f("DiscountPct", D, "Discount %"),
    _f("Discount", D, "Discount amount"), _f("Unit", CHOICE), _f("Vat", label="VAT code"),
    _f("CostPrice", D, "Cost price"), _ro("Margin", D, "Contribution margin (DB)"),
    _ro("MarginRatio", D, "DB %"), _ro("Total", D, "Line total"), _ro("QtyInvoiced", D, "Quantity invoiced"),
    UPDATED_AT,
)
ORDER_LINE = EntitySpec(Entity.DELIVERY_LINE, "DebtorOrderLineClient", "RowId", label="Sales order line",
                        modified_field="UpdatedAt", fields=_ORDER_LINE_FIELDS,
                        field_roles=(("item", "Item"), ("text", "Text"), ("quantity", "Qty"), ("price", "Price"),
                                     ("discount", "DiscountPct"), ("discount_amount", "Discount"),
                                     ("cost", "CostPrice"), ("position", "LineNumber")))

_ORDER_FIELDS = (
    ROW_ID, _ro("OrderNumber", INT, "Order number"), _f("Account", REF, "Debtor number", required=True),
    _f("Name", label="Debtor name"), _f("DeliveryDate", DATE, "Delivery date"), _f("Currency", CHOICE),
    _f("Payment", REF, "Payment terms"), _f("Employee", REF, "Seller (employee)"), _f("YourRef", label="Your ref."),
    _f("OurRef", label="Our ref."), _f("Remark", T), _f("Requisition"),
    _f("DeliveryName", label="Delivery name"), _f("DeliveryAddress1", label="Delivery address 1"),
    _f("DeliveryZipCode", label="Delivery zip code"), _f("DeliveryCity", label="Delivery city"),
    _ro("OrderTotal", D, "Order total"), _ro("InvoiceDate", DATE, "Invoice date"), UPDATED_AT,
    _f("lines", LIST, "Lines", help="DebtorOrderLineClient rows"),
)
DEBTOR_ORDER = EntitySpec(Entity.DELIVERY, "DebtorOrderClient", "OrderNumber", label="Sales order",
                          number_field="OrderNumber", modified_field="UpdatedAt", open_custom_fields=True,
                          fields=_ORDER_FIELDS,
                          field_roles=(("customer", "Account"), ("date", "DeliveryDate"), ("currency", "Currency"),
                                       ("description", "YourRef"), ("total", "OrderTotal"),
                                       ("invoice_date", "InvoiceDate"),
                                       # Synkro's key of the delivery an order was made from (engine.pending)
                                       ("sync_key", "OurRef")))
#: A POS sale lands in Uniconta as a sales order, field for field.
POS_ORDER = EntitySpec(Entity.POS_SALE, "DebtorOrderClient", "OrderNumber", label="Sales order (POS sale)",
                       number_field="OrderNumber", modified_field="UpdatedAt", open_custom_fields=True,
                       fields=_ORDER_FIELDS)

INVOICE_LINE = EntitySpec(
    Entity.INVOICE_LINE, "DebtorInvoiceLines", "RowId", label="Invoice line",
    field_roles=(("item", "Item"), ("text", "Text"), ("quantity", "InvoiceQty"), ("price", "SalesPrice"),
                 ("discount", "DiscountPct"), ("discount_amount", "NetDiscount"), ("cost", "CostPrice"),
                 ("position", "LineNumber")),
    fields=tuple(
        _ro(name, type, label) for name, type, label in (
            ("RowId", INT, "Row id"), ("InvoiceNumber", INT, "Invoice number"), ("LineNumber", D, "Line number"),
            ("OrderNumber", INT, "Order number"), ("Item", REF, ""), ("Text", T, ""), ("InvoiceQty", D, "Quantity"),
            ("Unit", CHOICE, ""), ("SalesPrice", D, "Unit price"), ("DiscountPct", D, "Discount %"),
            ("NetDiscount", D, "Discount amount"), ("NetAmount", D, "Net amount"),
            ("InvoiceTotal", D, "Line total"), ("CostPrice", D, "Cost price"), ("CostValue", D, "Cost value"),
            ("Margin", D, "Contribution margin (DB)"), ("MarginRatio", D, "DB %"), ("Vat", S, "VAT code"),
            ("Currency", CHOICE, ""), ("Date", DATE, "Invoice date"),
        )))

INVOICE = EntitySpec(
    Entity.INVOICE, "DebtorInvoiceClient", "InvoiceNumber", label="Debtor invoice (posted)",
    number_field="InvoiceNumber",
    # Every DebtorInvoiceClient row is a posted (booked) invoice: Uniconta has no draft invoices.
    field_roles=(("customer", "Account"), ("date", "Date"), ("currency", "Currency"), ("description", "YourRef"),
                 ("total", "NetAmount"), ("order_number", "OrderNumber"), ("booked", "JournalPostedId")),
    fields=(
        *(_ro(name, type, label) for name, type, label in (
            ("RowId", INT, "Row id"), ("InvoiceNumber", INT, "Invoice number"), ("Date", DATE, "Invoice date"),
            ("DueDate", DATE, "Due date"), ("Account", REF, "Debtor number"), ("Name", S, "Debtor name"),
            ("OrderNumber", INT, "Order number"), ("Currency", CHOICE, ""), ("NetAmount", D, "Total excl. VAT"),
            ("VatAmount", D, "VAT"), ("TotalAmount", D, "Total incl. VAT"), ("CostValue", D, "Total cost"),
            ("SalesValue", D, "Sales value"), ("Margin", D, "Contribution margin (DB)"),
            ("MarginRatio", D, "DB %"), ("Payment", REF, "Payment terms"), ("Employee", REF, "Seller"),
            ("YourRef", S, "Your ref."), ("OurRef", S, "Our ref."), ("Remark", T, ""),
            ("Voucher", INT, "Voucher"), ("JournalPostedId", INT, "Posting id"),
            ("lines", LIST, "Lines"),
        )),
    ))

EMPLOYEE = EntitySpec(
    Entity.USER, "EmployeeClient", "Number", label="Employee", number_field="Number",
    field_roles=(("email", "Email"), ("number", "Number"), ("name", "Name")),
    create_defaults=(("Title", "Sælger"),),  # webCRM users come to Uniconta as sellers
    fields=(
        ROW_ID, _f("Number", label="Employee number", required=True, max_length=20),
        _f("Name", required=True), _f("Email", EMAIL, "E-mail"), _f("Mobil", label="Mobile phone"),
        _f("Title"), _f("Group", REF, "Employee group"), _f("UserLoginId", label="Uniconta login"),
        _f("Blocked", B),
    ))

_JOURNAL_LINE_FIELDS = (
    ROW_ID, _f("Journal", REF, "Daily journal", required=True), _f("Date", DATE, required=True),
    _f("Voucher", INT), _f("Text"), _f("AccountType", CHOICE, "Account type", choices=JOURNAL_ACCOUNT_TYPES),
    _f("Account", REF), _f("OffsetAccountType", CHOICE, "Offset account type", choices=JOURNAL_ACCOUNT_TYPES),
    _f("OffsetAccount", REF, "Offset account"), _f("Debit", D), _f("Credit", D), _f("Amount", D),
    _f("Currency", CHOICE), _f("Vat", label="VAT code"), _f("OffsetVat", label="Offset VAT code"),
    _f("Invoice", label="Invoice number"), _f("TransType", REF, "Transaction type"),
    _f("LineNumber", D, "Line number"),
)
JOURNAL_LINE = EntitySpec(Entity.JOURNAL_LINE, "GLDailyJournalLineClient", "RowId", label="Daily journal line",
                          fields=_JOURNAL_LINE_FIELDS)
#: The POS daily report is booked as daily journal lines.
DAILY_REPORT = EntitySpec(Entity.DAILY_REPORT, "GLDailyJournalLineClient", "RowId",
                          label="Daily journal line (POS daily report)",
                          fields=_JOURNAL_LINE_FIELDS)

#: Tables the REST face serves that are no Synkro entity of their own.
DAILY_JOURNAL_FIELDS = (ROW_ID, _f("Journal", required=True), _f("Name"))
GL_TRANS_FIELDS = tuple(_ro(name, type) for name, type in (
    ("RowId", INT), ("JournalPostedId", INT), ("Date", DATE), ("Voucher", INT), ("Text", S), ("Account", S),
    ("Amount", D), ("Debit", D), ("Credit", D), ("Currency", S), ("Vat", S), ("Invoice", S), ("TransType", S)))
#: Company → Maintenance → Change URL: one row per subscribed table (empty Table = every table).
TABLE_CHANGE_EVENT_FIELDS = (
    ROW_ID, _f("Table", help="Uniconta table name, e.g. Debtor; empty for all"), _f("Url", required=True),
    _f("Argument"), _f("UsePost", B, "Post the record as JSON"), _ro("HasError", B, "Has error"),
    _ro("ErrorMessage", T, "Error message"), _ro("LastEvent", DT, "Last event"),
)

#: The table name Uniconta puts in a change notification's ``Table`` parameter, per entity.
CHANGE_TABLES: dict[Entity, str] = {
    Entity.ORGANISATION: "Debtor", Entity.PERSON: "Contact", Entity.ITEM: "InvItem",
    Entity.DELIVERY: "DebtorOrder", Entity.INVOICE: "DebtorInvoice", Entity.USER: "Employee",
}
#: The user-defined fields a Uniconta company typically adds for the POS variant flow.
POS_VARIANT_USER_FIELDS = ("xStyleNo", "xSize", "xColor", "xCustomField1", "xCustomField2", "xCustomField3",
                           "xCustomField4", "xBarcode")

ENTITY_SPECS = (DEBTOR, CONTACT, INV_ITEM, DEBTOR_ORDER, ORDER_LINE, INVOICE, INVOICE_LINE, EMPLOYEE,
                JOURNAL_LINE, POS_ORDER, DAILY_REPORT)


def uniconta_catalog() -> Catalog:
    """Every Uniconta table Synkro reads or writes, as one catalog."""
    return Catalog(system="uniconta", entities=ENTITY_SPECS)


def lines_spec(entity: Entity) -> EntitySpec | None:
    """The line table of a document entity (orders and POS sales have order lines; invoices invoice lines)."""
    if entity in (Entity.DELIVERY, Entity.POS_SALE):
        return ORDER_LINE
    if entity == Entity.INVOICE:
        return INVOICE_LINE
    return None
