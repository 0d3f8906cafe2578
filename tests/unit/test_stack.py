"""The local stack's progress lines: each phase with its time, and the failing one named."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
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


def test_the_second_stacks_lines_say_so_and_count_from_the_runs_start(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first = stack.Progress(tmp_path / "emulators.log")
    second = stack.Progress(
        tmp_path / "second.log", label="second stack: ", started=first.started - 60
    )
    second.phase("Firestore is up")
    second.failed("the emulators exited")
    lines = capsys.readouterr().err.splitlines()
    assert re.fullmatch(r"\[\s*6\d\.\ds\] second stack: Firestore is up", lines[0])
    assert "second stack: failed while Firestore is up: the emulators exited" in lines[1]
    assert str(tmp_path / "second.log") in lines[2]


# The ports the Fetch standard forbids (fetch.spec.whatwg.org/#bad-port), which Node's fetch
# refuses to call: the Functions emulator registers its triggers with Firestore by fetch.
FETCH_BAD_PORTS = frozenset(
    {1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95,
     101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161,
     179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563,
     587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060,
     5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080}
)  # fmt: skip


@pytest.mark.parametrize("offset", [0, stack.LIFECYCLE_OFFSET, stack.SECOND_STACK_OFFSET])
def test_every_stacks_ports_are_callable_and_out_of_the_workers_range(offset: int) -> None:
    ports = stack.emulator_ports(offset)
    assert set(ports) >= {"auth", "firestore", "functions", "tasks", "hub"}
    assert not FETCH_BAD_PORTS & set(ports.values()), ports
    assert not [port for port in ports.values() if port in stack.WORKER_PORTS], ports


def test_the_second_stack_shares_no_port_with_the_first_or_the_lifecycle_tests() -> None:
    first, lifecycle = stack.emulator_ports(0), stack.emulator_ports(stack.LIFECYCLE_OFFSET)
    second = stack.emulator_ports(stack.SECOND_STACK_OFFSET)
    assert not set(second.values()) & (set(first.values()) | set(lifecycle.values()))
    assert stack.emulator_ports(2000)["firestore"] == 10080  # why not 2000
    assert stack.emulator_ports(1000)["firestore"] in stack.WORKER_PORTS  # nor 1000


def test_an_interrupted_suite_ends_its_whole_process_group(tmp_path: Path) -> None:
    """pytest's xdist workers outlive a killed controller: the group goes as a whole, and
    it is the suite's own group, never the caller's."""
    pid_file = tmp_path / "grandchild"
    script = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(f'{{child.pid}} {{os.getpgid(child.pid)}}')\n"
        "time.sleep(60)\n"
    )

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 1.5)
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            stack._run_suite([sys.executable, "-c", script], dict(os.environ))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    grandchild, group = (int(n) for n in pid_file.read_text().split())
    assert group != os.getpgid(0)  # a group of its own: the caller is never signalled
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not stack._zombie(grandchild):
        time.sleep(0.05)
    assert stack._zombie(grandchild), "the suite's own child outlived the interrupt"
    assert time.monotonic() - started < 30  # not the 60 s the processes would sleep


def test_local_urls_follow_the_region_the_emulator_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The codebase's `.env` files win over the environment, `.env.local` over them all."""
    (tmp_path / "firebase.json").write_text((prerequisites.ROOT / "firebase.json").read_text())
    monkeypatch.setattr(stack, "ROOT", tmp_path)
    monkeypatch.setenv("FUNCTIONS_REGION", "asia-east1")
    assert stack.function_url("demo-x", "health").endswith("/demo-x/asia-east1/health")
    (tmp_path / ".env").write_text("FUNCTIONS_REGION=europe-west1\n")
    assert stack.served_region("demo-x") == "europe-west1"
    (tmp_path / ".env.demo-x").write_text("FUNCTIONS_REGION=europe-west2\n")
    (tmp_path / ".env.local").write_text("# local\nFUNCTIONS_REGION=us-east4\n")
    assert stack.function_url("demo-x", "health", region="europe-west3").endswith(
        "/europe-west3/health"
    )
    assert stack.served_region("demo-x") == "us-east4"
    (tmp_path / ".env.local").unlink()
    assert stack.served_region("demo-x") == "europe-west2"


def test_the_emulators_get_the_live_databases_rules_for_every_database() -> None:
    """Given two databases the Firestore emulator loads no rules (and allows everything);
    given the live one's entry alone it applies those rules to test mode's database too."""
    two = {
        "firestore": [
            {"database": "(default)", "rules": "firestore.rules", "indexes": "i.json"},
            {"database": "sandbox", "rules": "firestore.rules", "indexes": "i.json"},
        ],
        "emulators": {"firestore": {"port": 8080}},
    }
    assert stack.for_the_emulators(two) == {
        "firestore": {"rules": "firestore.rules", "indexes": "i.json"},
        "emulators": {"firestore": {"port": 8080}},
    }
    one = {"firestore": {"rules": "firestore.rules"}}
    assert stack.for_the_emulators(one) == one
    repository = json.loads((prerequisites.ROOT / "firebase.json").read_text())
    assert stack.for_the_emulators(repository)["firestore"] == {
        "rules": "firestore.rules",
        "indexes": "firestore.indexes.json",
    }
