"""Writes around looking before a bulk write: starting previews, and confirming or cancelling held runs.

A preview is a run of kind "preview" that the workers carry out (``engine/preview.py``): it plans and
writes nothing. A "mapping" preview plans with a proposed configuration, validated exactly like a save
and kept in ``run.cursor["config"]``; nothing of it is saved. A bulk run held by the blast-radius guard
waits for an admin: confirming hands it back to the workers with the guard passed, cancelling finishes it
with nothing written. Who may do this (admins) is checked by the screens and the API.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.engine.preview import PREVIEW_ENTITIES, PREVIEWS
from integrations.engine.runs import run_start
from integrations.models import Integration, RunKind, RunState, SyncRun
from integrations.tasks import run_enqueue
from mappings.models import Direction, EntitySync
from mappings.services import ENTITY_SETTINGS_FIELDS, ConfigInvalid, entity_problems
from mappings.validation import MappingRow, Problem

from .services import RunRefused, entity_list_words

#: The fields of a proposed mapping row.
ROW_FIELDS = ("erp_field", "crm_field", "direction", "value_map", "required", "conflict_owner", "overflow")


def current_rows(*, entity_sync: EntitySync) -> list[dict[str, Any]]:
    """An entity's mapping rows as plain data, in their order: the start of a proposed configuration."""
    return [{name: getattr(m, name) for name in ROW_FIELDS}
            for m in entity_sync.field_mappings.order_by("position", "pk")]


def mapping_config_check(*, entity_sync: EntitySync, settings: dict[str, Any], rows: list[dict[str, Any]]
                         ) -> dict[str, Any]:
    """A proposed configuration of one entity, checked like a save; raises ConfigInvalid, saves nothing.

    ``settings`` are entity settings by name (as the settings form or the API gives them), ``rows`` every
    mapping row as it would be. Returns ``{"settings": …, "rows": …}`` as a preview keeps it.
    """
    unknown = sorted(set(settings) - set(ENTITY_SETTINGS_FIELDS))
    if unknown:
        raise ConfigInvalid([Problem(f"{', '.join(unknown)} is not an entity setting.")])
    proposed = EntitySync.objects.select_related("integration").get(pk=entity_sync.pk)
    for name, value in settings.items():
        setattr(proposed, name, value)
    clean_rows = []
    for n, row in enumerate(rows):
        if not isinstance(row, dict) or not row.get("erp_field") or not row.get("crm_field"):
            raise ConfigInvalid([Problem("Each mapping row needs an ERP field and a front-system field.")])
        clean_rows.append({"erp_field": str(row["erp_field"]).strip(), "crm_field": str(row["crm_field"]).strip(),
                           "direction": row.get("direction") or "", "value_map": dict(row.get("value_map") or {}),
                           "required": bool(row.get("required")), "conflict_owner": row.get("conflict_owner") or "",
                           "overflow": row.get("overflow") or "shorten", "key": n})
    problems = entity_problems(entity_sync=proposed, rows=[
        MappingRow(r["erp_field"], r["crm_field"], r["direction"], r["value_map"], r["required"], key=r["key"],
                   overflow=r["overflow"])
        for r in clean_rows])
    if problems:
        raise ConfigInvalid(problems)
    for row in clean_rows:
        row.pop("key")
    return {"settings": dict(settings), "rows": clean_rows}


def preview_start(*, integration: Integration, previews: str, entity: str = "", config: dict[str, Any] | None = None,
                  user: Any) -> SyncRun:
    """Start a preview of ``previews`` ("activation", "reconcile", "import" or "mapping") on the workers.

    ``entity`` is needed for all but "activation"; ``config`` (``{"settings", "rows"}``) for "mapping", where it
    is checked like a save. Raises RunRefused (in words) or ConfigInvalid.
    """
    if previews not in PREVIEWS:
        raise RunRefused("A preview covers an activation, a reconciliation, an initial import or a mapping change.")
    if previews == "activation":
        entity = ""
    elif entity not in PREVIEW_ENTITIES:
        raise RunRefused("Previews cover organisations, persons, items and users; choose one of them.")
    cursor: dict[str, Any] = {}
    if previews == "mapping":
        entity_sync = EntitySync.objects.select_related("integration").get(integration=integration, entity=entity)
        config = config or {}
        cursor["config"] = mapping_config_check(
            entity_sync=entity_sync, settings=dict(config.get("settings") or {}),
            rows=list(config["rows"]) if config.get("rows") is not None else current_rows(entity_sync=entity_sync))
        direction = cursor["config"]["settings"].get("direction", entity_sync.direction)
        if direction == Direction.OFF:
            raise RunRefused("With the direction Off nothing would be synced, so there is nothing to preview.")
    elif previews in ("reconcile", "import"):
        entity_sync = EntitySync.objects.filter(integration=integration, entity=entity).first()
        if entity_sync is None or entity_sync.direction == Direction.OFF:
            raise RunRefused(f"{integration.name} does not sync {entity_list_words(entity)} now: switch it on under "
                             "“What to sync” first, or preview that change on its settings page.")
    elif not integration.entity_syncs.filter(entity__in=PREVIEW_ENTITIES).exclude(direction=Direction.OFF).exists():
        raise RunRefused(f"{integration.name} syncs no organisations, persons, items or users yet: switch one on "
                         "under “What to sync” first.")
    with transaction.atomic():
        run = run_start(integration=integration, kind=RunKind.PREVIEW, entity=entity, user=user)
        run.previews, run.cursor = previews, cursor
        run.save(update_fields=["previews", "cursor"])
        run_enqueue(run_id=run.pk)
    return run


def run_confirm(*, run: SyncRun, user: Any) -> SyncRun:
    """Let a run held by the guard go on: it is handed back to the workers and writes. Raises RunRefused."""
    with transaction.atomic():
        now = timezone.now()
        taken = SyncRun.objects.filter(pk=run.pk, state=RunState.HELD).update(
            state=RunState.RUNNING, confirmed_by=user, confirmed_at=now, done=0)
        if not taken:
            raise RunRefused("This run is not waiting for confirmation.")
        run_enqueue(run_id=run.pk)
    run.refresh_from_db()
    return run


def run_cancel(*, run: SyncRun, user: Any) -> SyncRun:
    """Finish a run held by the guard without writing anything. Raises RunRefused."""
    name = getattr(user, "get_username", lambda: "")() or "an admin"
    taken = SyncRun.objects.filter(pk=run.pk, state=RunState.HELD).update(
        state=RunState.DONE, finished_at=timezone.now(), error=f"Cancelled by {name}.")
    if not taken:
        raise RunRefused("This run is not waiting for confirmation.")
    run.refresh_from_db()
    return run
