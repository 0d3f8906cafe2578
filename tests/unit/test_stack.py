"""The local stack's progress lines: each phase with its time, and the failing one named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devtools import stack


def test_each_phase_is_one_line_with_the_time_since_the_start(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    progress = stack.Progress(tmp_path / "emulators.log")
    progress.phase("starting the emulators")
    progress.phase("the functions answer")
    progress.failed("port 8080 in use")
    lines = capsys.readouterr().err.splitlines()
    assert re.fullmatch(r"\[\s*\d+\.\ds\] starting the emulators", lines[0])
    assert re.fullmatch(r"\[\s*\d+\.\ds\] the functions answer", lines[1])
    assert "failed while the functions answer: port 8080 in use" in lines[2]
    assert str(tmp_path / "emulators.log") in lines[3]


@pytest.mark.parametrize(
    "line",
    [
        "i  emulators: Starting emulators: auth, functions, firestore",
        "✔  firestore: Firestore Emulator was started in standard edition.",
        'i  functions: Watching "/work/main" for Cloud Functions...',
        "✔  functions: Loaded functions definitions from source: createEntry, fetchData.",
        "│ ✔  All emulators ready! It is now safe to connect your app. │",
    ],
)
def test_the_firebase_clis_start_up_lines_mark_phases(line: str) -> None:
    assert [text for marker, text in stack.MILESTONES if marker in line]
