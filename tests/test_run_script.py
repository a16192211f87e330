"""``make run`` (scripts/run.sh) says at once, in one line, when a port it needs is taken, and starts nothing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parent.parent / "scripts" / "run.sh"


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another program holds (listening) for the length of the test."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess:
    """Run the script; should it start anything after all, its whole process group is stopped after 8 s."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO_"))}
    env.update(HOST="127.0.0.1", SANDBOX_ENABLED="true", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
               **variables)
    script = subprocess.Popen([str(RUN)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,  # noqa: S603
                              text=True, start_new_session=True)
    try:
        stdout, stderr = script.communicate(timeout=8)
    except subprocess.TimeoutExpired:
        os.killpg(script.pid, signal.SIGTERM)
        stdout, stderr = script.communicate()
        pytest.fail(f"run.sh went on starting Synkro with a port taken:\n{stdout}{stderr}")
    return subprocess.CompletedProcess(script.args, script.returncode, stdout, stderr)


def test_a_taken_port_is_said_at_once(taken_port, tmp_path):
    result = _run(tmp_path, PORT=str(taken_port), FORTNOX_SANDBOX_STREAM_PORT=str(_free_port()))
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert output.strip() == (f"Port {taken_port} on 127.0.0.1 is already in use; set PORT=… to use another.")
    assert "running" not in output


def test_a_taken_change_stream_port_is_said_at_once(taken_port, tmp_path):
    result = _run(tmp_path, PORT=str(_free_port()), FORTNOX_SANDBOX_STREAM_PORT=str(taken_port))
    assert result.returncode == 1
    output = (result.stdout + result.stderr).strip()
    assert output.startswith(f"Port {taken_port} on 127.0.0.1 (the Fortnox sandbox's change stream) is already in use")
    assert "FORTNOX_SANDBOX_STREAM_PORT=…" in output
