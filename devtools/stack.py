"""Run the local emulator stack: `serve` for people, `test` for pytest.

One mechanism for both, so that what the tests exercise is what a developer runs:
find a Java 21+ runtime, wire the offline Firestore emulator where the Firebase CLI
cannot download its own, start the auth, firestore and functions emulators in their own
process session, wait until the functions answer, and stop the whole session afterwards
(the CLI leaves its Python function workers behind when it is interrupted).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from devtools.prerequisites import CACHE, ROOT, StackError, find_java, firestore_launcher
from functions.core import config

# The Firebase CLI is pinned in tooling/package.json: a package.json in the functions
# source folder (the repository root) would make the CLI treat the code as Node.js.
FIREBASE_BIN = ROOT / "tooling" / "node_modules" / ".bin" / "firebase"
DEFAULT_PROJECT = "demo-partner-api"
SECOND_STACK_REGION = "europe-west1"
"""The second stack serves every function in another region than the first (the default
or FUNCTIONS_REGION), so `make test` proves that one setting places them all."""
READY_TIMEOUT_S = 180.0


def emulator_ports(offset: int = 0) -> dict[str, int]:
    """Every port the stack binds, read from firebase.json so there is one source (moved
    by `offset` for a second stack beside the first)."""
    config = json.loads((ROOT / "firebase.json").read_text())["emulators"]
    ports = {
        name: int(value["port"])
        for name, value in config.items()
        if isinstance(value, dict) and "port" in value
    }
    if "websocketPort" in config.get("firestore", {}):
        ports["firestore-websocket"] = int(config["firestore"]["websocketPort"])
    return {name: port + offset for name, port in ports.items()}


def local_env(project: str) -> dict[str, str]:
    """The environment for everything the stack starts: loopback only, explicit project."""
    env = dict(os.environ)
    java = find_java()
    env["PATH"] = f"{java.parent}{os.pathsep}{env.get('PATH', '')}"
    env["JAVA_HOME"] = str(java.parent.parent)
    launcher = firestore_launcher()
    if launcher is not None:
        env.setdefault("FIRESTORE_EMULATOR_BINARY_PATH", str(launcher))
    env.update(
        {
            "GCLOUD_PROJECT": project,
            "GOOGLE_CLOUD_PROJECT": project,
            "NO_GCE_CHECK": "true",
            "METADATA_SERVER_DETECTION": "none",
            "CI": "true",
            "FIREBASE_CLI_DISABLE_UPDATE_CHECK": "true",
        }
    )
    env.setdefault("USAGE_FLUSH_SECONDS", "5")  # locally, usage shows within seconds
    return env


def client_env(project: str, offset: int = 0) -> dict[str, str]:
    """Variables that point SDK clients (tests, seeding, the CLI tool) at the emulators."""
    ports = emulator_ports(offset)
    return {
        "GCLOUD_PROJECT": project,
        "GOOGLE_CLOUD_PROJECT": project,
        "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{ports['firestore']}",
        "FIREBASE_AUTH_EMULATOR_HOST": f"127.0.0.1:{ports['auth']}",
        "FUNCTIONS_EMULATOR_ORIGIN": f"http://127.0.0.1:{ports['functions']}",
        "CLOUD_TASKS_EMULATOR_HOST": f"127.0.0.1:{ports['tasks']}",
        "NO_GCE_CHECK": "true",
    }


def served_region(project: str) -> str:
    """FUNCTIONS_REGION as the Functions emulator serves it: from the codebase's `.env.local`,
    `.env.<project>` or `.env` (they win over the environment, as the Firebase CLI merges
    them), else from the environment."""
    from devtools.preflight import parse_env  # noqa: PLC0415

    for name in (".env.local", f".env.{project}", ".env"):
        path = ROOT / name
        if path.is_file() and (value := parse_env(path.read_text()).get("FUNCTIONS_REGION")):
            return value
    return config.functions_region()


def function_url(project: str, name: str, offset: int = 0, region: str | None = None) -> str:
    """A function's local URL, in `region` or the one the emulator serves."""
    where = region or served_region(project)
    return f"http://127.0.0.1:{emulator_ports(offset)['functions']}/{project}/{where}/{name}"


def busy_ports(offset: int = 0) -> list[str]:
    """The stack's ports that something holds now (`name (port)`)."""
    busy = []
    for name, port in emulator_ports(offset).items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                busy.append(f"{name} ({port})")
    return busy


