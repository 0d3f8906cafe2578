"""`make preflight PROJECT=<id>`: everything a deploy can be checked for before it runs,
offline, then the commands that check what only the cloud knows.

The functions are discovered as the Firebase CLI discovers them (firebase-functions'
own manifest of main.py, loaded with the codebase's `.env` and `.env.<project>`), and
each one's options are held to the limits the CLI and Cloud Run enforce at deploy time
(firebase-tools' `deploy/functions/validate.js`), so a bad option fails here in one line
rather than halfway through a deploy. Then: the settings files hold no emulator variable
and no secret as plain text, every setting is in range, the rules compile (on a Firestore
emulator: the running one, else one started for the check), the indexes file holds every
index and TTL policy the declaration needs, and README's list of deployed functions is
main.py's. `firebase.json` runs it as the functions' `predeploy` hook, so `firebase
deploy` stops on a problem. Exit 1 when any problem was found, one line each.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.prerequisites import ROOT

EMULATOR_VARIABLES = (
    "FIRESTORE_EMULATOR_HOST",
    "FIREBASE_AUTH_EMULATOR_HOST",
    "CLOUD_TASKS_EMULATOR_HOST",
    "FUNCTIONS_EMULATOR_ORIGIN",
    "FIREBASE_STORAGE_EMULATOR_HOST",
    "FIREBASE_DATABASE_EMULATOR_HOST",
    "PUBSUB_EMULATOR_HOST",
    "ID_TOKEN_CERTS_URL",
)
"""Variables that point the SDKs at emulators or test hooks: a deployed function of a real
project refuses to serve with any of them set."""
SECRETS = ("CURSOR_SECRET",)
"""What lives in Secret Manager: a plain variable of the same name would ship it in the
clear (and the CLI refuses the clash halfway through the deploy)."""
DEPLOYMENT_SETTINGS = ("FUNCTIONS_REGION", "PARTNER_")
"""Settings main.py reads as it loads: where the functions run, what they get and serve."""
PAGING_SECRET = "CURSOR_SECRET"
DEFAULT_REGION = "us-central1"
"""Where the Firebase CLI deploys a function that names no region."""
CONSOLE = "console"
MEMORY_MB = (128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)
GEN2_CPU = {128: 1, 256: 1, 512: 1, 1024: 1, 2048: 1, 4096: 2, 8192: 2, 16384: 4, 32768: 8}
"""Cloud Run functions' CPU for a memory size where none is set (firebase-tools'
`memoryToGen2Cpu`); with 1 CPU or more, 80 requests at once per instance by default."""
TIMEOUT_LIMIT_S = {"https": 3600, "event": 540, "task queue": 1800}
KIND_NOUN = {
    "https": "an HTTPS function",
    "event": "a Firestore trigger",
    "task queue": "a task queue function",
}
TASK_QUEUE_LIMITS = {"maxDispatchesPerSecond": 500, "maxConcurrentDispatches": 5000}
"""Cloud Tasks' queue limits (a queue dispatches at most 500 tasks a second)."""
MAX_CONCURRENCY = 1000
APIS = (
    ("cloudfunctions.googleapis.com", "Cloud Functions"),
    ("run.googleapis.com", "Cloud Run, which runs each function"),
    ("cloudbuild.googleapis.com", "Cloud Build, which builds them"),
    ("artifactregistry.googleapis.com", "Artifact Registry, which keeps their images"),
    ("cloudtasks.googleapis.com", "Cloud Tasks, the webhook delivery queues"),
    ("eventarc.googleapis.com", "Eventarc, the Firestore triggers"),
    ("secretmanager.googleapis.com", "Secret Manager, CURSOR_SECRET"),
    ("identitytoolkit.googleapis.com", "Identity Toolkit, Firebase Auth"),
)
README_BEGIN = "<!-- BEGIN deployed functions: main.py's exports; `make preflight` checks -->"
README_END = "<!-- END deployed functions -->"
DISCOVER = """
import json, sys, yaml
from firebase_functions.private import serving
manifest = yaml.safe_load(serving.functions_as_yaml(serving.get_functions()))
from functions.core import config
from functions.core.errors import ConfigurationError
from functions.resources import declaration
settings = []
for name in sys.argv[1:]:
    try:
        getattr(config, name)()
    except ConfigurationError as exc:
        settings.append(exc.message)
try:
    for resource in declaration.current().resources:
        config.resource_collection(resource.name, resource.collection)
except (ConfigurationError, declaration.DeclarationError) as exc:
    settings.append(exc.message)
print(json.dumps({"manifest": manifest, "settings": settings}))
"""
SETTINGS = (
    "functions_region", "partner_capacity", "default_limits", "idempotency_ttl_hours",
    "max_body_bytes",
    "firestore_timeout_s", "auth_timeout_s", "revocation_max_age_s", "audit_retention_days",
    "events_retention_days", "usage_flush_seconds", "cors_origins", "own_collections",
    "api_keys_collection", "partners_collection", "partner_users_collection",
    "audit_collection", "limits_collection", "idempotency_collection", "events_collection",
    "webhooks_collection", "deliveries_collection", "in_flight_collection",
    "usage_collection", "check_revoked", "firestore_fast_path",
)  # fmt: skip
"""The settings functions read (config), each checked with the deploy's variables."""


