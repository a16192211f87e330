"""webCRM's entities and fields, under the names its REST API v1 uses (``OrganisationDto`` and friends).

Every name, type and length here comes from the definitions of webCRM's Swagger file; see
``docs/vendors/webcrm.md``. webCRM keeps its records flat, so no field name is dotted. The API
marks only the id as required; the ``required`` flags below are what webCRM's screens insist on.
"""

from __future__ import annotations

from functools import cache

from ..catalog import Catalog, Entity, EntitySpec, FieldSpec, FieldType, numbered_slots

STR, TXT, INT, DEC, BOOL, DT, MAIL, CHO, REF = (FieldType.STRING, FieldType.TEXT, FieldType.INTEGER, FieldType.DECIMAL,
                              FieldType.BOOLEAN, FieldType.DATETIME, FieldType.EMAIL, FieldType.CHOICE,
                              FieldType.REFERENCE)


def _audit(prefix: str) -> tuple[FieldSpec, ...]:
    """The stamps webCRM sets itself on every record; never writable through the API."""
    return (
        FieldSpec(f"{prefix}CreatedAt", "Created at", DT, read_only=True),
        FieldSpec(f"{prefix}CreatedBy", "Created by", STR, read_only=True),
        FieldSpec(f"{prefix}UpdatedAt", "Updated at", DT, read_only=True),
        FieldSpec(f"{prefix}UpdatedBy", "Updated by", STR, read_only=True),
    )


def organisation_spec() -> EntitySpec:
    return EntitySpec(
        Entity.ORGANISATION, "Organisations", "OrganisationId", label="Organisations",
        modified_field="OrganisationUpdatedAt",
        # webCRM has no customer number: its own ERP sync keeps the ERP's in a custom field
        field_roles=(("number", "OrganisationExtraCustom1"), ("vat", "OrganisationVatNumber"),
                     ("name", "OrganisationName"), ("type", "OrganisationType"), ("status", "OrganisationStatus")),
        fields=(
            FieldSpec("OrganisationId", "Id", INT, read_only=True),
            FieldSpec("OrganisationName", "Name", STR, required=True, max_length=200),
            FieldSpec("OrganisationDivisionName", "Division", STR, max_length=200),
            FieldSpec("OrganisationType", "Type", CHO,
                      help="A value of the customer's own Type list, e.g. Kunde or Prospekt."),
            FieldSpec("OrganisationStatus", "Status", CHO),
            FieldSpec("OrganisationAddress", "Address", TXT, max_length=250),
            FieldSpec("OrganisationPostCode", "Post code", STR),
            FieldSpec("OrganisationCity", "City", STR, max_length=50),
            FieldSpec("OrganisationState", "State", STR),
            FieldSpec("OrganisationCountry", "Country", STR, max_length=50, value_kind="country_name",
                      help="A localised country name (Danmark, Sverige), not an ISO code."),
            FieldSpec("OrganisationTelephone", "Telephone", STR, max_length=50),
            FieldSpec("OrganisationFax", "Fax", STR, max_length=50),
            FieldSpec("OrganisationWww", "Website", STR, max_length=50),
            FieldSpec("OrganisationDomain", "E-mail domain", STR, max_length=50),
            FieldSpec("OrganisationIndustry", "Industry", STR, max_length=50),
            FieldSpec("OrganisationVatNumber", "VAT number", STR, max_length=50),
            FieldSpec("OrganisationVatCountry", "VAT country", STR, max_length=10),
            FieldSpec("OrganisationVatGroup", "VAT group", STR, max_length=20),
            FieldSpec("OrganisationAlert", "Alert", STR, max_length=50),
            FieldSpec("OrganisationComment", "Comment", TXT),
            FieldSpec("OrganisationMemo", "Memo", TXT),
            FieldSpec("OrganisationNoAds", "No advertising", BOOL),
            FieldSpec("OrganisationOwner", "Owner (user id)", REF),
            FieldSpec("OrganisationOwner2", "Second owner (user id)", REF),
            FieldSpec("OrganisationTerritoryId", "Territory id", REF),
            FieldSpec("OrganisationCompareName", "Compare name", STR, read_only=True, max_length=500),
            FieldSpec("OrganisationTelephoneSearch", "Telephone (search)", STR, read_only=True),
            FieldSpec("OrganisationLastItemUpdatedAt", "Last item updated at", DT, read_only=True),
            *_audit("Organisation"),
            *numbered_slots("OrganisationExtraCustom", 1, 8, label="Extra custom", max_length=50),
            *numbered_slots("OrganisationCustom", 1, 15, label="Custom"),
            *numbered_slots("OrganisationPlus", 1, 20, label="Plus field"),
            *numbered_slots("OrganisationXText", 1, 8, label="Extra text", max_length=50),
            *numbered_slots("OrganisationXInt", 1, 8, label="Extra number", type=INT),
            *numbered_slots("OrganisationXDate", 1, 2, label="Extra date", type=DT),
            *numbered_slots("OrganisationXMemo", 1, 2, label="Extra memo", type=TXT),
        ),
    )


