"""Django's SQLite backend, with writing transactions queued by :class:`~config.db.sqlite.gate.WriteGate`.

Only transactions (``atomic`` blocks, begun IMMEDIATE) pass the gate, from ``BEGIN`` to ``COMMIT``
or ``ROLLBACK``; in-memory databases (the test suite's) have no gate.
"""

from __future__ import annotations

from django.db.backends.sqlite3 import base

from .gate import WriteGate


class DatabaseWrapper(base.DatabaseWrapper):
    _gate: WriteGate | None = None

    def _start_transaction_under_autocommit(self) -> None:
        if self.is_in_memory_db():
            super()._start_transaction_under_autocommit()
            return
        gate = WriteGate.for_database(self.settings_dict["NAME"])
        gate.acquire(timeout=float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5)))
        self._gate = gate
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._gate_release()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()
        finally:
            self._gate_release()

    def _rollback(self) -> None:
        try:
            super()._rollback()
        finally:
            self._gate_release()

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            self._gate_release()

    def _gate_release(self) -> None:
        gate, self._gate = self._gate, None
        if gate is not None:
            gate.release()
