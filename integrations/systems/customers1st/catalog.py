"""What Customers 1st offers, under the names of its OpenAPI description (``customers1st-openapi.json``).

Lengths are the description's ``maxLength`` (schema ``Product``: 255 for its text fields); ``Customer`` and
``PaymentArticle`` give none, so their text fields have no known limit.

Customers are Synkro's organisations, products its items, POS payments its POS sales (the payment's
``articles`` are the sale's ``lines``) and POS balances ("kasseopgørelse") its daily reports.
Registers have no Synkro entity of their own: sales and daily reports refer to them by
``cashRegisterId`` / ``cashregisterid`` and the client lists them for the POS settings.
"""

from __future__ import annotations

from ..catalog import Catalog, Entity, EntitySpec, FieldSpec, FieldType, numbered_slots

S, T, INT, D = FieldType.STRING, FieldType.TEXT, FieldType.INTEGER, FieldType.DECIMAL
DT, DA, E, R, L = FieldType.DATETIME, FieldType.DATE, FieldType.EMAIL, FieldType.REFERENCE, FieldType.LIST
B, C = FieldType.BOOLEAN, FieldType.CHOICE

#: ``PaymentStatus`` in the spec.
PAYMENT_STATUSES = ("initialized", "parked", "in_progress", "completed", "cancelled")
#: ``VATMode`` in the spec.
VAT_MODES = ("normal", "second_hand")


def _ro(name: str, label: str, type: FieldType = S, **kwargs) -> FieldSpec:
    return FieldSpec(name, label, type, read_only=True, **kwargs)


CUSTOMER_FIELDS: tuple[FieldSpec, ...] = (
    _ro("id", "Customer ID", INT),
    _ro("storeid", "Store ID", INT),
    _ro("createddate", "Created", DT),
    FieldSpec("customerno", "Customer number", S),
    FieldSpec("name", "Name", S),
    FieldSpec("phone", "Phone", S, help="With country code, e.g. +4533608586"),
    _ro("phone_e164", "Phone (E.164)"),
    FieldSpec("country", "Phone country", S, help="ISO 3166-1 alpha-2 of the phone number, lower case",
              value_kind="country_code_lower"),
    FieldSpec("email", "E-mail", E),
    FieldSpec("address", "Address", S),
    FieldSpec("zipcode", "Zip code", S),
    FieldSpec("city", "City", S),
    FieldSpec("addr_country", "Address country", S, help="ISO 3166-1 alpha-2, lower case",
              value_kind="country_code_lower"),
    _ro("lat", "Latitude", D),
    _ro("lng", "Longitude", D),
    FieldSpec("birthdate", "Birth date", DA),
    FieldSpec("ean", "EAN (GLN)", S, help="Must be a valid EAN"),
    FieldSpec("vat", "VAT/CVR number", S),
    FieldSpec("economic_customernumber", "e-conomic customer number", INT),
    FieldSpec("balance", "Balance", D, value_kind="amount"),
    FieldSpec("note", "Note", T),
    FieldSpec("draft", "Draft (0/1)", INT),
    _ro("deleted", "Deleted (0/1)", INT),
    FieldSpec("tags", "Tags", L),
    FieldSpec("permission_marketing", "Marketing permission given", DT),
    _ro("updated_at", "Updated", DT),
    _ro("deleted_at", "Deleted at", DT),
    _ro("loyaltypointsbalance", "Loyalty points", D),
    _ro("loyalty_member_since", "Loyalty member since", DT),
    _ro("store.id", "Partner store ID", INT),
    _ro("store.title", "Partner store"),
)

