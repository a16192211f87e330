"""The SQLite write gate: writers take turns within a process and across processes, and give up in time.

The test suite's own SQLite database lives in memory and has no gate, so these tests use files of
their own under a temporary folder.
"""

from __future__ import annotations

import multiprocessing
import threading

import pytest
from django.db import OperationalError
from django.db.utils import ConnectionHandler

from config.db.sqlite.gate import WriteGate


def test_writers_of_one_process_take_turns(tmp_path):
    gate, inside, most = WriteGate(str(tmp_path / "db.writer-lock")), [0], [0]
    count_lock = threading.Lock()

    def write() -> None:
        for _ in range(200):
            gate.acquire(timeout=10)
            with count_lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            with count_lock:
                inside[0] -= 1
            gate.release()

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert most == [1]


def test_a_writer_that_cannot_get_its_turn_in_time_is_told_the_database_is_locked(tmp_path):
    gate = WriteGate(str(tmp_path / "db.writer-lock"))
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        gate.acquire(timeout=5)
        held.set()
        done.wait(10)
        gate.release()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    with pytest.raises(OperationalError, match="database is locked"):
        gate.acquire(timeout=0.05)
    done.set()
    holder.join(10)
    gate.acquire(timeout=5)  # free again once the holder is done
    gate.release()


def _hold_in_child(path: str, held, release) -> None:
    gate = WriteGate(path)
    gate.acquire(timeout=5)
    held.set()
    release.wait(20)
    gate.release()


def test_a_writer_waits_while_another_process_writes(tmp_path):
    path = str(tmp_path / "db.writer-lock")
    context = multiprocessing.get_context("fork")
    held, release = context.Event(), context.Event()
    child = context.Process(target=_hold_in_child, args=(path, held, release))
    child.start()
    try:
        assert held.wait(10)
        gate, acquired = WriteGate(path), threading.Event()
        waiter = threading.Thread(target=lambda: (gate.acquire(timeout=20), acquired.set()))
        waiter.start()
        assert not acquired.wait(0.3)  # the other process still writes
        release.set()
        assert acquired.wait(10)
        gate.release()
        waiter.join(5)
    finally:
        release.set()
        child.join(10)


@pytest.fixture
def file_database(tmp_path, django_db_blocker):
    """A SQLite file reached through Synkro's backend, as ``make run`` uses it."""
    handler = ConnectionHandler({"default": {
        "ENGINE": "config.db.sqlite", "NAME": str(tmp_path / "synkro.sqlite3"),
        "OPTIONS": {"timeout": 5, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}}})
    with django_db_blocker.unblock():
        with handler["default"].cursor() as cursor:
            cursor.execute("CREATE TABLE counter (n INTEGER)")
            cursor.execute("INSERT INTO counter VALUES (0)")
        yield handler
        handler.close_all()


def _transaction(db, statement: str, *, commit: bool = True) -> None:
    """What ``atomic`` does on SQLite: BEGIN IMMEDIATE under autocommit, then COMMIT or ROLLBACK."""
    db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    with db.cursor() as cursor:
        cursor.execute(statement)
    db.commit() if commit else db.rollback()
    db.set_autocommit(True)


def test_transactions_on_a_file_pass_the_gate_and_leave_it_open(file_database):
    db = file_database["default"]
    db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    assert db._gate is not None
    db.rollback()
    db.set_autocommit(True)
    assert db._gate is None
    _transaction(db, "UPDATE counter SET n = n + 1", commit=False)
    _transaction(db, "UPDATE counter SET n = n + 1")
    db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    db.close()  # a connection closed mid-transaction gives its turn back too
    assert db._gate is None
    WriteGate.for_database(db.settings_dict["NAME"]).acquire(timeout=1)
    WriteGate.for_database(db.settings_dict["NAME"]).release()


def test_concurrent_transactions_on_a_file_all_commit(file_database):
    errors: list[BaseException] = []

    def increment() -> None:
        try:
            for _ in range(50):
                _transaction(file_database["default"], "UPDATE counter SET n = n + 1")
        except BaseException as exc:
            errors.append(exc)
        finally:
            file_database["default"].close()

    threads = [threading.Thread(target=increment) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with file_database["default"].cursor() as cursor:
        cursor.execute("SELECT n FROM counter")
        assert cursor.fetchone() == (200,)
