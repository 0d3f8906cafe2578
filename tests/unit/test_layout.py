"""The deployable shape, read from the files alone: discovery, the deploy configuration and
the committed contract (the import structure is held by `test_layers`)."""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.generate import DOCUMENT_PATH
from functions.contract import catalog, openapi
from tests.helpers import CONSOLE, FUNCTIONS, ROOT, TRIGGERS, run_python

FIREBASE_JSON = json.loads((ROOT / "firebase.json").read_text())


def test_main_imports_without_credentials_or_project() -> None:
    """The CLI discovers functions by importing main.py with no credentials: it must work."""
    env = {"PATH": os.environ["PATH"], "NO_GCE_CHECK": "true", "HOME": os.environ.get("HOME", "/")}
    script = (
        "import main, json; "
        "print(json.dumps(sorted(n for n in dir(main) "
        "if hasattr(getattr(main, n), '__firebase_endpoint__'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == sorted(
        (*FUNCTIONS, CONSOLE, *TRIGGERS)
    )


def test_firebase_json_runtime_matches_the_venv_python() -> None:
    (functions,) = FIREBASE_JSON["functions"]
    version = f"python{sys.version_info.major}{sys.version_info.minor}"
    assert functions["runtime"] == version
    assert functions["source"] == "."


@pytest.mark.parametrize(
    "path",
    ["venv", "node_modules", ".git", "tests", "tooling", "devtools", "reports", "mutants", "sdk"],
)
def test_firebase_json_keeps_local_files_out_of_the_upload(path: str) -> None:
    (functions,) = FIREBASE_JSON["functions"]
    assert path in functions["ignore"]


def test_no_package_json_in_the_functions_source() -> None:
    """A package.json beside main.py makes the Firebase CLI treat the code as Node.js."""
    assert not (ROOT / "package.json").exists()


def test_firebase_json_deploys_rules_and_indexes_and_pins_emulator_ports() -> None:
    assert FIREBASE_JSON["firestore"] == [  # the live database, and test mode's
        {"database": name, "rules": "firestore.rules", "indexes": "firestore.indexes.json"}
        for name in ("(default)", "sandbox")
    ]
    emulators = FIREBASE_JSON["emulators"]
    assert emulators["auth"]["port"] == 9099
    assert emulators["firestore"]["port"] == 8080
    assert emulators["functions"]["port"] == 5001
    assert emulators["tasks"]["port"] == 9499
    assert emulators["ui"] == {"enabled": False}
    assert emulators["singleProjectMode"] is True


def test_the_committed_openapi_document_is_what_the_code_generates() -> None:
    catalog.discover()
    assert json.loads(DOCUMENT_PATH.read_text()) == openapi.build(), (
        "openapi.json is stale: run `make generate`"
    )
    assert set(openapi.build()["paths"]) == {
        "/entriesSummary",
        "/fetchData",
        "/fetchData/{id}",
        "/createEntry",
        "/updateEntry/{id}",
        "/api/v1/entries",
        "/api/v1/entries/{id}",
        "/api/v1/events",
        "/api/v1/events/{id}",
        "/api/v1/webhook_endpoints",
        "/api/v1/webhook_endpoints/{id}",
        "/api/v1/webhook_deliveries",
        "/api/v1/webhook_deliveries/{id}",
        "/api/v1/webhook_deliveries/{id}/resend",
        "/api/v1/webhook_endpoints/{id}/rotate_secret",
        "/api/v1/webhook_endpoints/{id}/send_test",
    }


