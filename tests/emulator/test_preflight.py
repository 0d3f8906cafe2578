"""`make preflight` on a copy of this repository: it passes as the repository is, and
fails with one line for each problem planted in the files a deploy reads (main.py's
options, the settings files, the rules, the indexes, README's list). The rules compile on
the running Firestore emulator, in a project of the check's own."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from devtools import preflight
from tests.helpers import ROOT

PROJECT = "acme-prod"
COPIED = ("main.py", "resources.toml", "firebase.json", "firestore.rules",
          "firestore.indexes.json", "README.md")  # fmt: skip
PLANTED_FUNCTIONS = """

from firebase_functions import options as planted_options, tasks_fn as planted_tasks


@https_fn.on_request(region="asia-east1", memory=planted_options.MemoryOption.MB_128,
                     timeout_sec=4000)
def planted(req: Request) -> Response:
    return Response("")


@https_fn.on_request(cpu=0.5, concurrency=8, secrets=["CURSOR_SECRET"], invoker="public")
def crowded(req: Request) -> Response:
    return Response("")


@planted_tasks.on_task_dispatched(
    rate_limits=planted_options.RateLimits(max_dispatches_per_second=900),
    retry_config=planted_options.RetryConfig(min_backoff_seconds=60, max_backoff_seconds=10),
)
def queued(req: object) -> None:
    return None
"""


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of this repository's deployable files, with a project's settings file, and
    a shell that sets none of the deployment's settings (the files do)."""
    for name in list(os.environ):
        if name.startswith(preflight.DEPLOYMENT_SETTINGS):
            monkeypatch.delenv(name)
    root = tmp_path / "partner-api"
    shutil.copytree(ROOT / "functions", root / "functions",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    for name in COPIED:
        shutil.copy(ROOT / name, root / name)
    (root / f".env.{PROJECT}").write_text("CONSOLE_API_KEY=AIzaExample\n")
    return root


def test_this_repository_passes_and_is_told_what_to_check_in_the_cloud(package: Path) -> None:
    problems, notes = preflight.run(package, PROJECT)
    assert problems == []
    assert notes[0].startswith(f"checked 15 functions in us-central1 for {PROJECT}: api, ")
    commands = "\n".join(notes[1:])
    for api, _ in preflight.APIS:
        assert api in commands
    assert "--role=roles/cloudtasks.enqueuer" in commands
    assert f"gcloud firestore fields ttls list --project {PROJECT}" in commands


def test_another_region_passes_when_every_function_follows_it(package: Path) -> None:
    (package / f".env.{PROJECT}").write_text(
        "CONSOLE_API_KEY=AIzaExample\nFUNCTIONS_REGION=europe-west1\n"
    )
    problems, notes = preflight.run(package, PROJECT)
    assert (problems, notes[0].split(":")[0]) == (
        [],
        f"checked 15 functions in europe-west1 for {PROJECT}",
    )


def test_every_planted_problem_is_one_line(package: Path) -> None:
    (package / f".env.{PROJECT}").write_text(
        "FIRESTORE_EMULATOR_HOST=127.0.0.1:8080\nCURSOR_SECRET=plain\nRATE_LIMIT_BURST=0\n"
        "FUNCTIONS_REGION=europe-west1\n"
    )
    with (package / "main.py").open("a") as main:
        main.write(PLANTED_FUNCTIONS)
    rules = (package / "firestore.rules").read_text()
    (package / "firestore.rules").write_text(rules.rstrip()[:-1])  # its last brace
    indexes = json.loads((package / "firestore.indexes.json").read_text())
    dropped = indexes["indexes"].pop(0)
    (package / "firestore.indexes.json").write_text(json.dumps(indexes))
    readme = (package / "README.md").read_text()
    (package / "README.md").write_text(readme.replace("| `health` | HTTPS", "| `healthz` | HTTPS"))
    firebase = json.loads((package / "firebase.json").read_text())
    firebase["firestore"] = firebase["firestore"][:1]  # the live database's entry alone
    (package / "firebase.json").write_text(json.dumps(firebase))
    problems, _ = preflight.run(package, PROJECT)
    env = f".env.{PROJECT}"
    expected_start = [
        f"{env}: FIRESTORE_EMULATOR_HOST is an emulator variable; a deployed function of a real "
        "project refuses every call with it set: remove it (`.env.local` is the emulators' file)",
        f"{env}: CURSOR_SECRET is a secret, not a variable: remove it and run `firebase "
        "functions:secrets:set CURSOR_SECRET`",
    ]
    assert problems[:2] == expected_start
    assert problems[2] == "RATE_LIMIT_BURST='0' is not 1 to 100000 calls; the default 100 applies"
    fields = ", ".join(f["fieldPath"] for f in dropped["fields"])
    assert problems[3:] == [
        "main.py: crowded: region us-central1, not FUNCTIONS_REGION (europe-west1): set the "
        "region through FUNCTIONS_REGION only",
        "main.py: crowded: concurrency 8 with 0.5 CPU; more than one request at once needs at "
        "least 1 CPU",
        "main.py: planted: region asia-east1, not FUNCTIONS_REGION (europe-west1): set the "
        "region through FUNCTIONS_REGION only",
        "main.py: planted: memory 128 MB; a partner function needs 256",
        "main.py: planted: timeout 4000 s; an HTTPS function may take at most 3600 s",
        "main.py: planted: invoker private; partners call it from the internet and it checks "
        'their credentials itself: invoker "public"',
        'main.py: planted: does not declare the secret CURSOR_SECRET (secrets=["CURSOR_SECRET"]'
        "): its cursors would be refused with a 500",
        "main.py: queued: region us-central1, not FUNCTIONS_REGION (europe-west1): set the "
        "region through FUNCTIONS_REGION only",
        "main.py: queued: rate_limits maxDispatchesPerSecond 900 (at most 500)",
        "main.py: queued: retry min_backoff 60 s above max_backoff 10 s",
        f"{env}: no CONSOLE_API_KEY: the console cannot sign owners in (set it to the "
        "project's Web API key)",
        "README.md: lists healthz as deployed, and main.py does not export it",
        "README.md: main.py exports crowded, and the deploy list does not name it",
        "README.md: main.py exports health, and the deploy list does not name it",
        "README.md: main.py exports planted, and the deploy list does not name it",
        "README.md: main.py exports queued, and the deploy list does not name it",
        "firebase.json deploys no rules and indexes to test mode's database (sandbox): run "
        "`make adopt`, or add its entry to `firestore`",
        problems[-2],
        f"firestore.indexes.json: lacks the index on {dropped['collectionGroup']} ({fields}) "
        "the declaration needs: run `make generate` (or `make adopt INTO=..`)",
    ]
    assert problems[-2].startswith("firestore.rules: does not compile: ")
    assert "missing '}'" in problems[-2]


def test_main_py_that_does_not_load_and_a_demo_project_stop_it(package: Path) -> None:
    with (package / "main.py").open("a") as main:
        main.write("\nraise RuntimeError('planted at import')\n")
    problems, notes = preflight.run(package, "demo-partner-api")
    assert problems == [
        "demo-partner-api: a demo- project exists only on the emulators; name yours",
        "main.py: does not load: RuntimeError: planted at import",
    ]
    assert notes == []
