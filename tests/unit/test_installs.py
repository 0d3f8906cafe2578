"""How `make` installs: keyed on the locks' content, never silent for long, and never
leaving node_modules empty when npm cannot reach its registry."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

from tests.helpers import ROOT, closed_port


def _stamp(files: list[Path]) -> str:
    return hashlib.sha256(b"".join(path.read_bytes() for path in files)).hexdigest()[:16]


def _copy_of_the_build(tmp_path: Path) -> Path:
    """The Makefile, its helper and the locks, with installs that look done."""
    tree = tmp_path / "tree"
    for name in (
        "Makefile",
        "devtools/heartbeat.sh",
        "requirements.txt",
        "requirements-dev.txt",
        "tooling/package.json",
        "tooling/package-lock.json",
    ):
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tree / name)
    python_locks = [tree / "requirements.txt", tree / "requirements-dev.txt"]
    node_locks = [tree / "tooling/package.json", tree / "tooling/package-lock.json"]
    (tree / "venv").mkdir()
    (tree / f"venv/.installed-{_stamp(python_locks)}").touch()
    (tree / "tooling/node_modules").mkdir()
    (tree / f"tooling/node_modules/.installed-{_stamp(node_locks)}").touch()
    (tree / "tooling/node_modules/firebase-tools").mkdir()
    return tree


def _make(tree: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-C", str(tree), "--no-print-directory", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_new_file_times_with_the_same_locks_install_nothing(tmp_path: Path) -> None:
    tree = _copy_of_the_build(tmp_path)
    future = time.time() + 3600
    for lock in ("requirements.txt", "requirements-dev.txt", "tooling/package-lock.json"):
        os.utime(tree / lock, (future, future))  # as a fresh clone or a pull leaves them
    assert _make(tree, "-q", "all").returncode == 0  # up to date: nothing to run
    with (tree / "tooling/package.json").open("a") as changed:
        changed.write("\n")  # a change of content is a new install
    assert _make(tree, "-q", "all").returncode == 1


def test_npm_failing_offline_leaves_node_modules_as_it_was(tmp_path: Path) -> None:
    tree = _copy_of_the_build(tmp_path)
    for stamp in (tree / "tooling/node_modules").glob(".installed-*"):
        stamp.unlink()  # the locks changed: npm must run
    offline = f"http://127.0.0.1:{closed_port()}/"
    result = _make(
        tree,
        "all",
        npm_config_registry=offline,
        npm_config_fetch_retries="0",
        npm_config_fetch_timeout="2000",
        npm_config_cache=str(tmp_path / "npm-cache"),
    )
    assert result.returncode != 0
    assert "tooling/node_modules is as it was" in result.stdout + result.stderr
    assert (tree / "tooling/node_modules/firebase-tools").is_dir()
    assert not (tree / "tooling/.staging").exists()


def test_a_long_install_without_a_terminal_says_it_is_still_running() -> None:
    started = time.monotonic()
    result = subprocess.run(
        [str(ROOT / "devtools/heartbeat.sh"), "npm", "sh", "-c", "sleep 4.5; exit 3"],
        env={**os.environ, "HEARTBEAT_S": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3  # the command's own status
    beats = [line for line in result.stdout.splitlines() if "npm: still running" in line]
    assert 2 <= len(beats) <= 5  # one a second, margins for a busy machine
    assert time.monotonic() - started < 30  # nothing holds the output open once it is done