def check_prerequisites(offset: int = 0) -> None:
    if not FIREBASE_BIN.exists():
        raise StackError("node_modules is missing the Firebase CLI: run `make` (npm ci).")
    if busy := busy_ports(offset):
        raise StackError(
            "port(s) already in use: " + ", ".join(busy) + ". Stop the other emulator "
            "stack (or whatever holds them) and try again."
        )


LOCAL_SECRETS = ROOT / ".secret.local"
SECRETS = ("CURSOR_SECRET",)
"""The secrets main.py declares. The Functions emulator reads them from .secret.local and
would otherwise try Google Cloud Secret Manager, which a local run must never reach."""


def ensure_local_secrets() -> None:
    """Give every declared secret a random local value in .secret.local (never deployed)."""
    lines = LOCAL_SECRETS.read_text().splitlines() if LOCAL_SECRETS.exists() else []
    present = {line.partition("=")[0].strip() for line in lines if "=" in line}
    missing = [name for name in SECRETS if name not in present]
    if missing:
        lines += [f"{name}={secrets.token_hex(32)}" for name in missing]
        LOCAL_SECRETS.write_text("\n".join(lines) + "\n")


class Progress:
    """One line per phase on stderr, with the time since the start, so that a start-up of
    20 to 40 seconds never looks frozen; and the phase that was running when one fails."""

    def __init__(self, log_path: Path, *, label: str = "", started: float | None = None) -> None:
        self.started = time.monotonic() if started is None else started
        self.log_path = log_path
        self.label = label
        self.current = "starting"

    def phase(self, text: str) -> None:
        self.current = text
        print(
            f"[{time.monotonic() - self.started:6.1f}s] {self.label}{text}",
            file=sys.stderr,
            flush=True,
        )

    def failed(self, reason: object) -> None:
        print(
            f"[{time.monotonic() - self.started:6.1f}s] {self.label}failed while "
            f"{self.current}: {reason}\n"
            f"          the emulators' log: {self.log_path}",
            file=sys.stderr,
            flush=True,
        )


MILESTONES = (
    ("Starting emulators", "starting the Auth, Firestore and Functions emulators"),
    ("Firestore Emulator was started", "Firestore is up"),
    ("Watching", "discovering the functions in main.py"),
    ("Loaded functions definitions", "functions discovered; Auth is up"),
    ("All emulators ready", "emulators ready; loading the functions (first call)"),
)
"""Lines of the Firebase CLI's output that mark a phase of the start-up."""


OWNER_TEST_APP = ROOT / "tests" / "emulator" / "owner_app"
"""A codebase of owner endpoints that the tests define, served beside the package's own
when the stack runs tests (never by `make serve`, never deployed)."""
TEST_CONFIG = ROOT / ".firebase-test.json"


def for_the_emulators(config: dict[str, Any]) -> dict[str, Any]:
    """firebase.json as the Firestore emulator takes it: given two databases it loads no
    rules at all (and allows everything); given the live database's rules alone, it
    applies them to every database, test mode's included."""
    firestore = config.get("firestore")
    if not isinstance(firestore, list):
        return config
    live: dict[str, Any] = next(
        (e for e in firestore if e.get("database", "(default)") == "(default)"), {}
    )
    return {**config, "firestore": {k: v for k, v in live.items() if k != "database"}}


def test_config(codebases: Sequence[Path], *, offset: int) -> Path:
    """firebase.json for `firebase --config`, as the emulators take it: the live database's
    rules and indexes, and `codebases` added as Python codebases of their own, each with
    the package's venv (the Functions emulator runs a codebase in `<source>/venv`). With
    `offset`, every emulator port moves by it, in a file of its own."""
    config = for_the_emulators(json.loads((ROOT / "firebase.json").read_text()))
    for emulator in config["emulators"].values():
        for key in ("port", "websocketPort"):
            if isinstance(emulator, dict) and key in emulator:
                emulator[key] += offset
    (package,) = config["functions"]
    for source in codebases:
        venv = source / "venv"
        if not venv.exists():
            venv.symlink_to(os.path.relpath(ROOT / "venv", source))
        config["functions"].append(
            {
                "source": str(source.relative_to(ROOT)),
                "codebase": source.name.replace("_", "-"),
                "runtime": package["runtime"],
                "ignore": ["venv", "**/__pycache__"],
            }
        )
    path = TEST_CONFIG if not offset else TEST_CONFIG.with_name(f".firebase-test-{offset}.json")
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