PRODUCT_FIELDS: tuple[FieldSpec, ...] = (
    _ro("id", "Product ID", INT),
    FieldSpec("productno", "Product number", S, max_length=255, help="Unique unless serieno is set"),
    FieldSpec("title", "Title", S, max_length=255, required=True),
    FieldSpec("barcode", "Barcode", S, max_length=255, help="Unique"),
    FieldSpec("alternativebarcode", "Alternative barcode", S, max_length=255),
    FieldSpec("serieno", "Serial number", S, max_length=255),
    FieldSpec("price", "Price", D, help="Incl. VAT unless the store config prices_include_vat says otherwise"),
    _ro("pricewithoutvat", "Price excl. VAT", D),
    FieldSpec("costprice", "Cost price excl. VAT", D),
    FieldSpec("recommendedretailprice", "Recommended retail price", D),
    FieldSpec("discountprice", "Discount price", D),
    FieldSpec("vat", "VAT %", D, help="Normally empty: the store's default VAT applies"),
    FieldSpec("vatmode", "VAT mode", C, choices=VAT_MODES),
    FieldSpec("stockno", "Stock", INT, help="Empty turns stock keeping off"),
    FieldSpec("stockmin", "Minimum stock", INT),
    FieldSpec("stockmax", "Maximum stock", INT),
    FieldSpec("styleno", "Style number", S, max_length=255, help="Variants of one style share it"),
    FieldSpec("size", "Size", S, max_length=255),
    FieldSpec("color", "Colour", S, max_length=255),
    FieldSpec("brand", "Brand", S, max_length=255),
    *numbered_slots("customfield", 1, 4, label="Custom field", max_length=255),
    FieldSpec("tags", "Product tags", L),
    FieldSpec("suppliers", "Suppliers", L),
    _ro("suppliername", "Supplier name (obsolete)", max_length=255),
    FieldSpec("webshopurl", "Webshop URL", S),
    FieldSpec("availabletoorder", "Available to order (0/1)", INT),
    FieldSpec("syncproductdatawebshop", "Sync to webshop", B),
    _ro("reservedstock", "Reserved stock", INT),
    _ro("totalstock", "Total stock (serial numbers)", INT),
    _ro("needsordering", "Needs ordering", INT),
    _ro("calculcatedvat", "VAT amount of price", D),
    _ro("created", "Created", DT),
    _ro("updated_at", "Updated", DT),
    _ro("storeid", "Store ID", INT),
)

#: The fields of one line (``PaymentArticle``) of a POS payment, under ``lines``.
PAYMENT_ARTICLE_FIELDS: tuple[FieldSpec, ...] = (
    _ro("id", "Line ID", INT),
    FieldSpec("productid", "Product ID", R),
    FieldSpec("productno", "Product number (vouchers and deposits)", S),
    _ro("product.productno", "Product number"),
    FieldSpec("title", "Title", S, required=True),
    FieldSpec("quantity", "Quantity", D, required=True),
    FieldSpec("price", "Price", D, required=True, help="Incl. VAT by default; negative on a discount line"),
    _ro("pricewithoutvat", "Price excl. VAT", D),
    FieldSpec("costprice", "Cost price", D),
    FieldSpec("vat", "VAT %", D, required=True),
    _ro("vatamount", "VAT amount", D),
    FieldSpec("vatmode", "VAT mode", C, choices=VAT_MODES),
    FieldSpec("discountToken", "Discount token", D, help="Matched by a discount line's discountedToken"),
    FieldSpec("discountedToken", "Discounted token", D, help="Set on a discount line: the token it discounts"),
    _ro("discount_ppm_id", "Discount line ID", INT),
    FieldSpec("giftcardno", "Gift card issued", S),
    FieldSpec("usedGiftcardId", "Gift card used", R),
)

