"""Visma.net ERP's entities and fields, under the names of its read DTOs (dotted for nested ones).

Types and read-only flags come from the vendor's Swagger definitions (``CustomerDto`` for reads,
``CustomerUpdateDto`` for writes, and so on): a field without a place in the update DTO is read-only.
How a read name is written is in :mod:`.dto`.
"""

from __future__ import annotations

from dataclasses import replace

from ..catalog import Catalog, Entity, EntitySpec, FieldSpec, FieldType

T = FieldType

CUSTOMER_STATUSES = ("Active", "OnHold", "CreditHold", "Inactive", "OneTime")
INVENTORY_STATUSES = ("Active", "NoSales", "NoPurchases", "NoRequest", "Inactive", "MarkedForDeletion")
INVENTORY_TYPES = ("NonStockItem", "LaborItem", "ServiceItem", "ChargeItem", "ExpenseItem", "FinishedGoodItem",
                   "ComponentPartItem", "SubassemblyItem")
ORDER_STATUSES = ("Open", "Hold", "CreditHold", "Completed", "Cancelled", "BackOrder", "Shipping", "Invoiced")
INVOICE_STATUSES = ("Hold", "Balanced", "Voided", "Scheduled", "Open", "Closed", "PendingPrint", "PendingEmail",
                    "CreditHold", "CcHold")
DOCUMENT_TYPES = ("Invoice", "DebitNote", "CreditNote", "Payment", "VoidPayment", "Prepayment", "Refund",
                  "FinCharge", "SmallBalanceWo", "SmallCreditWo", "CashSale", "CashReturn", "Undefined", "NoUpdate")
EMPLOYEE_STATUSES = ("Active", "OnHold", "HoldPayments", "Inactive", "OneTime")
TITLES = ("Doctor", "Miss", "Mr", "Mrs", "Ms", "Prof")


def _f(name: str, label: str, type: FieldType = T.STRING, **kwargs) -> FieldSpec:
    return FieldSpec(name=name, label=label, type=type, **kwargs)


def _ro(name: str, label: str, type: FieldType = T.STRING, **kwargs) -> FieldSpec:
    return FieldSpec(name=name, label=label, type=type, read_only=True, **kwargs)


def _address(prefix: str, label: str, *, read_only: bool = False) -> tuple[FieldSpec, ...]:
    make = _ro if read_only else _f
    return (
        make(f"{prefix}.addressLine1", f"{label} line 1"),
        make(f"{prefix}.addressLine2", f"{label} line 2"),
        make(f"{prefix}.addressLine3", f"{label} line 3"),
        make(f"{prefix}.postalCode", f"{label} postal code"),
        make(f"{prefix}.city", f"{label} city"),
        make(f"{prefix}.country.id", f"{label} country", help="ISO 3166 code, e.g. DK; written as countryId",
             value_kind="country_code"),
    )


def _contact(prefix: str, label: str) -> tuple[FieldSpec, ...]:
    return (
        _f(f"{prefix}.name", f"{label} name"),
        _f(f"{prefix}.attention", f"{label} attention"),
        _f(f"{prefix}.email", f"{label} e-mail", T.EMAIL),
        _f(f"{prefix}.web", f"{label} web"),
        _f(f"{prefix}.phone1", f"{label} phone 1"),
        _f(f"{prefix}.phone2", f"{label} phone 2"),
        _f(f"{prefix}.fax", f"{label} fax"),
    )


