"""What Fortnox offers, under Fortnox's own field names.

Field names, types, lengths and choices come from the official OpenAPI description
(``fortnox-openapi.json``: ``fortnox_Customer``, ``fortnox_Article``, ``fortnox_Order``,
``fortnox_Order_OrderRow``, ``fortnox_Invoice``, ``fortnox_Invoice_InvoiceRow``, ``fortnox_Employee``).
The description marks nothing read-only, so read-only flags come from the difference between
``fortnox_Invoice`` and ``fortnox_InvoicePayload`` (what may be written) and, for the other
resources, from Fortnox's field tables as mirrored by the accodeing/fortnox-api models.

Fortnox has no contact-person resource, so the catalog has no ``person`` entity, and it has no
user-defined fields, so there are no custom slots. No resource exposes a last-modified field:
changes are found with the ``lastmodified`` query parameter instead (``modified_field`` is None).
"""

from __future__ import annotations

from dataclasses import replace

from ..catalog import Catalog, Entity, EntitySpec, FieldSpec, FieldType

S, TEXT, DEC, INT, BOOL, DATE, EMAIL, CHOICE = (
    FieldType.STRING, FieldType.TEXT, FieldType.DECIMAL, FieldType.INTEGER, FieldType.BOOLEAN,
    FieldType.DATE, FieldType.EMAIL, FieldType.CHOICE,
)

#: Fields whose value is a number but which Fortnox's description types as a JSON string.
NUMBERS_SENT_AS_TEXT: dict[Entity, frozenset[str]] = {
    Entity.ORGANISATION: frozenset({"InvoiceAdministrationFee", "InvoiceFreight"}),
    Entity.DELIVERY_LINE: frozenset({"OrderedQuantity", "DeliveredQuantity", "ReservedQuantity",
                                     "ContributionPercent", "ContributionValue"}),
    Entity.INVOICE_LINE: frozenset({"DeliveredQuantity", "ContributionPercent", "ContributionValue"}),
}

#: Where a document keeps its rows, and which entity describes one row.
DOCUMENT_ROWS: dict[Entity, tuple[str, Entity]] = {
    Entity.DELIVERY: ("OrderRows", Entity.DELIVERY_LINE),
    Entity.INVOICE: ("InvoiceRows", Entity.INVOICE_LINE),
}

HOUSEWORK_TYPES = (
    "CONSTRUCTION", "ELECTRICITY", "GLASSMETALWORK", "GROUNDDRAINAGEWORK", "MASONRY", "PAINTINGWALLPAPERING",
    "HVAC", "MAJORAPPLIANCEREPAIR", "MOVINGSERVICES", "ITSERVICES", "CLEANING", "TEXTILECLOTHING", "COOKING",
    "SNOWPLOWING", "GARDENING", "BABYSITTING", "OTHERCARE", "TUTORING", "OTHERCOSTS", "SOLARCELLS",
    "STORAGESELFPRODUCEDELECTRICITY", "CHARGINGSTATIONELECTRICVEHICLE", "HOMEMAINTENANCE", "FURNISHING",
    "TRANSPORTATIONSERVICES", "WASHINGANDCAREOFCLOTHING", "EMPTYHOUSEWORK",
)
DELIVERY_TYPES = ("PRINT", "EMAIL", "PRINTSERVICE")

#: What country fields hold (integrations/engine/values.py): ISO codes, or names as Fortnox spells them
#: (English, Sweden as "Sverige"; docs/vendors/fortnox.md).
VALUE_KINDS = {**dict.fromkeys(("CountryCode", "DeliveryCountryCode", "VisitingCountryCode"), "country_code"),
               **dict.fromkeys(("Country", "DeliveryCountry", "VisitingCountry"), "country_name_en")}


def _group(type_: FieldType, names: tuple[str, ...], max_length: int | None = None) -> list[FieldSpec]:
    return [FieldSpec(name=name, type=type_, max_length=max_length) for name in names]


def _str(*names: str, max_length: int | None = None) -> list[FieldSpec]:
    return _group(S, names, max_length)


def _text(*names: str, max_length: int | None = None) -> list[FieldSpec]:
    return _group(TEXT, names, max_length)


def _email(*names: str, max_length: int | None = None) -> list[FieldSpec]:
    return _group(EMAIL, names, max_length)


