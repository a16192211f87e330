"""The webCRM simulator's data: tables of records, hook subscriptions, webCRM's checks and ``/Queries``.

Kept apart from the WSGI routes so the rules of the data (what webCRM refuses, what it fills in
itself, how its SQL-like change queries select rows) read on their own. Callers hold the sandbox's
lock around every call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..catalog import Entity, EntitySpec, FieldType
from ..sandbox import SandboxError, Table
from .catalog import LINKED, LINKED_DATA_ENTITY_TYPES, webcrm_catalog
from .client import DATA_COLUMNS, RESOURCES, TIMESTAMP_FORMAT

#: Resource path → catalog entity, e.g. "Organisations" → organisation.
ENTITY_OF_PATH = {resource.path: entity for entity, resource in RESOURCES.items()}
#: ``/Queries`` table name (any case) → resource path.
PATH_OF_TABLE = {resource.table.lower(): resource.path for resource in RESOURCES.values()}
HOOK_EVENTS = ("Create", "Update", "Delete")
#: The quotation-line item register (spec ``/QuotationLines/LinkedData``).
REGISTER = RESOURCES[Entity.ITEM].path
#: Resources with hooks, and the ``Filter`` values each hook DTO allows — spec ``OrganisationHookDto`` & co.
HOOK_FILTERS: dict[str, tuple[str, ...]] = {
    "Organisations": ("All", "Owner", "Owner2"),
    "Persons": ("All", "OrganisationOwner", "OrganisationOwner2"),
    "Deliveries": ("All", "Responsible", "Responsible2", "Responsible3", "OrganisationOwner", "OrganisationOwner2"),
    "QuotationLines": ("All", "OrganisationOwner", "OrganisationOwner2"),
    "Users": ("All", "Current"),
}
#: What the hook DTOs mark as required (spec): a body without one of them is refused.
HOOK_REQUIRED = ("Filter", "Id", "IsEnabled", "TargetUrl")
#: Fields a read leaves out: ``QuotationLineDto`` (what GET answers) has no ``QuotationLineLinkedDataId``, which
#: only ``QuotationLineUpdateDto`` (what POST/PUT take) carries — spec.
WRITE_ONLY = {"QuotationLines": ("QuotationLineLinkedDataId",)}


def bad_request(message: str) -> SandboxError:
    """webCRM's 400, in the same ``{Message, Type}`` family as its documented 429 body."""
    return SandboxError(400, {"Message": message, "Type": "BadRequestException"})