CUSTOMER = EntitySpec(
    entity=Entity.ORGANISATION, vendor_name="customer", label="Customer", id_field="number",
    number_field="number", modified_field="lastModifiedDateTime",
    fields=(
        _ro("internalId", "Internal id", T.INTEGER),
        _f("number", "Customer number", max_length=30,
           help="Given by the ERP's numbering unless typed; the id in every customer path"),
        _f("name", "Name", required=True, max_length=60),
        _f("status", "Status", T.CHOICE, choices=CUSTOMER_STATUSES),
        *_address("mainAddress", "Main address"),
        *_contact("mainContact", "Main contact"),
        *_address("invoiceAddress", "Invoice address"),
        *_contact("invoiceContact", "Invoice contact"),
        *_address("deliveryAddress", "Delivery address"),
        *_contact("deliveryContact", "Delivery contact"),
        _f("accountReference", "Account reference"),
        _f("customerClass.id", "Customer class", T.REFERENCE, help="Written as customerClassId"),
        _f("creditTerms.id", "Credit terms", T.REFERENCE, help="Payment terms; written as creditTermsId"),
        _f("currencyId", "Currency", max_length=5),
        _f("creditLimit", "Credit limit", T.DECIMAL, value_kind="amount"),
        _f("creditVerification", "Credit verification", T.CHOICE,
           choices=("Disabled", "DaysPastDue", "CreditLimit", "LimitAndDaysPastDue")),
        _f("vatRegistrationId", "VAT registration id"),
        _f("corporateId", "Corporate id", help="CVR / organisation number"),
        _f("vatZone.id", "VAT zone", T.REFERENCE, help="Written as vatZoneId"),
        _ro("vatZone.description", "VAT zone description"),
        _ro("gln", "GLN", help="Global location number (EAN); shown by the current API, absent from the 2016 spec"),
        _f("printInvoices", "Print invoices", T.BOOLEAN),
        _f("sendInvoicesByEmail", "Send invoices by e-mail", T.BOOLEAN),
        _f("acceptAutoInvoices", "Accept auto invoices", T.BOOLEAN),
        _ro("lastModifiedDateTime", "Last modified", T.DATETIME),
        _ro("createdDateTime", "Created", T.DATETIME),
    ),
)

CONTACT = EntitySpec(
    entity=Entity.PERSON, vendor_name="contact", label="Contact", id_field="contactId",
    modified_field="lastModifiedDateTime",
    fields=(
        _ro("contactId", "Contact id", T.INTEGER),
        _ro("displayName", "Display name"),
        _f("active", "Active", T.BOOLEAN),
        _f("title", "Title", T.CHOICE, choices=TITLES),
        _f("firstName", "First name"),
        _f("lastName", "Last name", required=True),
        _f("position", "Position"),
        _f("businessAccount", "Business account", T.REFERENCE, help="The customer (or supplier) number"),
        _f("sameAsAccount", "Address same as account", T.BOOLEAN),
        *_address("address", "Address"),
        _f("email", "E-mail", T.EMAIL),
        _f("web", "Web"),
        _f("phone1", "Phone 1"),
        _f("phone2", "Phone 2"),
        _f("phone3", "Phone 3"),
        _f("fax", "Fax"),
        _f("contactMethod", "Contact method", T.CHOICE, choices=("Any", "Email", "Mail", "Fax", "Phone")),
        _f("doNotCall", "Do not call", T.BOOLEAN),
        _f("doNotEmail", "Do not e-mail", T.BOOLEAN),
        _f("noMarketing", "No marketing", T.BOOLEAN),
        _ro("lastModifiedDateTime", "Last modified", T.DATETIME),
    ),
)

INVENTORY = EntitySpec(
    entity=Entity.ITEM, vendor_name="inventory", label="Inventory item", id_field="inventoryNumber",
    number_field="inventoryNumber", modified_field="lastModifiedDateTime",
    fields=(
        _ro("inventoryId", "Inventory id", T.INTEGER),
        _f("inventoryNumber", "Item number", required=True, max_length=30),
        _f("description", "Description", required=True),
        _f("status", "Status", T.CHOICE, choices=INVENTORY_STATUSES),
        _f("type", "Type", T.CHOICE, choices=INVENTORY_TYPES),
        _f("itemClass.id", "Item class", T.REFERENCE, help="Written as itemClass"),
        _f("postingClass.id", "Posting class", T.REFERENCE, help="Written as postingClass"),
        _f("vatCode.id", "VAT code", T.REFERENCE, help="Written as vatCode"),
        _f("defaultPrice", "Default price", T.DECIMAL),
        _ro("baseUnit", "Base unit", help="Shown by the current API, absent from the 2016 spec"),
        _ro("lastModifiedDateTime", "Last modified", T.DATETIME),
    ),
)