def _dec(*names: str) -> list[FieldSpec]:
    return _group(DEC, names)


def _int(*names: str) -> list[FieldSpec]:
    return _group(INT, names)


def _bool(*names: str) -> list[FieldSpec]:
    return _group(BOOL, names)


def _date(*names: str) -> list[FieldSpec]:
    return _group(DATE, names)


def _choice(name: str, *choices: str) -> list[FieldSpec]:
    return [FieldSpec(name=name, type=CHOICE, choices=choices)]


def _entity(entity: Entity, vendor_name: str, id_field: str, groups: list[list[FieldSpec]], *,
            label: str, read_only: frozenset[str] = frozenset(), required: frozenset[str] = frozenset(),
            number_field: str | None = None, labels: dict[str, str] | None = None) -> EntitySpec:
    """One entity, with the read-only and required flags laid over the typed fields."""
    labels = labels or {}
    fields = tuple(
        replace(spec, read_only=spec.name in read_only, required=spec.name in required,
                label=labels.get(spec.name, ""), value_kind=VALUE_KINDS.get(spec.name, ""))
        for group in groups for spec in group
    )
    unknown = (read_only | required | set(labels)) - {f.name for f in fields}
    if unknown:
        raise ValueError(f"{vendor_name}: flags for unknown fields {sorted(unknown)}")
    return EntitySpec(entity=entity, vendor_name=vendor_name, id_field=id_field, fields=fields, label=label,
                      number_field=number_field, modified_field=None)


CUSTOMER = _entity(
    Entity.ORGANISATION, "Customer", "CustomerNumber", [
        _str("@url", "CostCenter", "Country", "InvoiceAdministrationFee", "InvoiceFreight", "OrganisationNumber",
             "PriceList", "Project", "TermsOfDelivery", "TermsOfPayment", "VATNumber", "WayOfDelivery"),
        _bool("Active", "ShowPriceVATIncluded"),
        _str("Address1", "Address2", "City", "CustomerNumber", "DeliveryAddress1", "DeliveryAddress2", "DeliveryCity",
             "DeliveryCountry", "DeliveryFax", "DeliveryName", "DeliveryPhone1", "DeliveryPhone2",
             "ExternalReference", "Fax", "Name", "Phone1", "Phone2", max_length=1024),
        _text("Comments", "InvoiceRemark", max_length=1024),
        _str("CountryCode", "DeliveryCountryCode", "VisitingCountryCode", max_length=2),
        _str("Currency", max_length=3),
        _choice("DefaultDeliveryTypes.Invoice", *DELIVERY_TYPES),
        _choice("DefaultDeliveryTypes.Offer", *DELIVERY_TYPES),
        _choice("DefaultDeliveryTypes.Order", *DELIVERY_TYPES),
        _str("DefaultTemplates.CashInvoice", "DefaultTemplates.Invoice", "DefaultTemplates.Offer",
             "DefaultTemplates.Order"),
        _str("DeliveryZipCode", "VisitingZipCode", "ZipCode", max_length=10),
        _email("Email", "EmailInvoice", "EmailInvoiceBCC", "EmailInvoiceCC", "EmailOffer", "EmailOfferBCC",
               "EmailOfferCC", "EmailOrder", "EmailOrderBCC", "EmailOrderCC", max_length=1024),
        _str("GLN", "GLNDelivery", max_length=13),
        _dec("InvoiceDiscount"),
        _str("OurReference", "YourReference", max_length=50),
        _str("SalesAccount", max_length=4),
        _str("VisitingAddress", "VisitingCity", "VisitingCountry", "WWW", max_length=128),
        _choice("Type", "PRIVATE", "COMPANY"),
        _choice("VATType", "SEVAT", "SEREVERSEDVAT", "EUREVERSEDVAT", "EUVAT", "EXPORT"),
    ],
    label="Customer", number_field="CustomerNumber", required=frozenset({"Name"}),
    read_only=frozenset({"@url", "Country", "DeliveryCountry", "VisitingCountry"}),
    labels={"CustomerNumber": "Customer number", "OrganisationNumber": "Organisation number",
            "VATNumber": "VAT number", "TermsOfPayment": "Terms of payment", "ZipCode": "Zip code",
            "Phone1": "Phone", "WWW": "Website", "EmailInvoice": "Invoice e-mail"},
)