def not_found(message: str) -> SandboxError:
    return SandboxError(404, {"Message": message, "Type": "NotFoundException"})


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class WebcrmStore:
    """All records of one simulated webCRM database."""

    now: Callable[[], datetime] = utc_now
    tables: dict[str, Table] = field(default_factory=lambda: {path: Table() for path in ENTITY_OF_PATH})
    hooks: dict[str, Table] = field(default_factory=lambda: {path: Table() for path in HOOK_FILTERS})
    #: How many ``/Queries`` calls a new record stays out of (a search index that lags behind); 0 = none.
    index_lag: int = 0
    unindexed: dict[tuple[str, int], int] = field(default_factory=dict)

    def spec(self, path: str) -> EntitySpec:
        spec = webcrm_catalog().entity(ENTITY_OF_PATH[path])
        assert spec is not None
        return spec

    def stamp(self) -> str:
        return self.now().strftime(TIMESTAMP_FORMAT)

    # -- records -----------------------------------------------------------------------------
    def get(self, path: str, record_id: int) -> dict[str, Any]:
        row = self.tables[path].rows.get(str(record_id))
        if row is None:
            singular = ("Linked data item" if path == REGISTER else
                        path[:-1] if not path.endswith("ies") else path[:-3] + "y")
            raise not_found(f"{singular} with id {record_id} was not found")
        return row

    @staticmethod
    def shown(path: str, record: dict[str, Any]) -> dict[str, Any]:
        """A record as a read answers it (write-only fields left out)."""
        hidden = WRITE_ONLY.get(path, ())
        return {name: value for name, value in record.items() if name not in hidden} if hidden else record

    def rows(self, path: str) -> list[dict[str, Any]]:
        """Every record of ``path`` by id, as webCRM lists them."""
        rows = self.tables[path].rows
        return [rows[key] for key in rows.keys_sorted("id", int)]

    def rows_page(self, path: str, page: int, size: int) -> list[dict[str, Any]]:
        """Page ``page`` (from 1) of ``size`` records of :meth:`rows`, without reading the others."""
        rows = self.tables[path].rows
        return [rows[key] for key in rows.keys_sorted("id", int)[(page - 1) * size: page * size]]

    def lines_of(self, delivery_id: int) -> list[dict[str, Any]]:
        """The quotation lines of a delivery, in the order they were made (an index on the delivery's id)."""
        return self.tables["QuotationLines"].rows.equal("QuotationLineOpportunityId", delivery_id)

    def create(self, path: str, body: Any, *, by: str = "API") -> dict[str, Any]:
        spec = self.spec(path)
        values = self._checked(path, body)
        table = self.tables[path]
        record = self._defaults(spec)
        record.update(values)
        record[spec.id_field] = table.new_id()
        stamp = self.stamp()
        prefix = spec.id_field[: -len("Id")]
        record.update({name: value for name, value in ((f"{prefix}CreatedAt", stamp), (f"{prefix}UpdatedAt", stamp),
                                                       (f"{prefix}CreatedBy", by), (f"{prefix}UpdatedBy", by))
                       if spec.field(name) is not None})  # the item register keeps no stamps
        self._derive(path, record)
        table.rows[str(record[spec.id_field])] = record
        if self.index_lag:
            self.unindexed[(path, record[spec.id_field])] = self.index_lag
        return record

    def replace(self, path: str, record_id: int, body: Any, *, by: str = "API") -> dict[str, Any]:
        """PUT semantics: the body becomes the record; fields it leaves out fall back to defaults."""
        current = self.get(path, record_id)
        spec = self.spec(path)
        values = self._checked(path, body)
        record = self._defaults(spec)
        record.update({f.name: current[f.name] for f in spec.fields if f.read_only and f.name in current})
        record.update(values)
        prefix = spec.id_field[: -len("Id")]
        record.update({name: value for name, value in ((f"{prefix}UpdatedAt", self.stamp()), (f"{prefix}UpdatedBy", by))
                       if spec.field(name) is not None})
        self._derive(path, record)
        self.tables[path].rows[str(record_id)] = record
        return record

    def delete(self, path: str, record_id: int) -> dict[str, Any]:
        record = self.get(path, record_id)
        del self.tables[path].rows[str(record_id)]
        if path == "Deliveries":
            for line in self.lines_of(record_id):
                del self.tables["QuotationLines"].rows[str(line["QuotationLineId"])]
        return record

    def _candidates(self, path: str, conditions: list[str], alias: str | None) -> list[dict[str, Any]] | None:
        """The records by id that can meet the first ``<field> = '<text>'`` of ``conditions`` (an index on the
        field's text as :func:`_matches` compares it); None when there is none, or a condition the query cannot
        read (then every record is read, and refused as before). The query still applies every condition to what
        this gives, so the index only narrows the reading."""
        parsed_all = [CONDITION.match(condition) for condition in conditions]
        if any(parsed is None for parsed in parsed_all):
            return None
        hidden = WRITE_ONLY.get(path, ())
        parsed = next((p for p in parsed_all if p is not None and p["op"] == "=" and p["text"] is not None
                       and _unalias(p["field"], alias) not in hidden), None)
        if parsed is None:
            return None
        name = _unalias(parsed["field"], alias)
        if path == REGISTER:
            if not name.startswith("LinkedDataItem"):
                return None
            name = LINKED + name[len("LinkedDataItem"):]
        wanted = parsed["text"].replace("''", "'").rstrip().casefold()
        found = self.tables[path].rows.where(f"text:{name}", wanted, lambda row: _compared_text(row.get(name)))
        id_field = self.spec(path).id_field
        return sorted(found, key=lambda row: row[id_field])

    def _defaults(self, spec: EntitySpec) -> dict[str, Any]:
        """What webCRM returns for fields nobody filled: empty text, zero, false, first enum value."""
        defaults: dict[str, Any] = {}
        for spec_field in spec.fields:
            if spec_field.type in (FieldType.DATE, FieldType.DATETIME):
                continue
            if spec_field.type in (FieldType.INTEGER, FieldType.REFERENCE):
                defaults[spec_field.name] = 0
            elif spec_field.type == FieldType.DECIMAL:
                defaults[spec_field.name] = 0.0
            elif spec_field.type == FieldType.BOOLEAN:
                defaults[spec_field.name] = False
            else:
                defaults[spec_field.name] = spec_field.choices[0] if spec_field.choices else ""
        return defaults

    def _derive(self, path: str, record: dict[str, Any]) -> None:
        """Fields webCRM computes from others."""
        if path == "Organisations":
            record["OrganisationCompareName"] = record.get("OrganisationName", "").lower()
            record["OrganisationTelephoneSearch"] = re.sub(r"\D", "", record.get("OrganisationTelephone", ""))
        elif path == "Persons":
            parts = [record.get(k, "") for k in ("PersonFirstName", "PersonMiddleName", "PersonLastName")]
            if any(parts):
                record["PersonName"] = " ".join(p for p in parts if p)
            record["PersonTelephoneSearch"] = re.sub(r"\D", "", record.get("PersonDirectPhone", ""))
        elif path == "QuotationLines":
            delivery = self.tables["Deliveries"].rows.get(str(record["QuotationLineOpportunityId"]))
            if delivery is not None:
                record["QuotationLineOrganisationId"] = delivery["DeliveryOrganisationId"]

    # -- webCRM's checks -------------------------------------------------------------------------
    def _checked(self, path: str, body: Any) -> dict[str, Any]:
        """The writable values of a body, type-checked; unknown names are ignored as ASP.NET does."""
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object")
        spec = self.spec(path)
        values: dict[str, Any] = {}
        writable_links = {"QuotationLineOpportunityId"} if path == "QuotationLines" else set()
        for name, value in body.items():
            spec_field = spec.field(name)
            if spec_field is None or (spec_field.read_only and name not in writable_links):
                continue
            values[name] = coerce_value(spec_field.name, spec_field.type, value, spec_field.max_length,
                                   spec_field.choices)
        self._check_rules(path, values)
        return values

    def _check_rules(self, path: str, values: dict[str, Any]) -> None:
        if path == REGISTER:  # erp QuotationLineLinkedDataItemDto: "webCRM does not allow empty values in the data"
            for column in DATA_COLUMNS:
                if not str(values.get(column) or "").strip():
                    raise bad_request(f"{column} must not be empty")
        if path == "Organisations" and not str(values.get("OrganisationName") or "").strip():
            raise bad_request("OrganisationName is required")
        if path == "Users" and not str(values.get("UserName") or "").strip():
            raise bad_request("UserName is required")
        links = {"Persons": ("PersonOrganisationId", "Organisations"),
                 "Deliveries": ("DeliveryOrganisationId", "Organisations"),
                 "QuotationLines": ("QuotationLineOpportunityId", "Deliveries")}
        if path in links:
            name, target = links[path]
            if str(values.get(name) or 0) not in self.tables[target].rows:
                raise bad_request(f"{name} {values.get(name) or 0} does not refer to an existing "
                                  f"{target[:-1].lower().replace('deliverie', 'delivery')}")

    # -- hooks ---------------------------------------------------------------------------------
    def hook_create(self, path: str, body: Any) -> dict[str, Any]:
        table = self.hooks[path]
        hook = _checked_hook(path, body)
        hook["Id"] = table.new_id()
        hook.update(CreatedAt=self.stamp(), CreatedBy="API", UpdatedAt=self.stamp(), UpdatedBy="API")
        table.rows[str(hook["Id"])] = hook
        return hook

    def hook_get(self, path: str, hook_id: int) -> dict[str, Any]:
        hook = self.hooks[path].rows.get(str(hook_id))
        if hook is None:
            raise not_found(f"Hook with id {hook_id} was not found")
        return hook

    def hook_replace(self, path: str, hook_id: int, body: Any) -> dict[str, Any]:
        current = self.hook_get(path, hook_id)
        hook = _checked_hook(path, body)
        hook.update(Id=hook_id, CreatedAt=current["CreatedAt"], CreatedBy=current["CreatedBy"],
                    UpdatedAt=self.stamp(), UpdatedBy="API")
        self.hooks[path].rows[str(hook_id)] = hook
        return hook

    def subscribers(self, path: str, event: str) -> list[dict[str, Any]]:
        return [hook for hook in self.hooks[path].rows.values()
                if hook["IsEnabled"] and hook["EventType"] == event]

    # -- /Queries ------------------------------------------------------------------------------
    def query(self, script: str) -> list[dict[str, Any]]:
        """The subset of webCRM's query language a sync needs: one table, AND-ed comparisons, one order."""
        parsed = QUERY.match(script or "")
        if parsed is None:
            raise bad_request("The script could not be parsed. Use SELECT * FROM <table> [WHERE ...] "
                              "[ORDER BY <field> [ASC|DESC]]")
        table, alias, where, order, direction = parsed.group("table", "alias", "where", "order", "direction")
        path = PATH_OF_TABLE.get(table.lower())
        if path is None:
            raise bad_request(f"Unknown table '{table}'")
        id_field = self.spec(path).id_field
        conditions = AND.split(where) if where else []
        candidates = self._candidates(path, conditions, alias)
        stored = self.rows(path) if candidates is None else candidates
        rows = [self.shown(path, row) for row in stored if (path, row[id_field]) not in self.unindexed]
        self.unindexed = {key: left - 1 for key, left in self.unindexed.items() if left > 1}
        if path == REGISTER:  # the LinkedData table names its columns LinkedDataItem… (erp GetProductByField)
            rows = [{f"LinkedDataItem{name[len(LINKED):]}": value for name, value in row.items()} for row in rows]
        for condition in conditions:
            rows = [row for row in rows if _matches(row, condition, alias)]
        if order:
            name = _unalias(order, alias)
            rows.sort(key=lambda row: (row.get(name) is None, row.get(name) or ""),
                      reverse=(direction or "ASC").upper() == "DESC")
        return rows


