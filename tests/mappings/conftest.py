import pytest

from integrations.systems.catalog import Catalog, Entity, EntitySpec, FieldSpec, FieldType
from mappings import defaults, selectors

WEBCRM = Catalog("webcrm", (
    EntitySpec(Entity.ORGANISATION, "Organisations", "OrganisationId", (
        FieldSpec("OrganisationId", type=FieldType.INTEGER, read_only=True),
        FieldSpec("OrganisationName", required=True), FieldSpec("OrganisationType", type=FieldType.CHOICE),
        FieldSpec("OrganisationAddress"), FieldSpec("OrganisationPostCode"), FieldSpec("OrganisationCity"),
        FieldSpec("OrganisationTelephone"), FieldSpec("OrganisationWww"), FieldSpec("OrganisationVatNumber"),
        *[FieldSpec(f"OrganisationExtraCustom{n}", custom=True, max_length=50) for n in range(1, 9)],
    )),
    EntitySpec(Entity.PERSON, "Persons", "PersonId", (
        FieldSpec("PersonId", type=FieldType.INTEGER, read_only=True), FieldSpec("PersonName"),
        FieldSpec("PersonEmail", type=FieldType.EMAIL), FieldSpec("PersonMobilePhone"), FieldSpec("PersonTitle"),
        *[FieldSpec(f"PersonCheckMark{n}", type=FieldType.BOOLEAN, custom=True) for n in range(1, 4)],
    )),
    EntitySpec(Entity.DELIVERY, "Deliveries", "DeliveryId", (FieldSpec("DeliveryDescription"),)),
    EntitySpec(Entity.USER, "Users", "UserId", (FieldSpec("UserName"), FieldSpec("UserEmail"),
                                                FieldSpec("UserMobilePhone"))),
))
UNICONTA = Catalog("uniconta", (
    EntitySpec(Entity.ORGANISATION, "DebtorClient", "RowId", (
        FieldSpec("Account"), FieldSpec("Name", required=True), FieldSpec("Address1"), FieldSpec("ZipCode"),
        FieldSpec("City"), FieldSpec("Phone"), FieldSpec("Www"), FieldSpec("CompanyRegNo"),
        FieldSpec("EAN", read_only=True), FieldSpec("Payment", read_only=True), FieldSpec("Group", read_only=True),
        FieldSpec("ContactEmail", type=FieldType.EMAIL), FieldSpec("CreditMax", type=FieldType.DECIMAL),
    ), number_field="Account", open_custom_fields=True),
    EntitySpec(Entity.PERSON, "ContactClient", "RowId", (
        FieldSpec("Name"), FieldSpec("Email", type=FieldType.EMAIL), FieldSpec("Mobil"), FieldSpec("Title"))),
    EntitySpec(Entity.ITEM, "InvItemClient", "RowId", (FieldSpec("Item"), FieldSpec("Name"))),
    EntitySpec(Entity.DELIVERY, "DebtorOrderClient", "RowId", (FieldSpec("OrderNumber"),)),
    EntitySpec(Entity.INVOICE, "DebtorInvoiceClient", "RowId", (FieldSpec("InvoiceNumber"),)),
    EntitySpec(Entity.USER, "EmployeeClient", "RowId", (FieldSpec("Name"), FieldSpec("Email"), FieldSpec("Mobil"))),
))
CUSTOMERS1ST = Catalog("customers1st", (
    EntitySpec(Entity.ORGANISATION, "customers", "id", (FieldSpec("customerno"), FieldSpec("name"),
                                                          FieldSpec("email"))),
    EntitySpec(Entity.ITEM, "products", "id", (FieldSpec("productno"), FieldSpec("title"))),
))
FAKE = {"webcrm": WEBCRM, "uniconta": UNICONTA, "customers1st": CUSTOMERS1ST}


@pytest.fixture(autouse=True)
def fake_catalogs(monkeypatch):
    """Small, fixed catalogs so these tests speak of the screens, not of the vendors' field lists."""
    def catalog_of(system):
        return FAKE.get(system, Catalog(system))

    monkeypatch.setattr(selectors, "catalog_of", catalog_of)
    monkeypatch.setattr(defaults, "catalog_of", catalog_of)