class Stack:
    """The emulators as one process session that is started and stopped as a whole.
    `codebases`: more function sources to serve beside the package (the tests' own)."""

    def __init__(
        self,
        project: str,
        log_path: Path,
        echo: bool,
        *,
        progress: Progress | None = None,
        codebases: Sequence[Path] = (),
        port_offset: int = 0,
        region: str | None = None,
    ) -> None:
        self.project = project
        self.region = region
        self.log_path = log_path
        self.echo = echo
        self.progress = progress or Progress(log_path)
        self.codebases = tuple(codebases)
        self.offset = port_offset
        self.process: subprocess.Popen[str] | None = None
        self.members = Members(CACHE / f"stack-{port_offset}.pids")
        self._pump: threading.Thread | None = None

    def start(self) -> None:
        self.progress.phase("checking ports, Java and local secrets")
        if ended := self.members.end_leftovers():
            self.progress.phase(f"ended {ended} process(es) an aborted run left behind")
        check_prerequisites(self.offset)
        ensure_local_secrets()
        env = local_env(self.project)
        if self.region:
            env["FUNCTIONS_REGION"] = self.region
        command = [
            str(FIREBASE_BIN),
            "emulators:start",
            "--only",
            "auth,firestore,functions,tasks",
            "--project",
            self.project,
        ]
        command += ["--config", str(test_config(self.codebases, offset=self.offset))]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.members.follow(self.process.pid)
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        with self.log_path.open("w") as log:
            for line in self.process.stdout:
                log.write(line)
                log.flush()
                if self.echo:
                    sys.stdout.write(line)
                for marker, text in MILESTONES:
                    if marker in line and self.progress.current != text:
                        self.progress.phase(text)
                if "All emulators ready" in line:
                    break
                if time.monotonic() > deadline:
                    raise StackError(f"emulators not ready after {READY_TIMEOUT_S:.0f} s")
            else:
                raise StackError(
                    f"the emulators exited during start-up; see {self.log_path}:\n"
                    + _tail(self.log_path)
                )
        self._drain_output()
        self._wait_for_function("health", deadline)
        self.progress.phase("the functions answer")

    def _drain_output(self) -> None:
        """Keep reading the CLI's output into the log so its pipe never fills up."""
        assert self.process is not None
        assert self.process.stdout is not None
        stream = self.process.stdout

        def pump() -> None:
            with self.log_path.open("a") as log:
                for line in stream:
                    log.write(line)
                    log.flush()
                    if self.echo:
                        sys.stdout.write(line)

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()

    def _wait_for_function(self, name: str, deadline: float) -> None:
        """The first call spins up the function's worker; wait for it to answer."""
        url = function_url(self.project, name, self.offset, self.region)
        last_error = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=30) as response:
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as exc:
                last_error = f"HTTP {exc.code}"
            except OSError as exc:
                last_error = str(exc)
            time.sleep(0.5)
        raise StackError(f"{url} did not answer 200 ({last_error}); see {self.log_path}")

    def stop(self) -> None:
        """Stop every process the stack started, within STOP_S: the CLI first (it stops
        its emulators), then whatever it left: function workers it orphaned, and the
        Firestore emulator's JVM, which runs in a session of its own."""
        if self.process is None:
            return
        started = time.monotonic()
        self.members.refresh()  # while the CLI lives, its tree is whole
        _signal_group(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=CLI_EXIT_S)
        except subprocess.TimeoutExpired:
            _signal_group(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        self.members.end(deadline=started + STOP_S)
        if self._pump is not None:  # the CLI's output ends with it: read to the end
            self._pump.join(timeout=2)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None


CLI_EXIT_S = 5.0
"""How long the Firebase CLI gets to stop its emulators itself."""
STOP_S = 9.0
"""By when everything the stack started has ended (the CLI's own wait included)."""


def process_table() -> dict[int, tuple[int, int, int]]:
    """Every process: pid -> (parent pid, session id, start time in clock ticks), from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        # after the command: state, ppid, pgrp, session, ..., starttime (the 20th)
        table[int(entry)] = (int(fields[1]), int(fields[3]), int(fields[19]))
    return table


class Members:
    """The processes of one stack, found from the CLI's process: its session (function
    workers, orphaned ones too), the sessions of its children (the JVM starts its own),
    and their descendants. Written to a file while the stack runs, so that a run that was
    killed outright has its leftovers ended by the next start. Identified by pid and start
    time: a pid that was reused since is never signalled."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.known: dict[int, int] = {}
        self.root: int | None = None
        self._stop = threading.Event()

    def follow(self, root: int) -> None:
        """Track the stack of the CLI process `root`, every second, until `end`."""
        self.root = root
        self._stop.clear()

        def watch() -> None:
            while not self._stop.wait(1.0):
                self.refresh()

        threading.Thread(target=watch, daemon=True).start()

    def refresh(self) -> dict[int, int]:
        if self.root is None:
            return self.known
        table = process_table()
        if self.root not in table:
            return self.known
        sessions = {table[self.root][1]}
        sessions |= {sid for pid, (ppid, sid, _) in table.items() if ppid == self.root}
        found = {pid for pid, (_, sid, _) in table.items() if sid in sessions}
        frontier = list(found)
        while frontier:  # and what they started, wherever it went
            parent = frontier.pop()
            for pid, (ppid, _, _) in table.items():
                if ppid == parent and pid not in found:
                    found.add(pid)
                    frontier.append(pid)
        found.discard(os.getpid())
        self.known.update({pid: table[pid][2] for pid in found})
        self._save()
        return self.known

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(sorted(self.known.items())))

    def alive(self) -> dict[int, int]:
        table = process_table()
        return {
            pid: start
            for pid, start in self.known.items()
            if pid in table and table[pid][2] == start and not _zombie(pid)
        }

    def end(self, *, deadline: float) -> list[int]:
        """SIGTERM to every member still alive, SIGKILL to whatever is left at the half
        of the time to `deadline`; returns the pids that outlived the deadline."""
        self._stop.set()
        left = self.alive()
        for pid in left:
            _signal(pid, signal.SIGTERM)
        grace = time.monotonic() + max(0.5, (deadline - time.monotonic()) / 2)
        while left and time.monotonic() < grace:
            time.sleep(0.1)
            left = self.alive()
        for pid in left:
            _signal(pid, signal.SIGKILL)
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = self.alive()
        if not left:
            self.path.unlink(missing_ok=True)
            self.known = {}
        return sorted(left)

    def end_leftovers(self) -> int:
        """End the processes an earlier run of this stack left (it was killed before it
        could stop them); returns how many were still there."""
        try:
            recorded = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return 0
        self.known = {int(pid): int(start) for pid, start in recorded}
        found = len(self.alive())
        self.end(deadline=time.monotonic() + STOP_S)
        return found


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except OSError:
        return True


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text().splitlines()[-lines:])
    except OSError:
        return ""


