"""The blast-radius guard: a bulk run that would rewrite many identities waits for a person.

Identity fields are the target's name, number, org/VAT number and e-mail (the catalog's field roles).
When a safety reconciliation or an initial import plans to rewrite them on more than a share of the
linked records (and more than a minimum number of them), it is held before anything is written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .wording import entity_words

#: The catalog's field roles that say who a record is.
IDENTITY_ROLES = ("name", "number", "vat", "email")

#: How a run's entity is named in a sentence about many of them.
ENTITY_PLURALS = {"organisation": "organisations", "person": "persons", "item": "items", "user": "users"}


@dataclass(frozen=True)
class GuardVerdict:
    """The guard's figures for one run: identity rewrites planned, records linked, the limit, and the verdict."""

    identity: int
    linked: int
    limit: int
    tripped: bool

    def as_dict(self) -> dict[str, int | bool]:
        """The figures as ``SyncRun.guard`` keeps them."""
        return {"identity": self.identity, "linked": self.linked, "limit": self.limit, "tripped": self.tripped}


def guard_verdict(*, identity_rewrites: int, linked: int, share: int, minimum: int) -> GuardVerdict:
    """Whether ``identity_rewrites`` of ``linked`` records are too many.

    The limit is ``share`` percent of the linked records, rounded up, but never below ``minimum``;
    the guard trips when the rewrites exceed the limit.
    """
    limit = max(minimum, math.ceil(linked * share / 100))
    return GuardVerdict(identity=identity_rewrites, linked=linked, limit=limit, tripped=identity_rewrites > limit)


def guard_words(guard: dict, entity: str) -> str:
    """“would rewrite names or numbers of 34 of 120 linked organisations; the guard allows 20”, from ``run.guard``."""
    if not guard:
        return ""
    plural = ENTITY_PLURALS.get(entity, f"{entity_words(entity)} records" if entity else "records")
    return (f"would rewrite names or numbers of {guard.get('identity', 0)} of {guard.get('linked', 0)} linked "
            f"{plural}; the guard allows {guard.get('limit', 0)}")