@dataclass(frozen=True)
class Function:
    """One discovered function, as the CLI will deploy it."""

    name: str
    spec: dict[str, Any]

    @property
    def kind(self) -> str:
        if "taskQueueTrigger" in self.spec:
            return "task queue"
        if "eventTrigger" in self.spec:
            return "event"
        return "https"

    @property
    def memory_mb(self) -> int:
        return int(self.spec.get("availableMemoryMb") or 256)

    @property
    def cpu(self) -> float:
        value = self.spec.get("cpu")
        return GEN2_CPU.get(self.memory_mb, 1) if value in (None, "gcf_gen1") else float(value)

    @property
    def concurrency(self) -> int:
        value = self.spec.get("concurrency")
        return int(value) if value else (80 if self.cpu >= 1 else 1)

    @property
    def secrets(self) -> set[str]:
        return {s["key"] for s in self.spec.get("secretEnvironmentVariables") or []}

    @property
    def invoker(self) -> list[str]:
        trigger = self.spec.get("httpsTrigger") or self.spec.get("taskQueueTrigger") or {}
        return list(trigger.get("invoker") or [])


# --- settings files ---------------------------------------------------------------------------


def parse_env(text: str) -> dict[str, str]:
    """KEY=VALUE lines as the Firebase CLI reads `.env` files (comments, `export`, quotes)."""
    found = {}
    for line in text.splitlines():
        match = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$", line)
        if not match or line.lstrip().startswith("#"):
            continue
        key, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        found[key] = value
    return found


def env_files(root: Path, project: str) -> dict[str, dict[str, str]]:
    """The files the CLI reads for a deploy to `project`, in order (later ones win)."""
    return {
        name: parse_env((root / name).read_text())
        for name in (".env", f".env.{project}")
        if (root / name).is_file()
    }


def check_env_files(files: dict[str, dict[str, str]]) -> list[str]:
    problems = []
    for name, values in files.items():
        for key in values:
            if key in EMULATOR_VARIABLES:
                problems.append(
                    f"{name}: {key} is an emulator variable; a deployed function of a real "
                    "project refuses every call with it set: remove it (`.env.local` is "
                    "the emulators' file)"
                )
            if key in SECRETS:
                problems.append(
                    f"{name}: {key} is a secret, not a variable: remove it and run "
                    f"`firebase functions:secrets:set {key}`"
                )
    return problems


def check_shell_settings(shell: Mapping[str, str], variables: Mapping[str, str]) -> list[str]:
    """The deployment's settings only the shell holds: the Firebase CLI discovers the
    functions with them (placing them, say, in the shell's region), while the deployed
    functions get only the `.env` files and would build their URLs and task paths from
    another value."""
    found = []
    for name in sorted(shell):
        if name.startswith(DEPLOYMENT_SETTINGS) and shell[name] != variables.get(name):
            found.append(
                f"the shell sets {name}={shell[name]!r} and the .env files "
                f"{'set ' + repr(variables[name]) if name in variables else 'do not'}: the "
                "Firebase CLI would place the functions by the shell's value, and the "
                "deployed functions see only the files': put it in .env.<project>, or unset it"
            )
    return found


# --- the functions ----------------------------------------------------------------------------


