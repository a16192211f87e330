"""Template filters that turn stored keys into the words the screens use.

``{% load synkro_words %}`` then ``{{ event.system|system_name }}`` ("Uniconta", never "uniconta") and
``{{ entry.entity|entity_label }}`` ("Organisations / debtors", never "organisation").
"""

from __future__ import annotations

from django import template

from integrations.engine.wording import entity_words
from integrations.engine.wording import system_name as registry_name
from mappings.models import SyncEntity

register = template.Library()


@register.filter
def system_name(key: str) -> str:
    """A system's key → its name as it writes itself (the system registry's label)."""
    return registry_name(str(key or ""))


@register.filter
def entity_label(key: str) -> str:
    """An entity's key → its label on the settings screens ("Organisations / debtors"); other keys in words."""
    key = str(key or "")
    return str(SyncEntity(key).label) if key in SyncEntity.values else entity_words(key)


@register.filter
def ago(moment) -> str:
    """A past moment in words: "just now" within a minute, else Django's "3 minutes ago"."""
    from django.utils import timezone
    from django.utils.timesince import timesince

    if moment is None:
        return ""
    if (timezone.now() - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment)} ago"