def _run_with_stack(
    project: str,
    echo: bool,
    body: Callable[[Progress], int],
    *,
    on_interrupt: int = 130,
    before_start: Callable[[], None] | None = None,
    after: Callable[[], None] | None = None,
    codebases: Sequence[Path] = (),
) -> int:
    progress = Progress(CACHE / "emulators.log")
    stack = Stack(
        project, CACHE / "emulators.log", echo=echo, progress=progress, codebases=codebases
    )

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    # Also when started from a shell that ignores SIGINT for background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if before_start is not None:
            before_start()
        stack.start()
        return int(body(progress))
    except StackError as exc:
        progress.failed(exc)
        return 2
    except KeyboardInterrupt:
        return on_interrupt
    finally:
        if after is not None:
            after()
        # A second Ctrl-C (or a TERM) must not cut the stop short and leave processes.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("stopping the emulators ...", file=sys.stderr)
        stack.stop()


def cmd_test(project: str, pytest_args: Sequence[str], *, overlap: bool = False) -> int:
    """pytest with the emulators up. With `overlap`, what needs no emulator (lint,
    formatting and types in one line of work, the unit suite in another) runs while the
    emulators start; the emulator suite as soon as they answer, in WORKERS workers, with
    the tests marked `empty_database` one at a time on a second stack beside it, then
    those marked `alone`; and the coverage of every part is reported as one."""
    args = list(pytest_args)
    coverage = [a for a in args if a.startswith("--cov") and not a.startswith("--cov-report")]
    checks = Checks(coverage)
    second: list[SecondStack] = []

    def run_pytest(progress: Progress) -> int:
        env = {**local_env(project), **client_env(project)}
        if not overlap:
            progress.phase("running the tests")
            command = [sys.executable, "-m", "pytest", *args]
            return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
        progress.phase(
            f"emulators ready; the emulator suite in {WORKERS} workers (the checks go on)"
        )
        checks.start_beside(env)
        suite = [a for a in args if not a.startswith("--cov-report")]
        suite += [f"--ignore={path}" for path in BESIDE]
        if coverage:
            env["COVERAGE_FILE"] = str(COVERAGE_PARTS[1])
            suite.append("--cov-report=")
        pytest = [sys.executable, "-m", "pytest", "tests/emulator", *suite]
        second.append(SecondStack(project, progress, [*pytest, "-m", EMPTY_DATABASE], coverage))
        second[0].start()
        others = f"not ({EMPTY_DATABASE} or {ALONE})"
        shared = [*pytest, "-n", str(WORKERS), "--dist", "worksteal", "-m", others]
        code = _suite_exit(_run_suite(shared, env))
        code = code or second[0].wait()
        if code == 0:
            progress.phase("the emulator tests that time the queues, alone")
            alone = [*pytest, "-m", ALONE, *(["--cov-append"] if coverage else [])]
            code = _suite_exit(_run_suite(alone, env))
        progress.phase(f"emulator suite {'passed' if code == 0 else f'FAILED (exit {code})'}")
        passed = checks.passed(progress)
        if coverage and code == 0 and passed:
            report_coverage()
        return code or (0 if passed else 1)

    return _run_with_stack(
        project,
        echo=False,
        body=run_pytest,
        before_start=(lambda: start_checks(checks)) if overlap else None,
        after=lambda: _stop_all(checks, second),
        codebases=(OWNER_TEST_APP,),
    )