ARTICLE = _entity(
    Entity.ITEM, "Article", "ArticleNumber", [
        _str("@url", "CostCalculationMethod", "DefaultStockLocation", "DefaultStockPoint", "SupplierName",
             "SupplierNumber", "Unit"),
        _bool("Active", "Bulky", "Expired", "Housework", "StockGoods", "WebshopArticle"),
        _str("ArticleNumber", "Manufacturer", "ManufacturerArticleNumber", max_length=50),
        _int("ConstructionAccount", "Depth", "EUAccount", "EUVATAccount", "ExportAccount", "Height",
             "PurchaseAccount", "SalesAccount", "StockAccount", "StockChangeAccount", "Weight", "Width"),
        _str("Description", max_length=200),
        _dec("DirectCost", "DisposableQuantity", "FreightCost", "OtherCost", "PurchasePrice", "QuantityInStock",
             "ReservedQuantity", "SalesPrice", "StockValue", "StockWarning", "VAT"),
        _str("EAN", max_length=30),
        _text("Note", max_length=10000),
        _str("StockPlace", max_length=100),
        _choice("HouseworkType", *HOUSEWORK_TYPES),
        _choice("Type", "STOCK", "SERVICE"),
    ],
    label="Article", number_field="ArticleNumber", required=frozenset({"Description"}),
    read_only=frozenset({"@url", "DisposableQuantity", "ReservedQuantity", "SalesPrice", "StockValue",
                         "SupplierName"}),
    labels={"ArticleNumber": "Article number", "PurchasePrice": "Purchase price",
            "SalesPrice": "Sales price (default price list)"},
)

#: Computed or set by Fortnox on orders and invoices alike.
_DOCUMENT_READ_ONLY = frozenset({
    "@url", "@urlTaxReductionList", "AdministrationFeeVAT", "BasisTaxReduction", "Cancelled", "ContributionPercent",
    "ContributionValue", "FreightVAT", "Gross", "HouseWork", "Net", "OfferReference", "OrganisationNumber",
    "RoundOff", "Sent", "TaxReduction", "Total", "TotalToPay", "TotalVAT", "WarehouseReady",
})

ORDER = _entity(
    Entity.DELIVERY, "Order", "DocumentNumber", [
        _str("@url", "@urlTaxReductionList", "Address1", "Address2", "City", "CostCenter", "Country",
             "CustomerName", "CustomerNumber", "DeliveryAddress1", "DeliveryAddress2", "DeliveryCity",
             "DeliveryCountry", "DeliveryName", "DeliveryZipCode", "DocumentNumber", "ExternalInvoiceReference1",
             "ExternalInvoiceReference2", "InvoiceReference", "Language", "OfferReference", "OrderType",
             "OrganisationNumber", "Phone1", "Phone2", "PriceList", "PrintTemplate", "Project", "StockPointCode",
             "StockPointId", "TermsOfDelivery", "TermsOfPayment", "WayOfDelivery", "ZipCode"),
        _text("Comments"),
        _dec("AdministrationFee", "AdministrationFeeVAT", "BasisTaxReduction", "ContributionPercent",
             "ContributionValue", "CurrencyRate", "CurrencyUnit", "Freight", "FreightVAT", "Gross", "Net",
             "RoundOff", "TaxReduction", "Total", "TotalToPay", "TotalVAT"),
        _bool("Cancelled", "CopyRemarks", "HouseWork", "NotCompleted", "Sent", "VATIncluded", "WarehouseReady"),
        _str("Currency", max_length=3),
        _date("DeliveryDate", "OrderDate", "OutboundDate"),
        _str("OurReference", "YourReference", max_length=50),
        _text("Remarks", max_length=1024),
        _int("TimeBasisReference"),
        _str("YourOrderNumber", max_length=75),
        _choice("DeliveryState", "registration", "reservation", "delivery"),
        _choice("TaxReductionType", "none", "rot", "rut", "green"),
    ],
    label="Order", number_field="DocumentNumber", required=frozenset({"CustomerNumber"}),
    read_only=_DOCUMENT_READ_ONLY | {"InvoiceReference"},
    labels={"DocumentNumber": "Order number", "InvoiceReference": "Invoice number"},
)

