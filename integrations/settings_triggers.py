"""The triggers that raise ``Integration.settings_version`` are there after every ``migrate``.

Migration ``0019_per_record_path`` creates them. On SQLite a later migration that alters one of the watched tables
rebuilds it (a new table, the rows copied, the old one dropped), and dropping a table drops its triggers without a
word: the workers would then keep settings that changed. So after every ``migrate`` the triggers are put back where
one is missing (SQLite ``CREATE TRIGGER IF NOT EXISTS``; PostgreSQL's functions replaced and each trigger made anew
in one transaction). Before ``0019`` is applied (no ``settings_version`` column yet) nothing is done.
"""

from __future__ import annotations

import importlib

from django.db import connections, transaction

_MIGRATION = "integrations.migrations.0019_per_record_path"


def _has_version_column(connection) -> bool:
    with connection.cursor() as cursor:
        if "integrations_integration" not in connection.introspection.table_names(cursor):
            return False
        columns = connection.introspection.get_table_description(cursor, "integrations_integration")
    return any(column.name == "settings_version" for column in columns)


def settings_triggers_ensure(*, using: str = "default") -> int:
    """Create every settings-version trigger missing on database ``using``; returns how many statements ran."""
    connection = connections[using]
    if connection.vendor not in ("sqlite", "postgresql") or not _has_version_column(connection):
        return 0
    migration = importlib.import_module(_MIGRATION)
    if connection.vendor == "sqlite":
        statements = [sql.replace("CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS ", 1)
                      for sql in migration.SQLITE_FORWARD]
    else:
        drops = [sql for sql in migration.POSTGRES_BACKWARD if sql.startswith("DROP TRIGGER")]
        statements = [*drops, *migration.POSTGRES_FORWARD]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
    return len(statements)


def settings_triggers_on_migrate(sender, using: str = "default", **kwargs) -> None:
    """``post_migrate`` receiver: see :func:`settings_triggers_ensure`."""
    settings_triggers_ensure(using=using)
