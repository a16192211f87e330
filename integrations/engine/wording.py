"""Words for messages built from parts: the systems' own names, English articles, records in running text.

Every log entry, failure summary and notice message assembled from keys (``"uniconta"``, ``"organisation"``,
``"updated"``) goes through these, so a person reads "An organisation changed in Uniconta could not be synced."
and never "A organisation changed in uniconta".
"""

from __future__ import annotations

from integrations.systems.words import indefinite_article, with_article

__all__ = ["HAPPENED", "change_not_synced", "entity_words", "indefinite_article", "record_in_text", "system_name",
           "with_article"]

#: What a change did to a record, in running text: "An organisation changed in webCRM".
HAPPENED = {"created": "made", "updated": "changed", "deleted": "deleted"}


def system_name(key: str) -> str:
    """The name a system writes itself with, from the system registry: "webCRM", "Uniconta", "Fortnox",
    "Visma.net", "Customers 1st". A key the registry does not know is "another system" (never the key)."""
    from integrations.systems.registry import get_system

    try:
        return get_system(key).name
    except LookupError:
        return "another system"


def entity_words(entity: str) -> str:
    """Synkro's word for one record of ``entity`` in running text: "organisation", "POS sale", "daily report"."""
    words = str(entity).replace("_", " ").strip()
    if words.lower().startswith("pos "):
        words = "POS" + words[3:]
    return words or "record"


def record_in_text(label: str, entity: str) -> str:
    """A catalog's name for one record, in running text: "debtor", "POS payment"; Synkro's own word for the entity
    when the catalog names the list ("Organisations") or nothing."""
    word = label.strip() if label else entity_words(entity)
    if word.endswith("s") and not word.endswith("ss"):
        word = entity_words(entity)
    return word if word[:2].isupper() else word[:1].lower() + word[1:]


def change_not_synced(*, record: str, action: str, system: str) -> str:
    """The summary of a change that could not be synced: "An organisation changed in Uniconta could not be synced."

    ``record`` is the record in running text (``record_in_text``), ``action`` the event's action (created, updated,
    deleted; anything else is used as it is), ``system`` the system's name as it writes it (``system_name``).
    """
    happened = HAPPENED.get(action, action)
    return f"{with_article(record, capital=True)} {happened} in {system} could not be synced."