def person_spec() -> EntitySpec:
    return EntitySpec(
        Entity.PERSON, "Persons", "PersonId", label="Persons", modified_field="PersonUpdatedAt",
        field_roles=(("email", "PersonEmail"), ("name", "PersonName"), ("relevant", "PersonCheckMark1"),
                     ("organisation", "PersonOrganisationId")),
        fields=(
            FieldSpec("PersonId", "Id", INT, read_only=True),
            FieldSpec("PersonOrganisationId", "Organisation id", REF, required=True),
            FieldSpec("PersonName", "Full name", STR,
                      help="webCRM fills it from first, middle and last name."),
            FieldSpec("PersonFirstName", "First name", STR),
            FieldSpec("PersonMiddleName", "Middle name", STR),
            FieldSpec("PersonLastName", "Last name", STR),
            FieldSpec("PersonSalutation", "Salutation", STR),
            FieldSpec("PersonTitle", "Title", STR),
            FieldSpec("PersonEmail", "E-mail", MAIL),
            FieldSpec("PersonEmail2", "Second e-mail", MAIL),
            FieldSpec("PersonDirectPhone", "Direct phone", STR),
            FieldSpec("PersonMobilePhone", "Mobile phone", STR),
            FieldSpec("PersonSkype", "Skype", STR),
            FieldSpec("PersonBirthday", "Birthday", DT),
            FieldSpec("PersonStatus", "Status", CHO, choices=("Active", "Resigned", "Other", "Guest")),
            FieldSpec("PersonBlockMassEmail", "Block mass e-mail", BOOL),
            FieldSpec("PersonComment", "Comment", TXT),
            FieldSpec("PersonMemo", "Memo", TXT),
            FieldSpec("PersonSortOrder", "Sort order", INT),
            FieldSpec("PersonTelephoneSearch", "Telephone (search)", STR, read_only=True),
            *_audit("Person"),
            *numbered_slots("PersonCheckMark", 1, 10, label="Check mark", type=BOOL,
                            help="A yes/no flag such as 'relevant for ERP'."),
            *numbered_slots("PersonCustom", 1, 15, label="Custom"),
            *numbered_slots("PersonPlus", 1, 20, label="Plus field"),
        ),
    )


#: Prefix of the quotation-line item register's fields (``QuotationLineLinkedDataItemDto``).
LINKED = "QuotationLineLinkedDataItem"
#: ``QuotationLineLinkedDataItemEntityType`` in the order of the API description's enum; webCRM's own ERP sync
#: writes its items as ``Product`` and selects them with the enum's number in ``/Queries``.
LINKED_DATA_ENTITY_TYPES = ("Undefined", "Organisation", "Person", "Activity", "Meeting", "Opportunity", "Delivery",
                            "Product", "SupportCase", "SupportFaq")


