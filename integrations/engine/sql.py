"""Names for the few statements written by hand, taken from the models so a rename cannot miss them."""

from __future__ import annotations

from django.db import models


def table(model: type[models.Model]) -> str:
    """The model's table name, quoted."""
    return f'"{model._meta.db_table}"'


def columns(model: type[models.Model], *names: str) -> dict[str, str]:
    """Quoted column names of a model's fields, by field name."""
    return {name: f'"{model._meta.get_field(name).column}"' for name in names}