SALES_ORDER = EntitySpec(
    entity=Entity.DELIVERY, vendor_name="SalesOrders", label="Sales order", id_field="orderId",
    number_field="orderId", modified_field="lastModified",
    # The Sales Order service's SalesOrderDto (read) and New/PatchSalesOrderCommand (write): docs/vendors/vismanet.md
    # "Sales Order service". Synkro's id of an order is "<type>/<orderId>", or orderId alone for type SO.
    fields=(
        _f("type", "Order type", help="SO for sales orders; set when the order is made, never changed"),
        _ro("orderId", "Order number", help="Given by the ERP's numbering series of the order type"),
        _ro("status.description", "Status", T.CHOICE, choices=ORDER_STATUSES),
        _ro("status.hold", "On hold", T.BOOLEAN),
        _ro("status.cancelled", "Cancelled", T.BOOLEAN),
        _f("date", "Order date", T.DATETIME),
        _f("requestOn", "Requested on", T.DATETIME),
        _f("customer.id", "Customer number", T.REFERENCE, required=True),
        _ro("customer.name", "Customer name"),
        _f("customer.order", "Customer order", max_length=40),
        _f("customer.refNo", "Customer reference", max_length=40),
        _f("currencyId", "Currency", max_length=5),
        _f("description", "Description", max_length=255),
        _ro("totals.orderTotal", "Order total", T.DECIMAL),
        _ro("totals.taxableTotal", "VAT taxable total", T.DECIMAL),
        _ro("totals.taxExemptTotal", "VAT exempt total", T.DECIMAL),
        _ro("totals.taxTotal", "VAT total", T.DECIMAL),
        _ro("lastModified", "Last modified", T.DATETIME),
        _f("lines", "Lines", T.LIST),
    ),
)

SALES_ORDER_LINE = EntitySpec(
    entity=Entity.DELIVERY_LINE, vendor_name="SalesOrders.lines", label="Sales order line", id_field="lineId",
    fields=(
        _ro("lineId", "Line number", T.INTEGER),
        _f("inventory.id", "Item number", T.REFERENCE, required=True, help="Written as inventoryId"),
        _ro("inventory.description", "Item description"),
        _f("description", "Line description", max_length=256),
        _f("quantity", "Quantity", T.DECIMAL, required=True),
        _f("unitOfMeasure", "Unit", max_length=6),
        _f("unitPrice", "Unit price", T.DECIMAL),
        _f("discountPercent", "Discount %", T.DECIMAL),
        _ro("discountAmount", "Discount amount", T.DECIMAL),
        _ro("extendedPrice", "Line amount", T.DECIMAL),
        _f("warehouseId", "Warehouse", T.REFERENCE),
    ),
)

CUSTOMER_INVOICE = EntitySpec(
    entity=Entity.INVOICE, vendor_name="customerinvoice", label="Customer invoice", id_field="referenceNumber",
    number_field="referenceNumber", modified_field="lastModifiedDateTime",
    fields=(
        _ro("referenceNumber", "Invoice number"),
        _ro("documentType", "Document type", T.CHOICE, choices=DOCUMENT_TYPES),
        _ro("status", "Status", T.CHOICE, choices=INVOICE_STATUSES,
            help="Open, Closed and Voided invoices are released (booked) and never changed"),
        _f("hold", "On hold", T.BOOLEAN),
        _f("customer.number", "Customer number", T.REFERENCE, required=True, help="Written as customerNumber"),
        _ro("customer.name", "Customer name"),
        _f("documentDate", "Invoice date", T.DATETIME),
        _f("documentDueDate", "Due date", T.DATETIME),
        _f("currencyId", "Currency"),
        _f("creditTerms.id", "Credit terms", T.REFERENCE, help="Written as creditTermsId"),
        _f("customerRefNumber", "Customer reference"),
        _f("externalReference", "External reference"),
        _f("invoiceText", "Invoice text"),
        _f("note", "Note", T.TEXT),
        _ro("amount", "Amount", T.DECIMAL),
        _ro("balance", "Balance", T.DECIMAL, value_kind="amount"),
        _ro("vatTotal", "VAT total", T.DECIMAL),
        _ro("detailTotal", "Lines total", T.DECIMAL),
        _ro("lastModifiedDateTime", "Last modified", T.DATETIME),
        _ro("createdDateTime", "Created", T.DATETIME),
        _f("lines", "Lines", T.LIST),
    ),
)

