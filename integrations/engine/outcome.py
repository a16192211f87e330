"""What syncing one record came to: the action logged, the reason in words, both ids and the changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .context import CRM, SideContext


@dataclass
class Outcome:
    action: str  # a LogAction, or "echo" for our own write coming back
    reason: str = ""
    crm_id: str = ""
    erp_id: str = ""
    changes: dict[str, list[Any]] = field(default_factory=dict)
    label: str = ""
    writes: int = 0
    #: What a preview calls this outcome when the action alone does not say it: "link" (an existing record
    #: was adopted), "refused" (a number collision or another refusal), "delete"; blank otherwise.
    plan: str = ""
    #: A skip for data a person can fix: its log entry offers a replay (see ``plan.Verdict.replayable``).
    replayable: bool = False


def ids_for(source: SideContext, source_id: str, target_id: str) -> dict[str, str]:
    """The crm/erp ids of a pair, given which side the change came from."""
    return {"crm_id": source_id, "erp_id": target_id} if source.role == CRM else \
        {"crm_id": target_id, "erp_id": source_id}
