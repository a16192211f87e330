"""Types describing what an external system offers: entities and their fields.

Each system's ``catalog.py`` builds one :class:`Catalog` from these. The mapping screens offer
fields from it and the mapping validation checks types, read-only flags and required fields
against it, so it must say the truth about the vendor's API.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum


class Entity(StrEnum):
    """The business entities Synkro syncs, in Synkro's own words."""

    ORGANISATION = "organisation"
    PERSON = "person"
    ITEM = "item"
    DELIVERY = "delivery"
    DELIVERY_LINE = "delivery_line"
    INVOICE = "invoice"
    INVOICE_LINE = "invoice_line"
    USER = "user"
    POS_SALE = "pos_sale"
    DAILY_REPORT = "daily_report"
    JOURNAL_LINE = "journal_line"


class FieldType(StrEnum):
    STRING = "string"
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    EMAIL = "email"
    CHOICE = "choice"
    REFERENCE = "reference"
    LIST = "list"


#: Words in a field's name that mark an identifier, code or address (CustomerNumber, ZipCode, VatNumber, EAN …).
_EXACT_WORDS = re.compile(r"number|code|account|phone|mobil|fax|zip|postal|ean|gln|vat|iban|swift|bic|mail|"
                          r"www|url|web|domain|currency|ocr|no$", re.IGNORECASE)
#: An id by name: "id", "…Id", "…_id", "…ID" (not the "id" inside "Paid" or "Guide").
_EXACT_ID = re.compile(r"(^id$|[a-z0-9]Id$|_id$|ID$)")


@dataclass(frozen=True)
class FieldSpec:
    """One field of a vendor entity, under the vendor's own name."""

    name: str
    label: str = ""
    type: FieldType = FieldType.STRING
    required: bool = False
    read_only: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    #: A free slot the customer gives meaning to (webCRM OrganisationExtraCustom3, Uniconta xStyleNo).
    custom: bool = False
    help: str = ""
    #: What the value means beyond its type, where the sync must convert it: "country_name" (a localised
    #: name), "country_code" / "country_code_lower" (ISO 3166-1 alpha-2), "country_enum" (a .NET enum name),
    #: "country_name_en" (an English name), "amount" (money). See integrations/engine/values.py.
    value_kind: str = ""

    @property
    def display(self) -> str:
        return f"{self.label} ({self.name})" if self.label and self.label != self.name else self.name

    @property
    def exact(self) -> bool:
        """Whether a value must arrive whole or not at all: numbers, codes, identifiers, e-mails, phones, web
        addresses and every field of another kind than free text. A shortened customer number, VAT number or
        e-mail address names something else, so such a value is never cut (see ``engine.limits``)."""
        if self.type not in (FieldType.STRING, FieldType.TEXT) or self.value_kind:
            return True
        return bool(_EXACT_WORDS.search(self.name) or _EXACT_ID.search(self.name))


@dataclass(frozen=True)
class EntitySpec:
    """One entity of a vendor: its resource name, id field and fields."""

    entity: Entity
    vendor_name: str
    id_field: str
    fields: tuple[FieldSpec, ...]
    label: str = ""
    #: The field holding the human number (customer number, item number), when there is one.
    number_field: str | None = None
    #: The field holding the last-modified timestamp, when the vendor keeps one.
    modified_field: str | None = None
    #: The field holding the creation timestamp, for entities with no modification time (Uniconta debtors):
    #: enough to tell a record made after an integration was switched on from an older one.
    created_field: str | None = None
    #: Whether the vendor lets the customer add user-defined fields by name (Uniconta).
    open_custom_fields: bool = False
    #: Fields the sync rules look for, by role: "number", "vat", "name", "email" (matching, design §1),
    #: "type", "status" (organisation triggers), "relevant" (persons' "relevant for ERP" default).
    field_roles: tuple[tuple[str, str], ...] = ()
    #: Values a record gets when Synkro creates it (e.g. Uniconta employees are made as sellers).
    create_defaults: tuple[tuple[str, object], ...] = ()

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"{self.vendor_name}: duplicate fields {sorted(duplicates)}")

    def exact_fields(self) -> set[str]:
        """Fields whose value must arrive whole: each field's own :attr:`FieldSpec.exact`, the id, the number and
        the fields the sync rules match by (number, VAT, e-mail) or link through (organisation, customer, item)."""
        names = {f.name for f in self.fields if f.exact} | {self.id_field}
        if self.number_field:
            names.add(self.number_field)
        roles = ("number", "vat", "email", "organisation", "customer", "item")
        return names | {name for role, name in self.field_roles if role in roles}

    def role(self, role: str) -> str | None:
        """The field playing ``role`` on this entity, if any (the number field is the "number" role)."""
        found = dict(self.field_roles).get(role)
        if found is None and role == "number":
            return self.number_field
        return found

    def field(self, name: str) -> FieldSpec | None:
        for spec in self.fields:
            if spec.name == name:
                return spec
        return None

    def __iter__(self) -> Iterator[FieldSpec]:
        return iter(self.fields)


@dataclass(frozen=True)
class Catalog:
    """All entities of one system."""

    system: str
    entities: tuple[EntitySpec, ...] = field(default_factory=tuple)

    def entity(self, entity: Entity | str) -> EntitySpec | None:
        for spec in self.entities:
            if spec.entity == entity:
                return spec
        return None

    def field(self, entity: Entity | str, name: str) -> FieldSpec | None:
        spec = self.entity(entity)
        return spec.field(name) if spec else None

    def supports(self, entity: Entity | str) -> bool:
        return self.entity(entity) is not None


def numbered_slots(
    prefix: str, start: int, stop: int, *, label: str, type: FieldType = FieldType.STRING, **kwargs
) -> Iterable[FieldSpec]:
    """Custom-field slots such as OrganisationExtraCustom1..8, numbered inclusively."""
    for number in range(start, stop + 1):
        yield FieldSpec(
            name=f"{prefix}{number}", label=f"{label} {number}", type=type, custom=True, **kwargs
        )