ORDER_ROW = _entity(
    Entity.DELIVERY_LINE, "OrderRow", "RowId", [
        _int("AccountNumber", "HouseWorkHoursToReport", "RowId"),
        _str("ArticleNumber", "CostCenter", "Description", "Project", "StockPointCode", "StockPointId", "Unit",
             "VATCode"),
        _dec("OrderedQuantity", "DeliveredQuantity", "ReservedQuantity", "ContributionPercent", "ContributionValue",
             "Discount", "Price", "Total", "VAT"),
        _bool("HouseWork"),
        _choice("DiscountType", "AMOUNT", "PERCENT"),
        _choice("HouseWorkType", *HOUSEWORK_TYPES),
    ],
    label="Order row",
    read_only=frozenset({"RowId", "ReservedQuantity", "ContributionPercent", "ContributionValue", "Total"}),
)

INVOICE = _entity(
    Entity.INVOICE, "Invoice", "DocumentNumber", [
        _str("@url", "@urlTaxReductionList", "Address1", "Address2", "CostCenter", "Country", "Credit",
             "CreditInvoiceReference", "Currency", "CustomerName", "CustomerNumber", "DeliveryCountry",
             "DocumentNumber", "InvoicePeriodReference", "OCR", "OfferReference", "OrderReference",
             "OrganisationNumber", "PriceList", "PrintTemplate", "Project", "TermsOfDelivery", "TermsOfPayment",
             "VoucherSeries", "WayOfDelivery"),
        _dec("AdministrationFee", "AdministrationFeeVAT", "Balance", "BasisTaxReduction", "ContributionPercent",
             "ContributionValue", "CurrencyRate", "Freight", "FreightVAT", "Gross", "Net", "RoundOff", "Total",
             "TotalToPay", "TotalVAT"),
        _bool("Booked", "Cancelled", "EUQuarterlyReport", "HouseWork", "NotCompleted", "NoxFinans", "Sent",
              "VATIncluded", "WarehouseReady"),
        _str("City", "DeliveryAddress1", "DeliveryAddress2", "DeliveryCity", "DeliveryName", "DeliveryZipCode",
             "Phone1", "Phone2", "ZipCode", max_length=1024),
        _text("Comments", "Remarks", max_length=1024),
        _int("ContractReference", "CurrencyUnit", "Reminders", "TaxReduction", "TimeBasisReference", "VoucherNumber",
             "VoucherYear"),
        _date("DeliveryDate", "DueDate", "FinalPayDate", "InvoiceDate", "InvoicePeriodEnd", "InvoicePeriodStart",
              "LastRemindDate", "OutboundDate"),
        _str("ExternalInvoiceReference1", "ExternalInvoiceReference2", max_length=80),
        _str("OurReference", "YourReference", max_length=50),
        _str("YourOrderNumber", max_length=75),
        _choice("AccountingMethod", "ACCRUAL", "CASH"),
        _choice("InvoiceType", "INVOICE", "AGREEMENTINVOICE", "INTRESTINVOICE", "SUMMARYINVOICE", "CASHINVOICE"),
        _choice("Language", "SV", "EN"),
        _choice("PaymentWay", "CASH", "CARD", "AG"),
        _choice("TaxReductionType", "none", "rot", "rut", "green"),
    ],
    label="Invoice", number_field="DocumentNumber", required=frozenset({"CustomerNumber"}),
    # Everything in fortnox_Invoice that fortnox_InvoicePayload (the writable shape) leaves out.
    read_only=_DOCUMENT_READ_ONLY | {
        "AccountingMethod", "Balance", "Booked", "ContractReference", "Credit", "FinalPayDate", "InvoicePeriodEnd",
        "InvoicePeriodReference", "InvoicePeriodStart", "LastRemindDate", "NoxFinans", "OrderReference", "Reminders",
        "TimeBasisReference", "VoucherNumber", "VoucherSeries", "VoucherYear"},
    labels={"DocumentNumber": "Invoice number", "InvoiceDate": "Invoice date", "Booked": "Booked",
            "Cancelled": "Cancelled", "Balance": "Balance (left to pay)"},
)

