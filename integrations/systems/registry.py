"""Finds the external systems by key, so the core never imports a vendor package by name.

The list of system packages lives in the ``SYNKRO_SYSTEMS`` setting, like Django's apps; each
package exposes a ``provider`` attribute.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from django.conf import settings

from .base import SystemKind, SystemProvider


@cache
def _providers() -> dict[str, SystemProvider]:
    found: dict[str, SystemProvider] = {}
    for dotted in settings.SYNKRO_SYSTEMS:
        provider = import_module(dotted).provider
        if provider.key in found:
            raise ValueError(f"two systems use the key {provider.key!r}")
        found[provider.key] = provider
    return found


def get_system(key: str) -> SystemProvider:
    """The provider for ``key``; ``LookupError`` when unknown."""
    try:
        return _providers()[key]
    except KeyError:
        raise LookupError(f"unknown system {key!r}") from None


def all_systems() -> list[SystemProvider]:
    return list(_providers().values())


def system_choices() -> list[tuple[str, str]]:
    """Choices for model and form fields (callable, so a new system needs no migration)."""
    return [(p.key, p.name) for p in all_systems()]


def systems_of_kind(kind: SystemKind) -> list[SystemProvider]:
    return [p for p in all_systems() if p.kind == kind]