QUERY = re.compile(r"^\s*SELECT\s+\*\s+FROM\s+(?P<table>\w+)(?:\s+(?:AS\s+)?(?!WHERE\b|ORDER\b)(?P<alias>\w+))?"
                   r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+(?P<order>[\w.]+)(?:\s+(?P<direction>ASC|DESC))?)?"
                   r"\s*;?\s*$", re.IGNORECASE | re.DOTALL)
#: AND outside quoted text: an even number of quotes follows it.
AND = re.compile(r"\s+AND\s+(?=(?:[^']*'[^']*')*[^']*$)", re.IGNORECASE)
CONDITION = re.compile(r"^\s*(?P<field>[\w.]+)\s*(?P<op>>=|<=|<>|!=|=|>|<)\s*"
                       r"(?:'(?P<text>(?:[^']|'')*)'|(?P<number>-?\d+(?:\.\d+)?))\s*$")


def _unalias(name: str, alias: str | None) -> str:
    return name.split(".", 1)[1] if "." in name else name


def _matches(row: dict[str, Any], condition: str, alias: str | None) -> bool:
    parsed = CONDITION.match(condition)
    if parsed is None:
        raise bad_request(f"Unsupported condition '{condition.strip()}'")
    name = _unalias(parsed["field"], alias)
    value: Any = row.get(name)
    wanted: Any = parsed["text"].replace("''", "'") if parsed["text"] is not None else float(parsed["number"])
    if isinstance(wanted, float) and name.endswith("EntityType") and value in LINKED_DATA_ENTITY_TYPES:
        value = float(LINKED_DATA_ENTITY_TYPES.index(value))  # an enum compares by its number in a query
    if isinstance(wanted, float):
        value = float(value or 0) if not isinstance(value, bool) else float(value)
    elif isinstance(value, bool):
        value = "1" if value else "0"
    else:
        value = "" if value is None else str(value)
    op = parsed["op"]
    if isinstance(value, str):  # SQL Server's default collation: case and trailing spaces do not count
        value, wanted = value.rstrip().casefold(), wanted.rstrip().casefold()
    if op == "=":
        return value == wanted
    if op in ("<>", "!="):
        return value != wanted
    if isinstance(value, str) and value == "" and op in (">", ">="):
        return False
    return {">": value > wanted, ">=": value >= wanted, "<": value < wanted, "<=": value <= wanted}[op]


