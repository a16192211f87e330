"""One owner per front-system field: two running integrations of one webCRM never write the same field.

A webCRM (or Customers 1st) account can be paired with several ERPs, but when two of them fill the same
field they overwrite each other and the engine matches records by whatever the last one wrote. So a field
of the front system has at most one writer among the *active* integrations on that connection: switching
an integration on, or adding a row to an active one, is refused while another active integration already
writes one of its fields. Different fields may be written by several integrations.

The rules (``front_writes``, ``field_owner_clashes``, ``clash_message``) are pure functions over plain data;
the functions below them read the database to feed them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from integrations.models import Integration
from integrations.systems.base import SystemKind
from integrations.systems.catalog import Catalog, Entity

from . import selectors
from .defaults import CRM_ENTITY_DEFAULTS, PAIR_ROWS, POS_ENTITY_DEFAULTS
from .models import Direction, EntitySync, FieldMapping
from .selectors import FRONT_ENTITY_FALLBACK, allowed_directions, front_kind, integration_entities
from .validation import TO_CRM, MappingRow, row_directions

#: How a front system's records are called in a sentence.
ENTITY_WORDS: dict[str, str] = {
    Entity.ORGANISATION: "organisations", Entity.PERSON: "persons", Entity.ITEM: "items",
    Entity.DELIVERY: "deliveries", Entity.INVOICE: "invoices", Entity.USER: "users",
    Entity.POS_SALE: "POS sales", Entity.DAILY_REPORT: "daily reports",
}


@dataclass(frozen=True)
class FrontWrite:
    """One field of the front system that an integration writes."""

    #: The front system's entity the field belongs to (ERP invoices are written to webCRM deliveries).
    entity: str
    field: str
    #: What the field is filled with, in words, for a free custom slot (e.g. "Debtor number"); "" otherwise.
    meaning: str = ""

    @property
    def slot(self) -> tuple[str, str]:
        return (self.entity, self.field)


@dataclass(frozen=True)
class IntegrationWrites:
    """An integration and the front-system fields it writes."""

    name: str
    writes: tuple[FrontWrite, ...]
    key: object = None


@dataclass(frozen=True)
class FieldClash:
    """Fields that ``other`` already writes and the integration being checked would write too."""

    other: IntegrationWrites
    fields: tuple[FrontWrite, ...]


def front_writes(*, front_entity: str, direction: str, rows: Iterable[MappingRow],
                 meanings: Mapping[str, str] | None = None) -> list[FrontWrite]:
    """The front fields written by one entity's rows: those flowing to the front system.

    ``direction`` is the entity's direction; each row narrows it (``row_directions``). ``meanings`` gives,
    per front field, what fills it when that is worth saying (custom slots).
    """
    meanings = meanings or {}
    return [FrontWrite(front_entity, row.crm_field, meanings.get(row.crm_field, ""))
            for row in rows if TO_CRM in row_directions(direction, row.direction)]


def field_owner_clashes(*, candidate: IntegrationWrites, others: Iterable[IntegrationWrites],
                        already: Iterable[tuple[str, str]] = ()) -> list[FieldClash]:
    """Per other integration, the fields it writes that ``candidate`` would write too.

    ``already`` lists (entity, field) slots to leave out: clashes that exist before a change are not
    the change's doing (only new ones refuse it).
    """
    wanted = {write.slot for write in candidate.writes} - set(already)
    clashes = []
    for other in others:
        shared = tuple(dict.fromkeys(w for w in other.writes if w.slot in wanted))
        if shared:
            clashes.append(FieldClash(other=other, fields=shared))
    return clashes


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def clash_message(clash: FieldClash, *, front_name: str) -> str:
    """The refusal in words: "webCRM ↔ Uniconta already writes OrganisationExtraCustom1 (Debtor number)
    and OrganisationName of organisations in this webCRM; pause it or remove those rows first."."""
    rank = {entity: n for n, entity in enumerate(ENTITY_WORDS)}
    entities = sorted(dict.fromkeys(w.entity for w in clash.fields), key=lambda e: rank.get(e, len(rank)))
    parts = []
    for entity in entities:
        names = [f"{w.field} ({w.meaning})" if w.meaning else w.field for w in clash.fields if w.entity == entity]
        parts.append(f"{_and(names)} of {ENTITY_WORDS.get(entity, entity)}")
    listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])}, and {parts[-1]}"
    return (f"{clash.other.name} already writes {listed} in this {front_name}; "
            "pause it or remove those rows first.")


# -- reading the configuration ------------------------------------------------------------------


def _front_entity(front: Catalog, entity: str) -> Entity:
    wanted = Entity(entity)
    return wanted if front.supports(wanted) else Entity(FRONT_ENTITY_FALLBACK.get(wanted, wanted))


def _catalogs(integration: Integration) -> tuple[Catalog, Catalog]:
    """The front system's and the ERP's field catalogs."""
    return (selectors.catalog_of(integration.crm_connection.system),
            selectors.catalog_of(integration.erp_connection.system))


