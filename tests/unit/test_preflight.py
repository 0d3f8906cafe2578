"""The preflight's checks, one planted problem each (the whole command runs on the
emulators: tests/emulator/test_preflight.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devtools import generate, preflight
from devtools.preflight import Function
from functions.resources import declaration
from tests.helpers import EXPORTS, ROOT, run_python

HTTPS: dict[str, Any] = {
    "region": ["us-central1"],
    "availableMemoryMb": 256,
    "timeoutSeconds": 30,
    "maxInstances": 20,
    "secretEnvironmentVariables": [{"key": "CURSOR_SECRET"}],
    "httpsTrigger": {"invoker": ["public"]},
}
QUEUE: dict[str, Any] = {
    "region": ["us-central1"],
    "availableMemoryMb": 256,
    "timeoutSeconds": 30,
    "taskQueueTrigger": {
        "rateLimits": {"maxConcurrentDispatches": 20, "maxDispatchesPerSecond": 50},
        "retryConfig": {"minBackoffSeconds": 10, "maxBackoffSeconds": 3600},
    },
}
EVENT: dict[str, Any] = {
    "region": ["us-central1"],
    "availableMemoryMb": 256,
    "eventTrigger": {"eventType": "google.cloud.firestore.document.v1.written"},
}


def problems_of(name: str, spec: dict[str, Any], region: str = "us-central1") -> list[str]:
    return preflight.check_functions([Function(name, spec)], region)


def test_the_package_options_pass() -> None:
    assert problems_of("api", HTTPS) == []
    assert problems_of("deliverWebhook", QUEUE) == []
    assert problems_of("entriesChanged", EVENT) == []
    console = {k: v for k, v in HTTPS.items() if k != "secretEnvironmentVariables"}
    assert problems_of("console", console) == []


BAD_OPTIONS = [
    ("api", {"region": ["asia-east1"]},
     "region asia-east1, not FUNCTIONS_REGION (us-central1): set the region through "
     "FUNCTIONS_REGION only"),
    ("api", {"availableMemoryMb": 300}, "memory 300 MB is not one Cloud Run offers"),
    ("api", {"availableMemoryMb": 128}, "memory 128 MB; a partner function needs 256"),
    ("api", {"cpu": 0.5, "concurrency": 8},
     "concurrency 8 with 0.5 CPU; more than one request at once needs at least 1 CPU"),
    ("api", {"concurrency": 2000}, "concurrency 2000 (at most 1000)"),
    ("api", {"cpu": 3}, "3 CPU (1, 2, 4, 6 or 8, or below 1)"),
    ("api", {"timeoutSeconds": 4000},
     "timeout 4000 s; an HTTPS function may take at most 3600 s"),
    ("api", {"minInstances": 30}, "min_instances 30 above max_instances 20"),
    ("api", {"httpsTrigger": {}},
     "invoker private; partners call it from the internet and it checks their credentials "
     'itself: invoker "public"'),
    ("api", {"secretEnvironmentVariables": []},
     'does not declare the secret CURSOR_SECRET (secrets=["CURSOR_SECRET"]): its cursors '
     "would be refused with a 500"),
    ("deliverWebhook", {"timeoutSeconds": 1900},
     "timeout 1900 s; a task queue function may take at most 1800 s"),
    ("entriesChanged", {"timeoutSeconds": 600},
     "timeout 600 s; a Firestore trigger may take at most 540 s"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "change", "line"), BAD_OPTIONS)
def test_each_bad_option_is_one_line(name: str, change: dict[str, Any], line: str) -> None:
    base = {"api": HTTPS, "deliverWebhook": QUEUE, "entriesChanged": EVENT}[name]
    assert problems_of(name, {**base, **change}) == [f"main.py: {name}: {line}"]


def test_a_task_queue_is_private_and_within_cloud_tasks_limits() -> None:
    trigger = {
        "invoker": ["public"],
        "rateLimits": {"maxConcurrentDispatches": 6000, "maxDispatchesPerSecond": 501},
        "retryConfig": {"minBackoffSeconds": 60, "maxBackoffSeconds": 10},
    }
    assert problems_of("deliverWebhook", {**QUEUE, "taskQueueTrigger": trigger}) == [
        "main.py: deliverWebhook: a task queue function must not be public: only Cloud Tasks "
        "may call it",
        "main.py: deliverWebhook: rate_limits maxDispatchesPerSecond 501 (at most 500)",
        "main.py: deliverWebhook: rate_limits maxConcurrentDispatches 6000 (at most 5000)",
        "main.py: deliverWebhook: retry min_backoff 60 s above max_backoff 10 s",
    ]


def test_the_cpu_and_concurrency_defaults_follow_the_cli() -> None:
    """No CPU or concurrency set: Cloud Run functions get 1 CPU up to 2 GB and then 80
    requests at once (firebase-tools' memoryToGen2Cpu and DEFAULT_CONCURRENCY)."""
    fn = Function("api", HTTPS)
    assert (fn.cpu, fn.concurrency, fn.kind) == (1, 80, "https")
    big = Function("api", {**HTTPS, "availableMemoryMb": 4096})
    assert (big.cpu, big.concurrency) == (2, 80)
    small = Function("api", {**HTTPS, "cpu": 0.5})
    assert (small.cpu, small.concurrency) == (0.5, 1)


def test_settings_files_parse_as_the_cli_reads_them_and_hold_no_emulator_or_secret() -> None:
    text = (
        "# a comment\nexport RATE_LIMIT_BURST=50\nCONSOLE_API_KEY='AIza x'\n"
        'FUNCTIONS_REGION="europe-west1" \nMAX_BODY_BYTES=2048 # inline\nnot a line\n'
    )
    assert preflight.parse_env(text) == {
        "RATE_LIMIT_BURST": "50",
        "CONSOLE_API_KEY": "AIza x",
        "FUNCTIONS_REGION": "europe-west1",
        "MAX_BODY_BYTES": "2048",
    }
    files = {".env.acme": {"FIRESTORE_EMULATOR_HOST": "x", "CURSOR_SECRET": "y", "A": "b"}}
    assert preflight.check_env_files(files) == [
        ".env.acme: FIRESTORE_EMULATOR_HOST is an emulator variable; a deployed function of a "
        "real project refuses every call with it set: remove it (`.env.local` is the "
        "emulators' file)",
        ".env.acme: CURSOR_SECRET is a secret, not a variable: remove it and run `firebase "
        "functions:secrets:set CURSOR_SECRET`",
    ]


def test_the_indexes_file_must_hold_every_index_and_ttl_the_declaration_needs() -> None:
    needed = json.loads(generate.indexes_file(declaration.current()))
    committed = (ROOT / "firestore.indexes.json").read_text()
    assert preflight.check_indexes(committed, "firestore.indexes.json", needed) == []
    held = json.loads(committed)
    dropped, ttl = held["indexes"].pop(0), held["fieldOverrides"].pop(0)
    found = preflight.check_indexes(json.dumps(held), "firestore.indexes.json", needed)
    fields = ", ".join(f["fieldPath"] for f in dropped["fields"])
    assert found == [
        f"firestore.indexes.json: lacks the index on {dropped['collectionGroup']} ({fields}) "
        "the declaration needs: run `make generate` (or `make adopt INTO=..`)",
        f"firestore.indexes.json: lacks the field override on {ttl['collectionGroup']} "
        "(expiresAt) the declaration needs: run `make generate` (or `make adopt INTO=..`)",
    ]
    assert preflight.check_indexes("{", "x.json", needed)[0].startswith("x.json: not valid JSON")


def test_readmes_deploy_list_is_main_pys_exports() -> None:
    loaded = run_python("-c", EXPORTS)
    assert loaded.returncode == 0, loaded.stderr
    exported = json.loads(loaded.stdout)
    readme = (ROOT / "README.md").read_text()
    assert sorted(preflight.readme_functions(readme) or []) == exported
    assert len(exported) == 15
    assert preflight.check_readme(readme, exported) == []
    assert preflight.check_readme(readme, [*exported[1:], "quote"]) == [
        f"README.md: lists {exported[0]} as deployed, and main.py does not export it",
        "README.md: main.py exports quote, and the deploy list does not name it",
    ]
    assert preflight.check_readme("no list here", exported) == []


def test_firebase_deploy_runs_the_preflight_first() -> None:
    codebase = json.loads((ROOT / "firebase.json").read_text())["functions"][0]
    assert codebase["predeploy"] == [
        'make --no-print-directory -C "$RESOURCE_DIR" preflight PROJECT="$GCLOUD_PROJECT" '
        "PREFLIGHT_ARGS=\"--into '$PROJECT_DIR'\""
    ]


def test_a_deployment_setting_only_the_shell_holds_is_one_line() -> None:
    """The CLI discovers with the shell's variables; the deployed functions get the files'."""
    shell = {"FUNCTIONS_REGION": "europe-west1", "PARTNER_MEMORY_MB": "512", "HOME": "/root"}
    files = {"PARTNER_MEMORY_MB": "512"}
    assert preflight.check_shell_settings(shell, files) == [
        "the shell sets FUNCTIONS_REGION='europe-west1' and the .env files do not: the Firebase "
        "CLI would place the functions by the shell's value, and the deployed functions see "
        "only the files': put it in .env.<project>, or unset it"
    ]
    assert (
        preflight.check_shell_settings(shell, {**files, "FUNCTIONS_REGION": "europe-west1"}) == []
    )
    differing = preflight.check_shell_settings(
        {"PARTNER_RESOURCES": "a.toml"}, {"PARTNER_RESOURCES": "b.toml"}
    )
    assert differing[0].startswith(
        "the shell sets PARTNER_RESOURCES='a.toml' and the .env files set 'b.toml'"
    )