def _stop_all(checks: Checks, second: Sequence[SecondStack]) -> None:
    checks.stop()
    for stack in second:
        stack.stop()


WORKERS = 2
"""pytest workers of the emulator suite on the one stack: each test has tenants of its own
(tests/helpers.py `T`), so the tests need no wipe between them. With the second stack's
tests beside them, two keep both cores busy (a third made no run shorter, and slowed the
emulators' answers more)."""
EMPTY_DATABASE = "empty_database"
"""The tests that empty the emulators before each of them (they read every user or whole
collections, or swap the rules): one at a time, on a second stack beside the others."""
ALONE = "alone"
"""The tests that time the queues under a load of their own making, which other tests'
load would add to: last, alone."""
SECOND_STACK_OFFSET = 3000
"""How far the second stack's ports are from the first's. Every stack's ports stay out
of WORKER_PORTS and off the ports Node's fetch refuses to call (the Fetch standard's bad
ports: at 2000, Firestore would be on 10080, and the Functions emulator could not register
its triggers with it)."""
LIFECYCLE_OFFSET = 5000
"""The ports of the stack the lifecycle test starts and abandons beside the others."""
WORKER_PORTS = range(8081, 9082)
"""Where the Functions emulator finds a port for each function worker it starts (8081
plus up to 1000): a stack's port in it can be taken by a worker of another stack."""
NO_TESTS = 5
"""pytest's exit code when a selection holds no test (a phase with nothing to run)."""


