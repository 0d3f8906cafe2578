"""The local stack's progress lines: each phase with its time, and the failing one named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devtools import prerequisites, stack


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


def _python(code: str) -> list[str]:
    import sys

    return [sys.executable, "-c", code]


def test_the_checks_beside_the_emulators_say_how_each_went(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    checks = stack.Checks(coverage=[])
    checks.lines = [
        [
            ("lint", _python("pass"), {}),
            ("types", _python("print('types: 2 errors'); raise SystemExit(1)"), {}),
            ("never", _python("print('not reached')"), {}),
        ],
        [("unit suite", _python("print('748 passed in 1.0s')"), {"EXTRA": "1"})],
    ]
    checks.start()
    assert checks.passed(stack.Progress(tmp_path / "log")) is False
    err = capsys.readouterr().err
    lines = [line.split("] ", 1)[1] for line in err.splitlines() if line.startswith("[")]
    assert sorted(line.split(" in ")[0] for line in lines) == [
        "lint passed",
        "types FAILED (exit 1)",
        "unit suite passed",
    ]
    assert any(line.endswith(": 748 passed in 1.0s") for line in lines)
    assert "types: 2 errors" in err, "a failing check's output is shown"
    assert "not reached" not in err, "a line of checks stops at its first failure"


def test_checks_still_running_are_ended_when_the_run_stops(tmp_path: Path) -> None:
    import time

    checks = stack.Checks(coverage=[])
    checks.lines = [[("slow", _python("import time; time.sleep(60)"), {})]]
    checks.start()
    deadline = time.monotonic() + 10
    while not checks._running and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    checks.stop()
    assert checks.passed(stack.Progress(tmp_path / "log")) is False
    assert time.monotonic() - started < 10
    assert checks.results[0][1] != 0


def test_the_tests_codebase_is_served_beside_the_package_never_in_firebase_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    root = tmp_path / "project"
    source = root / "tests" / "owner_app"
    source.mkdir(parents=True)
    (root / "venv").mkdir()
    committed = json.loads((prerequisites.ROOT / "firebase.json").read_text())
    (root / "firebase.json").write_text(json.dumps(committed))
    monkeypatch.setattr(stack, "ROOT", root)
    monkeypatch.setattr(stack, "TEST_CONFIG", root / ".firebase-test.json")
    written = json.loads(stack.test_config([source], offset=0).read_text())
    package, tests = written["functions"]
    assert package == committed["functions"][0]
    assert tests == {
        "source": "tests/owner_app",
        "codebase": "owner-app",
        "runtime": committed["functions"][0]["runtime"],
        "ignore": ["venv", "**/__pycache__"],
    }
    assert written["emulators"] == committed["emulators"]
    assert (source / "venv").resolve() == (root / "venv").resolve()
    assert json.loads((root / "firebase.json").read_text()) == committed
    assert "tests" in package["ignore"]  # a deploy never ships the tests' codebase


def test_setup_writes_the_local_secret_once_and_starts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make setup`: what an existing app's emulators need, in well under a second."""
    secrets = tmp_path / ".secret.local"
    monkeypatch.setattr(stack, "LOCAL_SECRETS", secrets)
    monkeypatch.setattr(stack, "_run_with_stack", None)  # calling it would fail the test
    assert stack.main(["setup"]) == 0
    first = secrets.read_text()
    assert re.fullmatch(r"CURSOR_SECRET=[0-9a-f]{64}\n", first)
    shown = capsys.readouterr().out.splitlines()
    assert shown[0] == "ready, nothing started:"
    assert [line.split(":")[0] for line in shown[1:]] == [
        "python", "firebase-tools", "java", "local secrets",
    ]  # fmt: skip
    assert stack.main(["setup"]) == 0
    assert secrets.read_text() == first  # kept, never replaced


def test_setup_without_the_firebase_cli_says_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(stack, "FIREBASE_BIN", tmp_path / "firebase")
    assert stack.main(["setup"]) == 2
    assert "run `make` (npm ci)" in capsys.readouterr().err