def _compared_text(value: Any) -> str:
    """A stored value as :func:`_matches` compares it with a quoted text: booleans as ``1``/``0``, None as empty,
    trailing spaces and case not counted (SQL Server's default collation)."""
    if isinstance(value, bool):
        value = "1" if value else "0"
    return ("" if value is None else str(value)).rstrip().casefold()


def coerce_value(name: str, kind: FieldType, value: Any, max_length: int | None, choices: Iterable[str]) -> Any:
    """ASP.NET-like model binding: refuse what cannot become the field's type."""
    problem = bad_request(f"The value '{value}' is not valid for {name}")
    if kind in (FieldType.INTEGER, FieldType.REFERENCE):
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).lstrip("-").isdigit():
            raise problem
        return int(value)
    if kind == FieldType.DECIMAL:
        if value is None:
            return 0.0
        try:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        except (TypeError, ValueError):
            raise problem from None
    if kind == FieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise problem
        return value
    if kind in (FieldType.DATE, FieldType.DATETIME):
        if value is None:
            return None
        try:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00")).strftime(TIMESTAMP_FORMAT)
        except ValueError:
            raise problem from None
    if value is None:
        return ""
    if not isinstance(value, str):
        raise problem
    if max_length is not None and len(value) > max_length:
        raise bad_request(f"{name} must be at most {max_length} characters")
    choices = tuple(choices)
    if choices and value not in choices:
        raise bad_request(f"The value '{value}' is not valid for {name}")
    return value


