"""Reads for the plan of a preview or of a held run: its counts as a table and its sample, page by page."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from integrations.engine.guard import guard_words
from integrations.models import Integration, PlanAction, PlannedChange, RunKind, RunState, SyncRun
from mappings.models import SyncEntity
from mappings.selectors import direction_label
from tenants.access import scoped
from tenants.models import Tenant

PLAN_PAGE_SIZE = 50
#: How each preview is named in a heading.
PREVIEW_TITLES = {"activation": "Preview of switching the integration on", "reconcile": "Preview of a reconciliation",
                  "import": "Preview of an initial import", "mapping": "Preview of a settings change"}


@dataclass(frozen=True)
class PlanRow:
    """One line of a plan's counts: an entity in one direction, and how many records come to each action."""

    entity: str
    direction: str
    counts: list[int]
    total: int


def plan_actions() -> list[tuple[str, str]]:
    """The actions of a plan, in the order the counts table shows them."""
    return list(PlanAction.choices)


def plan_rows(*, run: SyncRun) -> list[PlanRow]:
    """``run.plan`` as table rows: entity × direction, a count per action (0 where none)."""
    entity_names = dict(SyncEntity.choices)
    rows = []
    for entity, directions in sorted((run.plan or {}).items()):
        for direction, by_action in sorted(directions.items()):
            counts = [int(by_action.get(action, 0)) for action, _ in plan_actions()]
            rows.append(PlanRow(entity=entity_names.get(entity, entity),
                                direction=_direction(run.integration, direction), counts=counts, total=sum(counts)))
    return rows


def _direction(integration: Integration, direction: str) -> str:
    try:
        return direction_label(integration, direction)
    except KeyError:
        return direction or "—"


def planned_changes(*, tenant: Tenant, run: SyncRun, action: str = "") -> QuerySet[PlannedChange]:
    """The stored sample of ``run``'s plan (of one action when given), in the order it was planned."""
    changes = scoped(PlannedChange, tenant).filter(run=run)
    if action:
        changes = changes.filter(action=action)
    return changes.order_by("pk")


def planned_page(*, tenant: Tenant, run: SyncRun, action: str = "", after: int = 0,
                 size: int = PLAN_PAGE_SIZE) -> tuple[list[PlannedChange], int | None]:
    """One page of the sample after the row ``after`` (keyset on pk) and the pk the next page starts after."""
    rows = list(planned_changes(tenant=tenant, run=run, action=action).filter(pk__gt=after)[: size + 1])
    next_after = rows[size - 1].pk if len(rows) > size else None
    return rows[:size], next_after


def run_title(run: SyncRun) -> str:
    """“Preview of a reconciliation · organisations”, or what a held run is."""
    entity = dict(SyncEntity.choices).get(run.entity, run.entity)
    title = PREVIEW_TITLES.get(run.previews, run.get_kind_display()) if run.kind == RunKind.PREVIEW \
        else run.get_kind_display()
    return f"{title} · {entity}" if entity else title


def run_guard_words(run: SyncRun) -> str:
    """The guard's figures of a held run in words; blank for other runs."""
    if run.state != RunState.HELD or not (run.guard or {}).get("tripped"):
        return ""
    return guard_words(run.guard, run.entity)