def _run_suite(command: Sequence[str], env: dict[str, str]) -> int:
    """pytest in a process group of its own, ended as a whole when the run is interrupted:
    xdist's workers outlive their controller, and would go on calling stopped emulators."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, process_group=0)
    try:
        return process.wait()
    except BaseException:
        _end_group(process)
        raise


def _end_group(process: subprocess.Popen[Any]) -> None:
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_S)
    except subprocess.TimeoutExpired:
        _signal_group(process.pid, signal.SIGKILL)
        process.wait()


def _suite_exit(code: int) -> int:
    return 0 if code == NO_TESTS else code


COVERAGE_PARTS = (ROOT / ".coverage.unit", ROOT / ".coverage.emulator", ROOT / ".coverage.empty")
BESIDE = ("tests/emulator/test_docs_page.py",)
"""Emulator tests that touch only data of their own (the reference page in Chromium,
through the Functions emulator): they run in a process of their own beside the suite."""


class SecondStack:
    """The tests marked empty_database, one at a time, on a stack of their own (its ports
    moved by SECOND_STACK_OFFSET): started once the first stack is up, run beside the
    emulator suite, and stopped when they are done (or when the run is interrupted)."""

    def __init__(
        self, project: str, progress: Progress, pytest: Sequence[str], coverage: Sequence[str]
    ) -> None:
        log_path = CACHE / f"emulators-{SECOND_STACK_OFFSET}.log"
        self.progress = Progress(log_path, label="second stack: ", started=progress.started)
        self.stack = Stack(
            project,
            log_path,
            echo=False,
            progress=self.progress,
            codebases=(OWNER_TEST_APP,),
            port_offset=SECOND_STACK_OFFSET,
            region=SECOND_STACK_REGION,
        )
        self.command = [*pytest, "-q"]
        self.output = CACHE / "empty-database-tests.log"  # printed whole when a test failed
        self.env = {**local_env(project), **client_env(project, SECOND_STACK_OFFSET)}
        self.env["FUNCTIONS_REGION"] = SECOND_STACK_REGION
        if coverage:
            self.env["COVERAGE_FILE"] = str(COVERAGE_PARTS[2])
        self.code: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="second stack")

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            self.stack.start()
            if self._stopping:
                return
            self.progress.phase(f"ready; the tests marked {EMPTY_DATABASE}, one at a time")
            with self.output.open("w") as output:
                process = subprocess.Popen(
                    self.command,
                    cwd=ROOT,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    process_group=0,
                )
                self._process = process
                self.code = _suite_exit(process.wait())
            said = self.output.read_text().strip().splitlines() or [""]
            if self.code == 0:
                self.progress.phase(f"the tests marked {EMPTY_DATABASE}: {said[-1]}")
            else:
                print("\n".join(said), file=sys.stderr, flush=True)
                self.progress.phase(f"the tests marked {EMPTY_DATABASE} FAILED (exit {self.code})")
        except StackError as exc:
            self.progress.failed(exc)
            self.code = 2
        finally:
            self.stack.stop()

    def wait(self) -> int:
        self._thread.join()
        return 2 if self.code is None else self.code

    def stop(self) -> None:
        """End its tests if they still run, and wait until its emulators are stopped."""
        self._stopping = True
        if self._process is not None and self._process.poll() is None:
            _end_group(self._process)
        if self._thread.is_alive():
            self._thread.join(timeout=READY_TIMEOUT_S + STOP_S)


def start_checks(checks: Checks) -> None:
    """The checks, after the coverage data of an earlier run is gone."""
    for path in COVERAGE_PARTS:
        path.unlink(missing_ok=True)
    checks.start()


def report_coverage() -> None:
    """Both suites' coverage combined into `.coverage`, reported as one."""
    coverage = [sys.executable, "-m", "coverage"]
    parts = [str(path) for path in COVERAGE_PARTS if path.exists()]
    subprocess.run([*coverage, "combine", "--quiet", *parts], cwd=ROOT, check=False)
    subprocess.run([*coverage, "report", "--skip-covered"], cwd=ROOT, check=False)