def _checked_hook(path: str, body: Any) -> dict[str, Any]:
    """A hook DTO as webCRM binds it: the spec's required fields present, ``Filter`` from the resource's list."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    missing = [name for name in HOOK_REQUIRED if body.get(name) is None]
    if missing:
        raise bad_request(f"The {missing[0]} field is required.")
    target = body["TargetUrl"]
    if not isinstance(target, str) or not target.startswith(("http://", "https://")):
        raise bad_request("TargetUrl must be an absolute http(s) URL")
    event = body.get("EventType", "Create")
    if event not in HOOK_EVENTS:
        raise bad_request(f"The value '{event}' is not valid for EventType")
    hook_filter = body["Filter"]
    if not isinstance(hook_filter, list) or not all(item in HOOK_FILTERS[path] for item in hook_filter):
        raise bad_request(f"Filter must be a list of {', '.join(HOOK_FILTERS[path])}")
    if not isinstance(body["IsEnabled"], bool) or isinstance(body["Id"], bool) or not isinstance(body["Id"], int):
        raise bad_request("IsEnabled must be true or false and Id a number")
    return {"TargetUrl": target, "EventType": event, "Filter": hook_filter, "IsEnabled": body["IsEnabled"]}


def entity_of(path: str) -> Entity:
    return ENTITY_OF_PATH[path]