def test_every_declared_secret_gets_a_local_value_so_no_run_asks_secret_manager(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import main
    from devtools import stack

    declared = {
        secret["key"]
        for name in FUNCTIONS
        for secret in getattr(main, name).__firebase_endpoint__.secretEnvironmentVariables or []
    }
    assert declared == set(stack.SECRETS) == {"CURSOR_SECRET"}
    local = tmp_path / ".secret.local"
    monkeypatch.setattr(stack, "LOCAL_SECRETS", local)
    local.write_text("OTHER=1\n")
    stack.ensure_local_secrets()
    first = local.read_text()
    assert first.startswith("OTHER=1\nCURSOR_SECRET=")
    assert len(first.split("CURSOR_SECRET=")[1].strip()) == 64
    stack.ensure_local_secrets()
    assert local.read_text() == first, "an existing value is kept"


def start_functions_framework(target: str, **env: str) -> subprocess.CompletedProcess[str]:
    """functions-framework starting main.py in a bare environment plus `env`."""
    binary = Path(sys.executable).parent / "functions-framework"
    bare = {"PATH": os.environ["PATH"], "NO_GCE_CHECK": "true", "HOME": os.environ.get("HOME", "/")}
    return subprocess.run(
        [str(binary), "--target", target, "--source", "main.py", "--port", "0"],
        cwd=ROOT,
        env={**bare, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_plain_functions_framework_without_a_project_stops_with_one_line() -> None:
    result = start_functions_framework("health")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "error: no Firebase project id: set GOOGLE_CLOUD_PROJECT (or GCLOUD_PROJECT) to your "
        "project id, for example demo-partner-api"
    ]


def test_plain_functions_framework_with_a_bad_declaration_stops_with_one_line(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "resources.toml"
    bad.write_text('[menus.fields.price]\nkind = "money"\n')
    result = start_functions_framework(
        "api", GOOGLE_CLOUD_PROJECT="demo-partner-api", PARTNER_RESOURCES=str(bad)
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: resources.toml: menus.fields.price: kind 'money' is not one of text, decimal, "
        "date, currency, integer, boolean, timestamp, number, datetime, geopoint, reference, "
        "list, map"
    ]


def test_only_google_api_cores_python_version_notice_is_silenced() -> None:
    code = (
        "import functions, warnings\n"
        "warnings.warn('You are using a Python version (3.11.7) past its end of life.',"
        " FutureWarning)\n"
        "print('silenced')\n"
        "warnings.warn('something else', FutureWarning)\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error::FutureWarning", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.strip() == "silenced"
    assert result.returncode == 1
    assert "FutureWarning: something else" in result.stderr


REGIONS = (
    "import json, main\n"
    "print(json.dumps({k: v.__firebase_endpoint__.region for k, v in vars(main).items() "
    "if hasattr(v, '__firebase_endpoint__')}))\n"
)


@pytest.mark.parametrize("region", [None, "europe-west1", "asia-northeast1"])
def test_one_setting_places_every_function_trigger_and_task_queue(region: str | None) -> None:
    loaded = run_python("-c", REGIONS, env={"FUNCTIONS_REGION": region} if region else None)
    assert loaded.returncode == 0, loaded.stderr
    placed = json.loads(loaded.stdout)
    assert len(placed) == 15  # every HTTPS function, trigger and task queue of main.py
    assert set(map(tuple, placed.values())) == {(region or "us-central1",)}


@pytest.mark.parametrize("value", ["Europe-West1", "europe west1", "eu", "us-central1/x", "x" * 50])
def test_a_region_that_is_not_one_stops_the_load_in_one_line(value: str) -> None:
    loaded = run_python("-c", "import main", env={"FUNCTIONS_REGION": value})
    assert loaded.returncode == 1
    assert loaded.stderr.strip().splitlines()[-1] == (
        f"functions.core.errors.ConfigurationError: FUNCTIONS_REGION: {value!r} is not a Cloud "
        "Functions region such as us-central1 or europe-west1"
    )


def test_the_upload_keeps_every_file_the_functions_need() -> None:
    """The Firebase CLI matches an ignore pattern without a slash against the base name of
    every path at any depth (minimatch with matchBase): a pattern that names a folder of
    the package (`contract`, `examples`) would drop it from the deploy."""

    (functions,) = FIREBASE_JSON["functions"]
    base_patterns = [p for p in functions["ignore"] if "/" not in p]
    needed = [ROOT / "main.py", ROOT / "requirements.txt", ROOT / "resources.toml"]
    needed += [p for p in (ROOT / "functions").rglob("*") if "__pycache__" not in p.parts]
    dropped = [
        str(path.relative_to(ROOT))
        for path in needed
        if any(fnmatch.fnmatchcase(path.name, pattern) for pattern in base_patterns)
    ]
    assert dropped == []
    assert len(needed) > 100


CAPACITY = (
    "import json, main\n"
    "e = main.api.__firebase_endpoint__\n"
    "print(json.dumps([e.availableMemoryMb, e.cpu, e.concurrency, e.minInstances,"
    " e.maxInstances, __import__('os').environ['THREADS']]))\n"
)


def _load_with(**settings: str) -> subprocess.CompletedProcess[str]:
    return run_python("-c", CAPACITY, env=settings)


def test_the_partner_functions_capacity_is_one_set_of_settings() -> None:
    """256 MB, 1 CPU, 80 at once, 0 to 20 instances, and as many server threads as calls
    at once; each setting moves its option, and a THREADS of the owner's own wins."""
    default = _load_with()
    assert default.returncode == 0, default.stderr
    assert json.loads(default.stdout) == [256, 1, 80, 0, 20, "80"]
    moved = _load_with(
        PARTNER_MEMORY_MB="512", PARTNER_CPU="2", PARTNER_CONCURRENCY="40",
        PARTNER_MIN_INSTANCES="1", PARTNER_MAX_INSTANCES="50", THREADS="16",
    )  # fmt: skip
    assert json.loads(moved.stdout) == [512, 2, 40, 1, 50, "16"]


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        ({"PARTNER_MEMORY_MB": "300"}, "PARTNER_MEMORY_MB: one of 256, 512, 1024"),
        ({"PARTNER_CPU": "3"}, "PARTNER_CPU: 0.08 to 1, or 2, 4, 6 or 8"),
        ({"PARTNER_CPU": "0.5"}, "PARTNER_CONCURRENCY: 1 to 1000, and 1 below 1 CPU"),
        ({"PARTNER_MAX_INSTANCES": "0", "PARTNER_MIN_INSTANCES": "2"},
         "PARTNER_MIN_INSTANCES and PARTNER_MAX_INSTANCES: 0 <= min <= max <= 1000"),
        ({"PARTNER_CONCURRENCY": "eighty"}, "PARTNER_CONCURRENCY: 'eighty' is not a number"),
    ],
)  # fmt: skip
def test_a_capacity_cloud_run_would_refuse_stops_the_load_in_one_line(
    settings: dict[str, str], said: str
) -> None:
    loaded = _load_with(**settings)
    assert loaded.returncode == 1
    assert said in loaded.stderr.strip().splitlines()[-1]
