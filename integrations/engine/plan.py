"""What one changed record means for the other side: the rules of the design as pure decisions.

Each function takes plain values and returns a verdict with its reason in words support staff
understand. ``apply.py`` reads records, calls these, and carries the verdict out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .mapping import is_blank


@dataclass(frozen=True)
class Verdict:
    go: bool
    reason: str = ""
    #: A skip for data a person can fix (an empty customer number, a required field, an e-mail): its log entry
    #: offers a replay. Skips that are final by design (direction, trigger, relevance flag) leave it False.
    replayable: bool = False

    @classmethod
    def ok(cls) -> Verdict:
        return cls(True)

    @classmethod
    def skip(cls, reason: str, *, replayable: bool = False) -> Verdict:
        return cls(False, reason, replayable)


@dataclass(frozen=True)
class TriggerVerdict:
    """Whether an organisation may be created in the ERP, and whether its Type must be set back."""

    create_allowed: bool
    reason: str = ""
    #: The value to write back into webCRM's trigger field (type lock), when it was changed away.
    set_back_to: str | None = None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "ja", "x", "on")
    return bool(value)


def trigger_verdict(*, trigger_label: str, trigger_values: Sequence[str], value: Any, linked: bool,
                    type_lock: bool, lock_value: str = "") -> TriggerVerdict:
    """"Sync only organisations of type …" and the type lock, for a change coming from webCRM."""
    if not trigger_values:
        return TriggerVerdict(True)
    current = "" if value is None else str(value).strip()
    wanted = [str(v).strip() for v in trigger_values]
    if current.casefold() in (w.casefold() for w in wanted):
        return TriggerVerdict(True)
    listing = ", ".join(f"“{w}”" for w in wanted)
    if not linked:
        return TriggerVerdict(False, f"{trigger_label} is “{current or 'empty'}”; only organisations with "
                                     f"{trigger_label.lower()} {listing} are created in the ERP.")
    if type_lock:
        back = lock_value if lock_value in wanted else wanted[0]
        return TriggerVerdict(True, f"{trigger_label} was changed to “{current or 'empty'}” while the debtor "
                                    f"exists in the ERP; type lock sets it back to “{back}”.", set_back_to=back)
    return TriggerVerdict(True)


def relevance_verdict(*, flag_field: str, value: Any) -> Verdict:
    """From webCRM only persons flagged "relevant for ERP" go over."""
    if not flag_field or _truthy(value):
        return Verdict.ok()
    return Verdict.skip(f"The person is not marked relevant for the ERP ({flag_field} is not ticked).")


def email_verdict(*, system_name: str, what: str, email: Any) -> Verdict:
    """From the ERP only contacts (and employees) with an e-mail come over: it is how they are matched."""
    if is_blank(email):
        return Verdict.skip(f"The {what} in {system_name} has no e-mail address, so it is not synced "
                            "(e-mail is how it is matched). Add one, then replay.", replayable=True)
    return Verdict.ok()


def required_verdict(*, missing: Sequence[str], target_name: str) -> Verdict:
    if not missing:
        return Verdict.ok()
    names = ", ".join(missing)
    return Verdict.skip(f"Not created in {target_name}: required field{'s' if len(missing) > 1 else ''} "
                        f"{names} {'are' if len(missing) > 1 else 'is'} empty. Fill "
                        f"{'them' if len(missing) > 1 else 'it'} in, then replay.", replayable=True)


def number_verdict(*, authority: str, number_value: Any, number_source: str, target_name: str) -> Verdict:
    """With webCRM numbering the customer number is typed in webCRM and must be there before creating."""
    if authority == "crm" and is_blank(number_value):
        return Verdict.skip(f"webCRM assigns customer numbers here, but {number_source} is empty, so the "
                            f"customer is not created in {target_name}. Fill in the number, then replay.",
                            replayable=True)
    return Verdict.ok()


def pending_changes(current: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    """The desired values that differ from what the target holds (only those are written)."""
    from .mapping import changed_fields

    changes = changed_fields(current, desired)
    return {name: desired[name] for name in changes}
