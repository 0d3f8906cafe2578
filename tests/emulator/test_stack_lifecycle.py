"""The local stack starts and stops as a whole: a stack beside the suite's (every port
moved by LIFECYCLE_OFFSET, a project of its own) is started and abandoned as a killed run
would leave it, then started again, which ends the leftovers first; its stop ends every
process the stack started (the CLI, the Firestore emulator's JVM in its own session,
every function worker) within 10 s, and frees every port. (A plain start and stop is what
`make test` does with its second stack on every run.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools import stack as local_stack
from devtools.prerequisites import CACHE

OFFSET = local_stack.LIFECYCLE_OFFSET
PROJECT = "demo-stack-lifecycle"


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _started(tmp_path: Path, name: str) -> tuple[local_stack.Stack, dict[int, int]]:
    made = local_stack.Stack(PROJECT, tmp_path / f"{name}.log", echo=False, port_offset=OFFSET)
    made.start()
    members = dict(made.members.refresh())
    commands = [_command(pid) for pid in members]
    assert made.process is not None
    assert made.process.pid in members
    assert any("java" in c and "firestore" in c for c in commands), commands
    assert any("gunicorn" in c or "functions-framework" in c for c in commands), commands
    return made, members


def _alive(members: dict[int, int]) -> list[int]:
    table = local_stack.process_table()
    return [
        pid
        for pid, start in members.items()
        if pid in table and table[pid][2] == start and not local_stack._zombie(pid)
    ]


@pytest.fixture
def leftovers_ended() -> Iterator[None]:
    """Whatever a failed run of this test left is ended, before and after it."""
    record = local_stack.Members(CACHE / f"stack-{OFFSET}.pids")
    record.end_leftovers()
    yield
    record.end_leftovers()


@pytest.mark.timeout(600)
def test_the_stack_ends_an_aborted_runs_processes_and_stops_every_process_it_started(
    emulator_hosts: dict[str, str],
    leftovers_ended: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert local_stack.busy_ports(OFFSET) == [], "the ports of the second stack are taken"
    # A run killed outright: nothing of it stops its processes (the stack's own process
    # is gone); only its record of them is left.
    abandoned, leftovers = _started(tmp_path, "abandoned")
    abandoned.members._stop.set()
    assert abandoned.process is not None
    cli = abandoned.process
    running = _alive(leftovers)
    assert cli.pid in running
    assert any("java" in _command(pid) for pid in running)  # the emulators keep running

    capsys.readouterr()
    again, members = _started(tmp_path, "again")  # ends the leftovers before it starts
    assert _alive(leftovers) == []
    said = capsys.readouterr().err
    assert f"ended {len(running)} process(es) an aborted run left behind" in said, said
    cli.wait(timeout=10)  # reap the abandoned CLI (a child of this process)
    assert cli.stdout is not None
    cli.stdout.close()
    started = time.monotonic()
    again.stop()
    took = time.monotonic() - started
    assert _alive(members) == []
    assert took < 10.0, took
    assert local_stack.busy_ports(OFFSET) == []