INVOICE_ROW = _entity(
    Entity.INVOICE_LINE, "InvoiceRow", "RowId", [
        _int("AccountNumber", "HouseWorkHoursToReport", "RowId", "VAT"),
        _str("ArticleNumber", "CostCenter", "Project", "StockPointCode", "Unit", "VATCode"),
        _str("Description", max_length=255),
        _dec("DeliveredQuantity", "ContributionPercent", "ContributionValue", "Discount", "Price",
             "PriceExcludingVAT", "Total", "TotalExcludingVAT"),
        _bool("HouseWork"),
        _choice("DiscountType", "AMOUNT", "PERCENT"),
        _choice("HouseWorkType", *HOUSEWORK_TYPES),
    ],
    label="Invoice row",
    read_only=frozenset({"ContributionPercent", "ContributionValue", "PriceExcludingVAT", "Total",
                         "TotalExcludingVAT"}),
)

#: The employee fields a sync needs (identity, contact, employment); the payroll balances
#: (Vacation*, Absence*, DatedWages ...) of ``fortnox_Employee`` are left out on purpose.
EMPLOYEE = _entity(
    Entity.USER, "Employee", "EmployeeId", [
        _str("EmployeeId", max_length=15),
        _str("FirstName", "LastName", "FullName", "Address1", "Address2", "PostCode", "City", "Country", "Phone1",
             "Phone2", "PersonalIdentityNumber", "CostCenter", "Project", "ScheduleId"),
        _email("Email"),
        _str("JobTitle", max_length=30),
        _date("EmploymentDate", "EmployedTo"),
        _bool("Inactive"),
        _dec("FullTimeEquivalent"),
        _choice("EmploymentForm", "TV", "PRO", "TID", "SVT", "VIK", "PRJ", "PRA", "FER", "SES", "NEJ"),
        _choice("PersonelType", "TJM", "ARB"),
        _choice("SalaryForm", "MAN", "TIM"),
    ],
    label="Employee", number_field="EmployeeId", required=frozenset({"Email", "FirstName", "LastName"}),
    read_only=frozenset({"FullName"}),
    labels={"EmployeeId": "Employee id", "Email": "E-mail", "Inactive": "Inactive"},
)

# What the sync rules look for (matching, activity), by role.
CUSTOMER = replace(CUSTOMER, field_roles=(("vat", "OrganisationNumber"), ("name", "Name"), ("email", "Email"),
                                          ("active", "Active")))
ARTICLE = replace(ARTICLE, field_roles=(("name", "Description"), ("active", "Active")))
EMPLOYEE = replace(EMPLOYEE, field_roles=(("email", "Email"), ("name", "FullName"), ("blocked", "Inactive")))

ORDER = replace(ORDER, field_roles=(("customer", "CustomerNumber"), ("date", "OrderDate"), ("currency", "Currency"),
                                    ("description", "YourReference"), ("total", "Net"),
                                    ("invoice_date", "InvoiceReference"), ("cancelled", "Cancelled"),
                                    ("sync_key", "ExternalInvoiceReference1")))
ORDER_ROW = replace(ORDER_ROW, field_roles=(("item", "ArticleNumber"), ("text", "Description"),
                                            ("quantity", "OrderedQuantity"), ("price", "Price"),
                                            ("discount", "Discount"), ("discount_type", "DiscountType"),
                                            ("vat", "VAT")))
INVOICE = replace(INVOICE, field_roles=(("customer", "CustomerNumber"), ("date", "InvoiceDate"),
                                        ("currency", "Currency"), ("description", "YourReference"), ("total", "Net"),
                                        ("order_number", "OrderReference"), ("booked", "Booked"),
                                        ("cancelled", "Cancelled"), ("sync_key", "ExternalInvoiceReference1")))
INVOICE_ROW = replace(INVOICE_ROW, field_roles=(("item", "ArticleNumber"), ("text", "Description"),
                                                ("quantity", "DeliveredQuantity"), ("price", "Price"),
                                                ("discount", "Discount"), ("discount_type", "DiscountType"),
                                                ("vat", "VAT")))

ENTITIES: tuple[EntitySpec, ...] = (CUSTOMER, ARTICLE, ORDER, ORDER_ROW, INVOICE, INVOICE_ROW, EMPLOYEE)


def fortnox_catalog() -> Catalog:
    """The catalog the mapping screens and validation read for Fortnox."""
    return Catalog(system="fortnox", entities=ENTITIES)


def entity_spec(entity: Entity) -> EntitySpec:
    """The spec of one Fortnox entity; ``KeyError`` for an entity Fortnox does not offer."""
    for spec in ENTITIES:
        if spec.entity == entity:
            return spec
    raise KeyError(f"Fortnox offers no {entity}")