POS_PAYMENT_FIELDS: tuple[FieldSpec, ...] = (
    _ro("id", "Payment ID", INT),
    _ro("paymentno", "Payment number", INT),
    _ro("date", "Date", DT),
    _ro("userid", "Cashier ID", R),
    _ro("user.name", "Cashier"),
    FieldSpec("customerid", "Customer ID", R),
    _ro("customer.customerno", "Customer number"),
    _ro("customer.name", "Customer name"),
    FieldSpec("cashRegisterId", "Register ID", R),
    _ro("cashregister.title", "Register"),
    _ro("numberofmaterials", "Number of articles", D),
    _ro("sum", "Sum", D),
    _ro("discountsum", "Discount sum", D),
    _ro("paidwithcash", "Paid with cash", D),
    FieldSpec("remainingamount", "Remaining amount", D),
    FieldSpec("invoice", "Invoice (debtor) sale (0/1)", INT),
    FieldSpec("customerpayment", "Customer payment (0/1)", INT),
    FieldSpec("status", "Status", C, choices=PAYMENT_STATUSES),
    FieldSpec("returnpaymentid", "Returned payment ID", R),
    FieldSpec("note", "Note", T),
    FieldSpec("paymenttypes", "Payment types", L, help="title, amount, cash, paymenttypeid, accountno, currency"),
    FieldSpec("lines", "Articles", L, required=True, help="The payment's articles"),
    _ro("updated_at", "Updated", DT),
)

POS_BALANCE_FIELDS: tuple[FieldSpec, ...] = (
    _ro("id", "Balance ID", INT),
    _ro("date", "Date", DT),
    _ro("startdate", "Started", DT),
    _ro("enddate", "Ended", DT),
    _ro("cashregisterid", "Register ID", R),
    _ro("cashregistertitle", "Register"),
    _ro("userid", "Cashier ID", R),
    _ro("numpayments", "Number of payments", INT),
    _ro("startpaymentno", "First payment number", INT),
    _ro("endpaymentno", "Last payment number", D),
    _ro("cashstart", "Cash at start", D),
    _ro("cashcounted", "Cash counted", D),
    _ro("cashrevenue", "Cash revenue", D),
    _ro("cashtobank", "Cash to bank", D),
    _ro("cashdifference", "Cash difference", D),
    _ro("expense", "Expense", D),
    _ro("totalrevenue", "Total revenue", D),
    _ro("totalvat", "Total VAT", D),
    _ro("totalvatbypercentage", "VAT by percentage", L),
    _ro("totalcostprice", "Total cost price", D),
    _ro("returnsum", "Returns", D),
    _ro("giftcardissued", "Gift cards issued", D),
    _ro("giftcardused", "Gift cards used", D),
    _ro("customerpaymentsum", "Customer payments", D),
    _ro("paymenttypes", "Payment types", L),
    _ro("note", "Note", T),
)

USER_FIELDS: tuple[FieldSpec, ...] = (
    _ro("id", "User ID", INT),
    FieldSpec("name", "Name", S, required=True),
    FieldSpec("email", "E-mail", E),
    FieldSpec("shopuser", "Sells in the shop (0/1)", INT),
    FieldSpec("apiuser", "API user (0/1)", INT),
    FieldSpec("showincalendar", "Shown in calendar (0/1)", INT),
    _ro("deleted", "Deleted (0/1)", INT),
    _ro("mainuser", "Main user", INT),
)


def build_catalog() -> Catalog:
    """The entities Synkro syncs with Customers 1st."""
    return Catalog(system="customers1st", entities=(
        EntitySpec(Entity.ORGANISATION, "customers", "id", CUSTOMER_FIELDS, label="Customer",
                   number_field="customerno", modified_field="updated_at",
                   field_roles=(("vat", "vat"), ("name", "name"), ("email", "email"))),
        EntitySpec(Entity.ITEM, "products", "id", PRODUCT_FIELDS, label="Product",
                   number_field="productno", modified_field="updated_at", field_roles=(("name", "title"),)),
        EntitySpec(Entity.POS_SALE, "pospayments", "id", POS_PAYMENT_FIELDS, label="POS payment",
                   number_field="paymentno", modified_field="updated_at"),
        EntitySpec(Entity.DAILY_REPORT, "posbalances", "id", POS_BALANCE_FIELDS, label="POS balance",
                   modified_field="date"),
        EntitySpec(Entity.USER, "users", "id", USER_FIELDS, label="User",
                   field_roles=(("email", "email"), ("name", "name"))),
    ))