def discover(root: Path, project: str, variables: dict[str, str]) -> dict[str, Any]:
    """main.py's manifest as the CLI reads it, and the settings that fail with `variables`.

    Raises:
        RuntimeError: main.py does not load (its last error line in the message).
    """
    env = {k: v for k, v in os.environ.items() if k not in EMULATOR_VARIABLES}
    env = {k: v for k, v in env.items() if not k.startswith(("FUNCTIONS_", "PARTNER_"))}
    env |= variables | {
        "GCLOUD_PROJECT": project,
        "GOOGLE_CLOUD_PROJECT": project,
        "FIREBASE_CONFIG": json.dumps({"projectId": project}),
        "PYTHONPATH": str(root),
        "NO_GCE_CHECK": "true",
    }
    loaded = subprocess.run(
        [sys.executable, "-c", DISCOVER, *SETTINGS],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if loaded.returncode != 0:
        lines = loaded.stderr.strip().splitlines() or ["(no output)"]
        raise RuntimeError(lines[-1])
    lines = loaded.stdout.strip().splitlines()
    found = dict(json.loads(lines[-1]))
    for line in lines[:-1]:  # a setting the functions would replace by its default, say
        with contextlib.suppress(ValueError, TypeError, KeyError):
            logged = json.loads(line)
            if logged["severity"] in ("WARNING", "ERROR"):
                found["settings"].append(logged["message"])
    return found


def check_functions(functions: Iterable[Function], region: str) -> list[str]:
    """Each function's options against what the deploy accepts and what this package
    needs of it; one line each."""
    problems = []
    for fn in functions:
        where = f"main.py: {fn.name}"
        regions = fn.spec.get("region") or [DEFAULT_REGION]  # the CLI's own default
        if regions != [region]:
            problems.append(
                f"{where}: region {', '.join(regions)}, not FUNCTIONS_REGION "
                f"({region}): set the region through FUNCTIONS_REGION only"
            )
        if fn.memory_mb not in MEMORY_MB:
            problems.append(f"{where}: memory {fn.memory_mb} MB is not one Cloud Run offers")
        elif fn.kind == "https" and fn.memory_mb < 256:
            problems.append(f"{where}: memory {fn.memory_mb} MB; a partner function needs 256")
        if fn.concurrency > 1 and fn.cpu < 1:
            problems.append(
                f"{where}: concurrency {fn.concurrency} with {fn.cpu:g} CPU; more than one "
                "request at once needs at least 1 CPU"
            )
        if fn.concurrency > MAX_CONCURRENCY:
            problems.append(f"{where}: concurrency {fn.concurrency} (at most {MAX_CONCURRENCY})")
        if fn.cpu >= 1 and fn.cpu not in (1, 2, 4, 6, 8):
            problems.append(f"{where}: {fn.cpu:g} CPU (1, 2, 4, 6 or 8, or below 1)")
        timeout = fn.spec.get("timeoutSeconds")
        if timeout is not None and int(timeout) > TIMEOUT_LIMIT_S[fn.kind]:
            problems.append(
                f"{where}: timeout {timeout} s; {KIND_NOUN[fn.kind]} may take at most "
                f"{TIMEOUT_LIMIT_S[fn.kind]} s"
            )
        low, high = fn.spec.get("minInstances") or 0, fn.spec.get("maxInstances")
        if high is not None and int(low) > int(high):
            problems.append(f"{where}: min_instances {low} above max_instances {high}")
        problems += _by_kind(fn, where)
    return problems


def _by_kind(fn: Function, where: str) -> list[str]:
    problems = []
    if fn.kind == "https":
        if fn.invoker != ["public"]:
            problems.append(
                f"{where}: invoker {fn.invoker or 'private'}; partners call it from the "
                'internet and it checks their credentials itself: invoker "public"'
            )
        if fn.name != CONSOLE and PAGING_SECRET not in fn.secrets:
            problems.append(
                f"{where}: does not declare the secret {PAGING_SECRET} (secrets="
                f'["{PAGING_SECRET}"]): its cursors would be refused with a 500'
            )
    if fn.kind == "task queue":
        trigger = fn.spec["taskQueueTrigger"]
        if "public" in fn.invoker:
            problems.append(
                f"{where}: a task queue function must not be public: only Cloud Tasks may call it"
            )
        limits = trigger.get("rateLimits") or {}
        for key, limit in TASK_QUEUE_LIMITS.items():
            if limits.get(key) is not None and int(limits[key]) > limit:
                problems.append(f"{where}: rate_limits {key} {limits[key]} (at most {limit})")
        retry = trigger.get("retryConfig") or {}
        low, high = retry.get("minBackoffSeconds"), retry.get("maxBackoffSeconds")
        if low is not None and high is not None and int(low) > int(high):
            problems.append(f"{where}: retry min_backoff {low} s above max_backoff {high} s")
    return problems


# --- rules, indexes, README -------------------------------------------------------------------


def check_rules(text: str, name: str) -> list[str]:
    """The rules compile on a Firestore emulator (the running one, else one of its own);
    the check loads them into a project of its own, so nothing else's rules change."""
    import requests  # noqa: PLC0415

    from devtools import emulators  # noqa: PLC0415

    started = None
    host = os.environ.get("FIRESTORE_EMULATOR_HOST", "")
    try:
        if not host or not _answers(host):
            started = emulators.FirestoreProcess()
            started.start()
            host = started.host
        response = requests.put(
            f"http://{host}/emulator/v1/projects/demo-preflight:securityRules",
            json={"rules": {"files": [{"name": name, "content": text}]}},
            timeout=60,
        )
    except (RuntimeError, OSError) as exc:
        return [f"{name}: could not be compiled here ({exc}); `make test` sets the emulator up"]
    finally:
        if started is not None:
            started.kill()
    if response.status_code == 200:
        return []
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = response.text
    first = " ".join(message.split())[:300]
    return [f"{name}: does not compile: {first}"]


def _answers(host: str) -> bool:
    import urllib.request  # noqa: PLC0415

    try:
        with urllib.request.urlopen(f"http://{host}/", timeout=2):
            return True
    except OSError:
        return False


def check_indexes(text: str, name: str, needed: dict[str, Any]) -> list[str]:
    """Every composite index and field override (TTL) the declaration needs is in the file."""
    try:
        held = json.loads(text)
    except ValueError as exc:
        return [f"{name}: not valid JSON ({exc})"]
    problems = []
    for key, noun in (("indexes", "index"), ("fieldOverrides", "field override")):
        have = [_canonical(item) for item in held.get(key) or []]
        for item in needed.get(key) or []:
            if _canonical(item) not in have:
                fields = ", ".join(f["fieldPath"] for f in item.get("fields", [])) or item.get(
                    "fieldPath", ""
                )
                problems.append(
                    f"{name}: lacks the {noun} on {item['collectionGroup']} ({fields}) the "
                    "declaration needs: run `make generate` (or `make adopt INTO=..`)"
                )
    return problems


def _canonical(item: dict[str, Any]) -> str:
    return json.dumps({"queryScope": "COLLECTION", **item}, sort_keys=True)


def readme_functions(text: str) -> list[str] | None:
    """The functions README's deploy list names (None: README has no such list)."""
    if README_BEGIN not in text:
        return None
    block = text.split(README_BEGIN, 1)[1].split(README_END, 1)[0]
    return re.findall(r"^\| `([A-Za-z0-9_]+)` \|", block, re.M)


def check_readme(text: str, exported: Iterable[str]) -> list[str]:
    listed = readme_functions(text)
    if listed is None:
        return []
    exported = set(exported)
    problems = [
        f"README.md: lists {name} as deployed, and main.py does not export it"
        for name in sorted(set(listed) - exported)
    ]
    problems += [
        f"README.md: main.py exports {name}, and the deploy list does not name it"
        for name in sorted(exported - set(listed))
    ]
    return problems


# --- what only the cloud can check ------------------------------------------------------------


def cloud_commands(project: str, region: str, functions: list[Function]) -> list[str]:
    from devtools import generate  # noqa: PLC0415

    account = f"$(gcloud projects describe {project} --format='value(projectNumber)')"
    account += "-compute@developer.gserviceaccount.com"
    ttl_groups = " ".join(sorted(o["collectionGroup"] for o in generate.own_field_overrides()))
    lines = [
        "# the APIs the deploy and the functions use: " + "; ".join(reason for _, reason in APIS),
        f"gcloud services enable {' '.join(api for api, _ in APIS)} --project {project}",
        f"# {PAGING_SECRET} exists (set it once: `firebase functions:secrets:set {PAGING_SECRET}`)",
        f"firebase functions:secrets:get {PAGING_SECRET} --project {project}",
        "# the Firestore database's location: FUNCTIONS_REGION should be in it or beside it "
        "(README, Deploying: the region)",
        f"gcloud firestore databases describe --project {project} --format='value(locationId)'",
        "# test mode's database exists (create it once, in the same location as (default); "
        "`firebase deploy --only firestore` then deploys its rules and indexes)",
        f"gcloud firestore databases describe --database=sandbox --project {project} "
        "|| gcloud firestore databases create --database=sandbox --location=<the same location> "
        f"--project {project}",
    ]
    if any(fn.kind == "task queue" for fn in functions):
        lines += [
            "# the functions' service account enqueues webhook deliveries (Cloud Tasks) and "
            "signs each task's token as itself",
            f'gcloud projects add-iam-policy-binding {project} --member="serviceAccount:'
            f'{account}" --role=roles/cloudtasks.enqueuer',
            f'gcloud projects add-iam-policy-binding {project} --member="serviceAccount:'
            f'{account}" --role=roles/iam.serviceAccountUser',
        ]
    lines += [
        f"# TTL policies on expiresAt, which `firebase deploy --only firestore` sets: {ttl_groups}",
        f"gcloud firestore fields ttls list --project {project}",
    ]
    if any(fn.name == CONSOLE for fn in functions):
        lines += [
            "# the console signs owners in with the project's Web API key (CONSOLE_API_KEY)",
            f"firebase apps:sdkconfig web --project {project}",
        ]
    return lines


# --- the command ------------------------------------------------------------------------------


def run(root: Path, project: str, *, into: Path | None = None) -> tuple[list[str], list[str]]:
    """(problems, notes): what fails the preflight, and what it says besides."""
    from devtools import adopt, generate  # noqa: PLC0415
    from functions.core import config  # noqa: PLC0415
    from functions.resources import declaration  # noqa: PLC0415

    problems: list[str] = []
    if project.startswith("demo-"):
        problems.append(f"{project}: a demo- project exists only on the emulators; name yours")
    files = env_files(root, project)
    problems += check_env_files(files)
    variables = {k: v for values in files.values() for k, v in values.items()}
    problems += check_shell_settings(os.environ, variables)
    region = variables.get("FUNCTIONS_REGION") or config.DEFAULT_REGION
    try:
        found = discover(root, project, variables)
    except RuntimeError as exc:
        return [*problems, f"main.py: does not load: {exc}"], []
    problems += found["settings"]
    functions = [Function(n, s) for n, s in sorted(found["manifest"]["endpoints"].items())]
    problems += check_functions(functions, region)
    if any(fn.name == CONSOLE for fn in functions) and not variables.get("CONSOLE_API_KEY"):
        problems.append(
            f".env.{project}: no CONSOLE_API_KEY: the console cannot sign owners in (set it "
            "to the project's Web API key)"
        )
    owner = root / config.OWNER_FOLDER.name
    if not owner.is_dir() and (root / "README.md").is_file():  # this repository's README
        problems += check_readme((root / "README.md").read_text(), (f.name for f in functions))
    app = into or root
    deployed = json.loads((app / "firebase.json").read_text()).get("firestore")
    firestore = adopt.live_files({"firestore": deployed}) if deployed else {}
    if deployed and not any(
        isinstance(e, dict) and e.get("database") == config.TEST_DATABASE
        for e in (deployed if isinstance(deployed, list) else [deployed])
    ):
        problems.append(
            f"firebase.json deploys no rules and indexes to test mode's database "
            f"({config.TEST_DATABASE}): run `make adopt`, or add its entry to `firestore`"
        )
    owned = owner / declaration.OWNER_PATH.name
    named = variables.get("PARTNER_RESOURCES")
    source = root / named if named else owned if owned.is_file() else root / "resources.toml"
    try:
        decl = declaration.load(source)
    except declaration.DeclarationError as exc:
        return [*problems, exc.message], []
    if rules_name := firestore.get("rules"):
        problems += check_rules((app / rules_name).read_text(), rules_name)
    if indexes_name := firestore.get("indexes"):
        needed = json.loads(generate.indexes_file(decl))
        problems += check_indexes((app / indexes_name).read_text(), indexes_name, needed)
    notes = [
        f"checked {len(functions)} functions in {region} for {project}: "
        + ", ".join(f.name for f in functions)
    ]
    return problems, [*notes, *cloud_commands(project, region, functions)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make preflight PROJECT=<id>", description=__doc__)
    parser.add_argument("--project", required=True)
    parser.add_argument(
        "--into", type=Path, default=None, help="the app whose firebase.json deploys the rules"
    )
    args = parser.parse_args(argv)
    problems, notes = run(ROOT, args.project, into=args.into)
    for problem in problems:
        print(f"error: {problem}")
    print(notes[0] if notes else "stopped: main.py must load before anything else is checked")
    if notes:
        print("\nWhat only the cloud can check; run these with the project's credentials:")
        print("\n".join(notes[1:]))
    print(f"\npreflight: {len(problems)} problem(s)" if problems else "\npreflight: ready")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