def item_spec() -> EntitySpec:
    """The item register users pick quotation lines from: ``/QuotationLines/LinkedData``.

    Not ``/Products``, whose records belong to one organisation each. webCRM's own ERP sync writes ERP items
    here (erp ``CreateProduct``/``UpdateProduct``) and keeps the item number in a data column; a quotation line
    made from an item copies data column *n* into ``QuotationLineData<n>``. The register keeps no change stamp.
    """
    return EntitySpec(
        Entity.ITEM, "QuotationLines/LinkedData", f"{LINKED}Id", label="Items (quotation-line register)",
        field_roles=(("number", f"{LINKED}Data1"), ("name", f"{LINKED}Data2")),
        fields=(
            FieldSpec(f"{LINKED}Id", "Id", INT, read_only=True),
            FieldSpec(f"{LINKED}Data1", "Item number (data column 1)", STR, required=True,
                      help="Copied to a quotation line's data column 1 when a user picks the item."),
            FieldSpec(f"{LINKED}Data2", "Name (data column 2)", STR, required=True),
            *numbered_slots(f"{LINKED}Data", 3, 9, label="Data column",
                            help="A column of the quotation-line setup, e.g. unit or EAN."),
            FieldSpec(f"{LINKED}DataMemo", "Description", STR),
            FieldSpec(f"{LINKED}Price", "Price", DEC),
            FieldSpec(f"{LINKED}CostPrice", "Cost price", DEC),
            FieldSpec(f"{LINKED}VatCode", "VAT code", STR),
            FieldSpec(f"{LINKED}ItemGroup", "Item group", STR),
            FieldSpec(f"{LINKED}EntityType", "Kind of linked data", CHO, choices=LINKED_DATA_ENTITY_TYPES,
                      help="Synkro writes Product, as webCRM's own ERP integration does."),
        ),
        create_defaults=((f"{LINKED}EntityType", "Product"),),
    )


def delivery_spec() -> EntitySpec:
    return EntitySpec(
        Entity.DELIVERY, "Deliveries", "DeliveryId", label="Deliveries", number_field="DeliveryNumber",
        modified_field="DeliveryUpdatedAt",
        # Document roles: where a delivery keeps what the engine reads and writes. The ERP's document
        # number and state go to DeliveryErpId and DeliveryCustom1 (see docs/decisions.md).
        field_roles=(("number", "DeliveryNumber"), ("customer", "DeliveryOrganisationId"),
                     ("date", "DeliveryOrderDate"), ("currency", "DeliveryCurrencyName"),
                     ("description", "DeliveryDescription"), ("status", "DeliveryStatus"),
                     ("sync_status", "DeliveryErpStatus"), ("erp_id", "DeliveryErpId"),
                     ("erp_state", "DeliveryCustom1"), ("erp_synced_at", "DeliveryErpSyncDateTime"),
                     ("total", "DeliveryOrderValue"), ("margin", "DeliveryOrderGmValue")),
        fields=(
            FieldSpec("DeliveryId", "Id", INT, read_only=True),
            FieldSpec("DeliveryNumber", "Number", STR),
            FieldSpec("DeliveryOrganisationId", "Organisation id", REF, required=True),
            FieldSpec("DeliveryPersonId", "Person id", REF),
            FieldSpec("DeliveryResponsible", "Responsible (user id)", REF),
            FieldSpec("DeliveryAssignedTo", "Assigned to (user id)", REF),
            FieldSpec("DeliveryAssignedTo2", "Second assignee (user id)", REF),
            FieldSpec("DeliveryStatus", "Status", CHO,
                      choices=("New", "Planned", "OnGoing", "Completed", "GeneralDelivery")),
            FieldSpec("DeliveryDescription", "Description", STR),
            FieldSpec("DeliveryProduct", "Product", STR),
            FieldSpec("DeliveryOrderDate", "Order date", DT),
            FieldSpec("DeliveryWonDate", "Won date", DT),
            FieldSpec("DeliveryNextFollowUp", "Next follow-up", DT),
            FieldSpec("DeliveryOrderValue", "Order value", DEC),
            FieldSpec("DeliveryOrderGmValue", "Order contribution margin", DEC),
            FieldSpec("DeliveryDiscount", "Discount", DEC),
            FieldSpec("DeliveryCurrencyName", "Currency", STR),
            FieldSpec("DeliveryComment", "Comment", TXT),
            FieldSpec("DeliveryNote", "Note", TXT),
            FieldSpec("DeliveryMemo", "Memo", TXT),
            FieldSpec("DeliveryErpId", "ERP id", STR),
            FieldSpec("DeliveryErpStatus", "ERP status", CHO,
                      choices=("NotReadyForSynchronization", "ReadyForSynchronization", "Synchronized")),
            FieldSpec("DeliveryErpReadOnly", "ERP read-only", STR),
            FieldSpec("DeliveryErpSyncDateTime", "ERP synchronised at", DT),
            *_audit("Delivery"),
            *numbered_slots("DeliveryCustom", 1, 15, label="Custom"),
            *numbered_slots("DeliveryPlus", 1, 20, label="Plus field"),
        ),
    )