class Checks:
    """What needs no emulator, in the background: lint, formatting and types one after the
    other, the unit suite beside them; each command's output kept for when it fails."""

    def __init__(self, coverage: Sequence[str]) -> None:
        bin_dir = Path(sys.executable).parent
        unit = [sys.executable, "-m", "pytest", "tests/unit", "-q", "-p", "no:cacheprovider"]
        self.lines: list[list[tuple[str, list[str], dict[str, str]]]] = [
            [
                ("lint", [str(bin_dir / "ruff"), "check", "--quiet", "."], {}),
                ("formatting", [str(bin_dir / "ruff"), "format", "--check", "--quiet", "."], {}),
                ("workflows", [sys.executable, "-m", "devtools.workflows"], {}),
                ("types", [str(bin_dir / "mypy"), "--no-error-summary"], {}),
            ],
            [
                (
                    "unit suite",
                    [*unit, *coverage, "--cov-report="] if coverage else unit,
                    {"COVERAGE_FILE": str(COVERAGE_PARTS[0])} if coverage else {},
                )
            ],
        ]
        self.results: list[tuple[str, int, str, float]] = []
        self._threads: list[threading.Thread] = []
        self._running: set[subprocess.Popen[str]] = set()
        self._stopping = False

    def start(self) -> None:
        for line in self.lines:
            thread = threading.Thread(target=self._run, args=(line,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def start_beside(self, env: dict[str, str]) -> None:
        """The emulator tests that touch only their own data, beside the emulator suite, once the
        unit suite is done (the browser then shares the machine with one suite, not two)."""
        command = [sys.executable, "-m", "pytest", *BESIDE, "-q", "-p", "no:cacheprovider"]
        line = [("page tests", command, env)]
        self.lines.append(line)
        earlier = list(self._threads)

        def after_the_unit_suite() -> None:
            for thread in earlier[1:]:
                thread.join()
            self._run(line)

        thread = threading.Thread(target=after_the_unit_suite, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _run(self, line: list[tuple[str, list[str], dict[str, str]]]) -> None:
        for name, command, env in line:
            if self._stopping:
                return
            started = time.monotonic()
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            self._running.add(process)
            output, _ = process.communicate()
            self._running.discard(process)
            self.results.append((name, process.returncode, output, time.monotonic() - started))
            if process.returncode != 0:
                return

    def stop(self) -> None:
        """End whatever still runs (the run was interrupted, or the emulators never came up)."""
        self._stopping = True
        for process in list(self._running):
            process.terminate()

    def passed(self, progress: Progress) -> bool:
        """Wait for the checks; say how each went, and print the output of any that failed."""
        for thread in self._threads:
            thread.join()
        for name, code, output, seconds in self.results:
            last = (
                output.strip().splitlines()[-1:]
                if name.endswith("tests") or "suite" in name
                else []
            )
            verdict = "passed" if code == 0 else f"FAILED (exit {code})"
            detail = f": {last[0]}" if last and code == 0 else ""
            progress.phase(f"{name} {verdict} in {seconds:.0f} s{detail}")
            if code != 0:
                print(output, file=sys.stderr, flush=True)
        expected = sum(len(line) for line in self.lines)
        return len(self.results) == expected and all(code == 0 for _, code, _, _ in self.results)


def cmd_serve(project: str) -> int:
    def seed_and_wait(progress: Progress) -> int:
        progress.phase("seeding demo partners, users, keys and entries")
        os.environ.update(client_env(project))
        from devtools import seed  # noqa: PLC0415 - needs the emulator variables first

        log_path = str(CACHE.relative_to(ROOT) / "emulators.log")
        banner = seed.seed_and_describe(project, function_url, log_path)
        progress.phase(f"ready; request logs go to {log_path}")
        print(banner, flush=True)
        while True:
            time.sleep(3600)

    return _run_with_stack(project, echo=False, body=seed_and_wait, on_interrupt=0)


def cmd_setup() -> list[str]:
    """What an existing app needs before its own emulators load this codebase, without
    starting anything: the Firebase CLI and Java are there, and `.secret.local` holds a
    local value of every declared secret. Returns what it checked, a line each.

    Raises: StackError (the CLI or Java is missing)."""
    if not FIREBASE_BIN.exists():
        raise StackError("node_modules is missing the Firebase CLI: run `make` (npm ci).")
    java = find_java()
    ensure_local_secrets()
    return [
        f"python: {sys.executable} ({sys.version.split()[0]})",
        f"firebase-tools: {FIREBASE_BIN.relative_to(ROOT)}",
        f"java: {java}",
        f"local secrets: {LOCAL_SECRETS.name} ({', '.join(SECRETS)})",
    ]


def cmd_exec(project: str, module_args: Sequence[str]) -> int:
    """`python -m MODULE ARGS` with the emulators up (soak runs, benchmarks)."""

    def run_module(progress: Progress) -> int:
        progress.phase(f"running {module_args[0] if module_args else 'nothing'}")
        env = {**local_env(project), **client_env(project)}
        command = [sys.executable, "-m", *module_args]
        return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode

    return _run_with_stack(project, echo=False, body=run_module, codebases=(OWNER_TEST_APP,))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["serve", "test", "exec", "setup"])
    parser.add_argument("--project", default=os.environ.get("PROJECT") or DEFAULT_PROJECT)
    parser.add_argument(
        "--overlap",
        action="store_true",
        help="test: lint, types and the unit suite while the emulators start, then the rest",
    )
    parser.add_argument(
        "rest", nargs=argparse.REMAINDER, help="pytest arguments, or MODULE ARGS for exec"
    )
    args = parser.parse_args(argv)
    rest = [a for a in args.rest if a != "--"]
    try:
        if args.command == "setup":
            print("\n".join(["ready, nothing started:", *cmd_setup()]))
            return 0
        if args.command == "serve":
            return cmd_serve(args.project)
        if args.command == "exec":
            return cmd_exec(args.project, rest)
        return cmd_test(args.project, rest, overlap=args.overlap)
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