def _meanings(integration: Integration, entity: str, rows: list[MappingRow]) -> dict[str, str]:
    """For rows filling a custom slot of the front system: the label of the ERP field that fills it."""
    front_catalog, erp_catalog = _catalogs(integration)
    front_spec = front_catalog.entity(_front_entity(front_catalog, entity))
    erp_spec = erp_catalog.entity(Entity(entity))
    meanings = {}
    for row in rows:
        slot = front_spec.field(row.crm_field) if front_spec else None
        source = erp_spec.field(row.erp_field) if erp_spec else None
        if slot is not None and slot.custom and source is not None:
            meanings[row.crm_field] = source.label or source.name
    return meanings


#: Per entity, the direction and rows to use instead of the stored ones: {entity: (direction, rows)}.
Overrides = Mapping[str, tuple[str, list[MappingRow]]]


def integration_writes(*, integration: Integration, overrides: Overrides | None = None) -> IntegrationWrites:
    """The front fields ``integration`` writes, as configured (or with ``overrides`` for some entities).

    An integration not saved yet is taken with the default configuration of its pair of systems, which is
    what it gets when it is created.
    """
    configured: dict[str, tuple[str, list[MappingRow]]] = {}
    if integration.pk is None:
        configured = _default_configuration(integration)
    else:
        syncs = list(EntitySync.objects.filter(integration=integration))
        mappings = FieldMapping.objects.filter(entity_sync__in=syncs).order_by("position", "pk")
        rows: dict[int, list[MappingRow]] = {}
        for mapping in mappings:
            rows.setdefault(mapping.entity_sync_id, []).append(
                MappingRow(erp_field=mapping.erp_field, crm_field=mapping.crm_field, direction=mapping.direction,
                           key=mapping.pk))
        configured = {s.entity: (s.direction, rows.get(s.pk, [])) for s in syncs}
    configured.update(overrides or {})
    front_catalog, _ = _catalogs(integration)
    writes: list[FrontWrite] = []
    for entity, (direction, entity_rows) in configured.items():
        writes += front_writes(front_entity=_front_entity(front_catalog, entity), direction=direction,
                               rows=entity_rows, meanings=_meanings(integration, entity, entity_rows))
    return IntegrationWrites(name=integration.name, writes=tuple(writes), key=integration.pk)


def _default_configuration(integration: Integration) -> dict[str, tuple[str, list[MappingRow]]]:
    """What ``integration_setup_defaults`` gives a new integration of this pair, as plain rows."""
    defaults = POS_ENTITY_DEFAULTS if front_kind(integration) == SystemKind.POS else CRM_ENTITY_DEFAULTS
    pair = PAIR_ROWS.get((integration.crm_connection.system, integration.erp_connection.system), {})
    front_catalog, erp_catalog = _catalogs(integration)
    configured = {}
    for entity in integration_entities(integration):
        direction = defaults.get(entity, {}).get("direction", Direction.OFF)
        if direction not in allowed_directions(integration, entity):
            direction = Direction.OFF
        front_spec = front_catalog.entity(_front_entity(front_catalog, entity))
        erp_spec = erp_catalog.entity(Entity(entity))
        configured[str(entity)] = (str(direction), [  # the rows the defaults store: both fields known
            MappingRow(erp_field=erp, crm_field=front, direction=way) for erp, front, way, _ in pair.get(entity, [])
            if front_spec and erp_spec and front_spec.field(front) and erp_spec.field(erp)])
    return configured


def active_rivals(*, integration: Integration) -> list[Integration]:
    """The other active integrations of the tenant on the same front connection."""
    rivals = (Integration.objects.filter(tenant_id=integration.tenant_id, active=True,
                                         crm_connection_id=integration.crm_connection_id)
              .select_related("crm_connection", "erp_connection"))
    if integration.pk is not None:
        rivals = rivals.exclude(pk=integration.pk)
    return list(rivals.order_by("name", "pk"))


def ownership_refusals(*, integration: Integration, overrides: Overrides | None = None,
                       only_new: bool = False) -> list[str]:
    """Why ``integration`` may not run as configured (with ``overrides``): one sentence per other active
    integration that writes one of its front fields. Empty when nothing clashes.

    With ``only_new`` only clashes the overrides add count, so a change elsewhere is never refused for a
    clash that was there before it.
    """
    rivals = active_rivals(integration=integration)
    if not rivals:
        return []
    others = [integration_writes(integration=rival) for rival in rivals]
    candidate = integration_writes(integration=integration, overrides=overrides)
    already: set[tuple[str, str]] = set()
    if only_new:
        before = integration_writes(integration=integration)
        already = {clash_slot for clash in field_owner_clashes(candidate=before, others=others)
                   for clash_slot in (w.slot for w in clash.fields)}
    front_name = integration.crm_connection.provider.name
    return [clash_message(clash, front_name=front_name)
            for clash in field_owner_clashes(candidate=candidate, others=others, already=already)]
