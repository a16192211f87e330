"""The catalog tells the truth about the vendor's schemas."""

from __future__ import annotations

import pytest

from integrations.systems.catalog import Entity, FieldType
from integrations.systems.customers1st import provider
from integrations.systems.customers1st.catalog import PAYMENT_ARTICLE_FIELDS
from tests.integrations.systems.contract import load_spec, spec_source  # noqa: F401 - digest, and description

SPEC = "customers1st-openapi.json"
SCHEMAS = {Entity.ORGANISATION: "Customer", Entity.ITEM: "Product", Entity.POS_SALE: "POSPayment",
           Entity.DAILY_REPORT: "POSBalance", Entity.USER: "User"}


def schema(name: str) -> dict:
    return load_spec(SPEC)["components"]["schemas"][name]


@pytest.mark.parametrize("entity", list(SCHEMAS))
def test_every_field_is_a_property_of_the_vendors_schema(entity):
    spec = provider.catalog().entity(entity)
    properties = schema(SCHEMAS[entity])["properties"]
    for field in spec.fields:
        head, _, tail = field.name.partition(".")
        if field.name == "lines":
            assert "articles" in properties
            continue
        assert head in properties, f"{entity}: {field.name} is not in {SCHEMAS[entity]}"
        if tail:
            nested = properties[head]
            if "$ref" in nested:
                nested = schema(nested["$ref"].rsplit("/", 1)[1])
            assert tail in nested["properties"], field.name


@pytest.mark.parametrize("entity", list(SCHEMAS))
def test_fields_the_vendor_marks_read_only_are_read_only(entity):
    spec = provider.catalog().entity(entity)
    properties = schema(SCHEMAS[entity])["properties"]
    for field in spec.fields:
        if properties.get(field.name, {}).get("readOnly"):
            assert field.read_only, f"{entity}: {field.name} is read-only at the vendor"


def test_identity_numbers_and_change_stamps():
    catalog = provider.catalog()
    customers = catalog.entity(Entity.ORGANISATION)
    assert (customers.vendor_name, customers.id_field, customers.number_field, customers.modified_field) == (
        "customers", "id", "customerno", "updated_at")
    products = catalog.entity(Entity.ITEM)
    assert (products.number_field, products.modified_field) == ("productno", "updated_at")
    assert catalog.entity(Entity.POS_SALE).number_field == "paymentno"
    assert not catalog.supports(Entity.PERSON)
    assert not catalog.supports(Entity.INVOICE)


def test_product_custom_fields_and_variant_fields():
    products = provider.catalog().entity(Entity.ITEM)
    assert [f.name for f in products.fields if f.custom] == [f"customfield{n}" for n in range(1, 5)]
    assert {"styleno", "size", "color", "barcode"} <= {f.name for f in products.fields}
    assert products.field("title").required
    assert products.field("pricewithoutvat").read_only


def test_customer_countries_are_two_fields():
    customers = provider.catalog().entity(Entity.ORGANISATION)
    assert "phone number" in schema("Customer")["properties"]["country"]["description"]
    assert customers.field("addr_country").label == "Address country"


def test_pos_sales_carry_their_articles_as_lines():
    sales = provider.catalog().entity(Entity.POS_SALE)
    assert sales.field("lines").type == FieldType.LIST
    assert sales.field("sum").read_only
    article = schema("PaymentArticle")["properties"]
    for field in PAYMENT_ARTICLE_FIELDS:
        assert field.name.split(".")[0] in article, field.name


def test_daily_reports_are_read_only():
    balances = provider.catalog().entity(Entity.DAILY_REPORT)
    assert all(f.read_only for f in balances.fields)
    assert {"totalrevenue", "cashdifference", "totalvatbypercentage"} <= {f.name for f in balances.fields}


def test_default_mappings_name_real_fields():
    catalog = provider.catalog()
    for name in ("customerno", "name", "address", "zipcode", "city", "phone", "email", "ean"):
        assert catalog.field(Entity.ORGANISATION, name) is not None, name
    for name in ("productno", "title", "costprice", "barcode"):
        assert catalog.field(Entity.ITEM, name) is not None, name