def delivery_line_spec() -> EntitySpec:
    return EntitySpec(
        Entity.DELIVERY_LINE, "QuotationLines", "QuotationLineId", label="Quotation lines",
        modified_field="QuotationLineUpdatedAt",
        # The quotation-line setup's first two data columns hold the item number and the line text.
        field_roles=(("item", "QuotationLineData1"), ("text", "QuotationLineData2"),
                     ("quantity", "QuotationLineQuantity"), ("price", "QuotationLinePrice"),
                     ("discount", "QuotationLineDiscount"), ("vat", "QuotationLineVatPercentage"),
                     ("cost", "QuotationLineCostPrice"), ("list_price", "QuotationLineListPrice"),
                     ("position", "QuotationLineSortOrder")),
        fields=(
            FieldSpec("QuotationLineId", "Id", INT, read_only=True),
            FieldSpec("QuotationLineOpportunityId", "Delivery id", REF, read_only=True,
                      help="The delivery the line belongs to; set from the delivery."),
            FieldSpec("QuotationLineOrganisationId", "Organisation id", REF, read_only=True),
            FieldSpec("QuotationLinePersonId", "Person id", REF),
            FieldSpec("QuotationLineLinkedDataId", "Linked data item id", REF),
            *numbered_slots("QuotationLineData", 1, 9, label="Data column",
                            help="Columns of the quotation-line setup, e.g. item number and description."),
            FieldSpec("QuotationLineQuantity", "Quantity", DEC),
            FieldSpec("QuotationLinePrice", "Price", DEC),
            FieldSpec("QuotationLineListPrice", "List price", DEC),
            FieldSpec("QuotationLineCostPrice", "Cost price", DEC),
            FieldSpec("QuotationLineDiscount", "Discount", DEC),
            FieldSpec("QuotationLineVatPercentage", "VAT %", DEC),
            FieldSpec("QuotationLineSortOrder", "Sort order", INT),
            FieldSpec("QuotationLineStockStatus", "Stock status", STR),
            FieldSpec("QuotationLineComment", "Comment", TXT),
            FieldSpec("QuotationLineMemo", "Memo", TXT),
            *_audit("QuotationLine"),
        ),
    )


def user_spec() -> EntitySpec:
    return EntitySpec(
        Entity.USER, "Users", "UserId", label="Users", modified_field="UserUpdatedAt",
        field_roles=(("email", "UserEmail"), ("name", "UserName")),
        fields=(
            FieldSpec("UserId", "Id", INT, read_only=True),
            FieldSpec("UserName", "Name", STR, required=True),
            FieldSpec("UserInitials", "Initials", STR),
            FieldSpec("UserEmail", "E-mail", MAIL),
            FieldSpec("UserTitle", "Title", STR),
            FieldSpec("UserTelephone", "Telephone", STR),
            FieldSpec("UserMobilePhone", "Mobile phone", STR),
            FieldSpec("UserLoginName", "Login name", STR),
            FieldSpec("UserGroupId", "User group id", REF),
            FieldSpec("UserIntegrationId", "Integration id", STR,
                      help="Free text for the id of the user in another system, e.g. the ERP employee."),
            FieldSpec("UserCurrencyName", "Currency", STR),
            FieldSpec("UserLanguageId", "Language id", INT),
            FieldSpec("UserIsRestApiEnabled", "REST API enabled", BOOL),
            FieldSpec("UserLastLoginDateTime", "Last login", DT, read_only=True),
            FieldSpec("UserMemo", "Memo", TXT),
            *_audit("User"),
            *numbered_slots("UserCustom", 1, 15, label="Custom"),
        ),
    )


@cache
def webcrm_catalog() -> Catalog:
    """Built once: the catalog is immutable and the mapping screens ask for it often."""
    return Catalog(system="webcrm", entities=(
        organisation_spec(), person_spec(), item_spec(), delivery_spec(), delivery_line_spec(), user_spec(),
    ))