CUSTOMER_INVOICE_LINE = EntitySpec(
    entity=Entity.INVOICE_LINE, vendor_name="customerinvoice.invoiceLines", label="Customer invoice line",
    id_field="lineNumber",
    fields=(
        _f("lineNumber", "Line number", T.INTEGER),
        _f("inventoryNumber", "Item number", T.REFERENCE),
        _f("description", "Description"),
        _f("quantity", "Quantity", T.DECIMAL, required=True),
        _f("uom", "Unit"),
        _ro("unitPrice", "Unit price", T.DECIMAL),
        _f("unitPriceInCurrency", "Unit price in currency", T.DECIMAL),
        _f("discountPercent", "Discount %", T.DECIMAL),
        _ro("discountAmount", "Discount amount", T.DECIMAL),
        _f("manualDiscount", "Manual discount", T.BOOLEAN),
        _ro("amount", "Line amount", T.DECIMAL),
        _f("vatCode.id", "VAT code", T.REFERENCE, help="Written as vatCodeId"),
        _f("account.number", "Sales account", T.REFERENCE, help="Written as accountNumber"),
        _f("note", "Note", T.TEXT),
    ),
)

EMPLOYEE = EntitySpec(
    entity=Entity.USER, vendor_name="employee", label="Employee", id_field="employeeNumber",
    number_field="employeeNumber", modified_field="lastModifiedDateTime",
    fields=(
        _ro("employeeId", "Employee id", T.INTEGER),
        _ro("employeeNumber", "Employee number"),
        _ro("employeeName", "Name"),
        _ro("status", "Status", T.CHOICE, choices=EMPLOYEE_STATUSES),
        _ro("contact.firstName", "First name"),
        _ro("contact.lastName", "Last name"),
        _ro("contact.email", "E-mail", T.EMAIL),
        _ro("contact.phone1", "Phone 1"),
        _ro("contact.phone3", "Mobile"),
        *_address("address", "Address", read_only=True),
        _ro("lastModifiedDateTime", "Last modified", T.DATETIME),
    ),
)


# What the sync rules look for (matching, parent organisation), by role.
CUSTOMER = replace(CUSTOMER, field_roles=(("vat", "corporateId"), ("name", "name"), ("email", "mainContact.email")))
CONTACT = replace(CONTACT, field_roles=(("email", "email"), ("name", "lastName"),
                                        ("organisation", "businessAccount"), ("active", "active")))
INVENTORY = replace(INVENTORY, field_roles=(("name", "description"),))
SALES_ORDER = replace(SALES_ORDER, field_roles=(("customer", "customer.id"), ("date", "date"),
                                                ("currency", "currencyId"), ("description", "description"),
                                                ("total", "totals.orderTotal"), ("order_type", "type"),
                                                ("status", "status.description"), ("sync_key", "customer.refNo")))
SALES_ORDER_LINE = replace(SALES_ORDER_LINE, field_roles=(("item", "inventory.id"), ("text", "description"),
                                                          ("quantity", "quantity"), ("price", "unitPrice"),
                                                          ("discount", "discountPercent"),
                                                          ("discount_amount", "discountAmount"),
                                                          ("position", "lineId")))
CUSTOMER_INVOICE = replace(CUSTOMER_INVOICE, field_roles=(("customer", "customer.number"), ("date", "documentDate"),
                                                          ("currency", "currencyId"), ("description", "invoiceText"),
                                                          ("total", "amount"), ("status", "status")))
CUSTOMER_INVOICE_LINE = replace(CUSTOMER_INVOICE_LINE, field_roles=(
    ("item", "inventoryNumber"), ("text", "description"), ("quantity", "quantity"), ("price", "unitPriceInCurrency"),
    ("discount", "discountPercent"), ("discount_amount", "discountAmount"), ("position", "lineNumber")))
EMPLOYEE = replace(EMPLOYEE, field_roles=(("email", "contact.email"), ("name", "employeeName")))


def vismanet_catalog() -> Catalog:
    """Everything Synkro can read or write in Visma.net ERP."""
    return Catalog(system="vismanet", entities=(
        CUSTOMER, CONTACT, INVENTORY, SALES_ORDER, SALES_ORDER_LINE, CUSTOMER_INVOICE, CUSTOMER_INVOICE_LINE,
        EMPLOYEE,
    ))
