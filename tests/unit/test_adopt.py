"""Adopting the package into an existing app's folder (a fixture app we did not write):
what changes, what never does, and the one-line refusals that change nothing."""

from __future__ import annotations

import hashlib
import json
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest

from devtools import adopt
from functions.resources import declaration, rules
from tests.helpers import (
    EXPORTS,
    MORE_RESOURCES,
    ROOT,
    more_declaration,
    more_declaration_text,
    run_python,
)

FIXTURE = ROOT / "tests" / "fixtures" / "existing_app"


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A copy of the fixture app, with the package's folder inside it."""
    folder = tmp_path / "restaurant-app"
    shutil.copytree(FIXTURE, folder)
    (folder / "partner-api").mkdir()
    return folder


def adopt_into(app: Path, decl: declaration.Declaration | None = None) -> list[adopt.Overlap]:
    changes, overlaps = adopt.plan(app, app / "partner-api", decl or declaration.current())
    adopt.apply(app, changes)
    return overlaps


def snapshot(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


# --- refusals first: one line, nothing changed -------------------------------------------------


def test_a_folder_that_is_not_a_firebase_project_is_refused(app: Path) -> None:
    (app / "firebase.json").unlink()
    before = snapshot(app)
    with pytest.raises(adopt.Refused, match=r"not a Firebase project \(no firebase.json\)"):
        adopt.plan(app, app / "partner-api", declaration.current())
    with pytest.raises(adopt.Refused, match="no such folder"):
        adopt.plan(app / "missing", app / "partner-api", declaration.current())
    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        ("firebase.json", "{not json", "firebase.json: not valid JSON"),
        ("firebase.json", "[]", "firebase.json: must be a JSON object"),
        ("firestore.rules", "service cloud.firestore {\n  match /x {\n", "unbalanced braces"),
        ("firestore.rules", "allow read;", "not a Firestore rules file"),
        ("firestore.rules", "service cloud.firestore {\n}\n", "no `match /databases"),
        ("firestore.indexes.json", "{", "firestore.indexes.json: not valid JSON"),
    ],
)
def test_files_that_do_not_parse_are_refused_in_one_line(
    app: Path, file: str, content: str, message: str
) -> None:
    (app / file).write_text(content)
    before = snapshot(app)
    with pytest.raises(adopt.Refused, match=message) as caught:
        adopt.plan(app, app / "partner-api", declaration.current())
    assert "\n" not in str(caught.value)
    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"source": "other", "codebase": "partner-api"}, "already deploys 'other'"),
        ({"source": "partner-api", "codebase": "payments"}, "already deployed as codebase"),
    ],
)
def test_a_conflicting_codebase_is_refused(app: Path, entry: dict[str, str], message: str) -> None:
    config = json.loads((app / "firebase.json").read_text())
    config["functions"].append(entry)
    (app / "firebase.json").write_text(json.dumps(config))
    with pytest.raises(adopt.Refused, match=message):
        adopt.plan(app, app / "partner-api", declaration.current())


def test_the_package_must_sit_inside_the_app(app: Path, tmp_path: Path) -> None:
    with pytest.raises(adopt.Refused, match="must sit inside"):
        adopt.plan(app, tmp_path / "elsewhere", declaration.current())
    with pytest.raises(adopt.Refused, match="subfolder"):
        adopt.plan(app, app, declaration.current())


def test_the_command_refuses_with_one_line_and_exit_2(
    app: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (app / "firebase.json").unlink()
    assert adopt.main(["--into", str(app)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("error: ")


# --- what adoption changes, and what it keeps --------------------------------------------------


def test_adoption_adds_a_codebase_and_keeps_every_other_entry(app: Path) -> None:
    before = json.loads((app / "firebase.json").read_text())
    adopt_into(app)
    after = json.loads((app / "firebase.json").read_text())
    assert after["functions"][0] == before["functions"][0]
    ours = after["functions"][1]
    assert (ours["source"], ours["codebase"], ours["runtime"]) == (
        "partner-api",
        "partner-api",
        "python311",
    )
    assert "venv" in ours["ignore"]
    assert {k: v for k, v in after.items() if k not in ("functions", "firestore")} == {
        k: v for k, v in before.items() if k not in ("functions", "firestore")
    }
    files = before["firestore"]  # the app's own, now deployed to both databases
    assert after["firestore"] == [
        {"database": "(default)", **files},
        {"database": "sandbox", **files},
    ]


def test_the_owners_rules_stay_byte_for_byte_and_only_the_block_is_added(app: Path) -> None:
    original = (app / "firestore.rules").read_text()
    adopt_into(app)
    adopted = (app / "firestore.rules").read_text()
    block = rules.block(declaration.current())
    assert adopted.count(rules.BEGIN) == 1
    assert adopted.replace("\n" + block, "") == original


def test_indexes_are_the_union_without_duplicates(app: Path) -> None:
    original = json.loads((app / "firestore.indexes.json").read_text())
    adopt_into(app)
    merged = json.loads((app / "firestore.indexes.json").read_text())
    assert merged["indexes"][: len(original["indexes"])] == original["indexes"]
    assert merged["fieldOverrides"][: len(original["fieldOverrides"])] == original["fieldOverrides"]
    ours = json.loads((ROOT / "firestore.indexes.json").read_text())
    for index in ours["indexes"] + ours["fieldOverrides"]:
        assert (merged["indexes"] + merged["fieldOverrides"]).count(index) == 1


def test_a_second_run_changes_nothing_and_keeps_the_backups(
    app: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = (app / "firestore.rules").read_text()
    adopt_into(app)
    assert (app / adopt.BACKUP_FOLDER / "firestore.rules").read_text() == original
    assert (app / adopt.BACKUP_FOLDER / ".gitignore").read_text().endswith("*\n")
    after_first = snapshot(app)
    changes, _ = adopt.plan(app, app / "partner-api", declaration.current())
    assert changes == []
    adopt.apply(app, changes)
    assert snapshot(app) == after_first


def test_a_changed_declaration_changes_only_the_block(app: Path) -> None:
    adopt_into(app)
    first = (app / "firestore.rules").read_text()
    adopt_into(app, more_declaration())
    second = (app / "firestore.rules").read_text()
    old_block, new_block = rules.block(declaration.current()), rules.block(more_declaration())
    assert old_block in first
    assert new_block in second
    assert first.replace(old_block, "") == second.replace(new_block, "")
    # the backups are now those of the second run
    assert (app / adopt.BACKUP_FOLDER / "firestore.rules").read_text() == first


def test_a_dry_run_prints_a_readable_diff_and_changes_nothing(
    app: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(adopt, "ROOT", app / "partner-api")
    (app / "partner-api" / "firebase.json").write_text((ROOT / "firebase.json").read_text())
    before = snapshot(app)
    assert adopt.main(["--into", str(app), "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert snapshot(app) == before
    assert "--- a/firebase.json\n+++ b/firebase.json\n" in out
    assert "--- a/firestore.rules\n+++ b/firestore.rules\n" in out
    assert f"+    {rules.BEGIN}\n" in out
    assert "would change: firestore.rules" in err


# --- owner rules that also reach partner collections -------------------------------------------


def test_owner_rules_that_reach_a_partner_collection_are_reported_never_edited(
    app: Path,
) -> None:
    assert adopt_into(app) == []  # users and menus are not partner collections of entries
    found = adopt_into(app, more_declaration())  # now menus is one
    assert [(o.line, o.collection, o.operations) for o in found] == [(17, "menus", ("read",))]
    assert "firestore.rules:17: `match /menus/{menuId}` allows read always" in found[0].describe()
    recursive = (
        (app / "firestore.rules")
        .read_text()
        .replace(
            "    match /users/{uid} {",
            "    match /{document=**} {\n      allow read: if signedIn();\n"
            "      allow write: if false;\n    }\n\n    match /users/{uid} {",
        )
    )
    (app / "firestore.rules").write_text(recursive)
    found = adopt_into(app, more_declaration())
    reported = {(o.line, o.collection) for o in found}
    assert {(13, "entries"), (13, "menus"), (13, "orders")} <= reported
    assert all(o.operations != ("write",) for o in found)  # `if false` lets nobody in
    assert (app / "firestore.rules").read_text().count("allow read: if signedIn();") == 1


def test_the_owners_json_files_only_gain_lines(app: Path) -> None:
    changes, _ = adopt.plan(app, app / "partner-api", declaration.current())
    for change in changes:
        removed = [
            line
            for line in change.diff(app).splitlines()
            if line.startswith("-") and not line.startswith("---")
        ]
        if change.path.suffix == ".json":
            # a line that ended an array gains a comma, and the one-database `firestore`
            # object becomes a list of both databases with the same files: the only owner
            # lines touched
            firestore = ['-  "firestore": {', '-    "rules": "firestore.rules",',
                         '-    "indexes": "firestore.indexes.json"', "-  },"]  # fmt: skip
            kept = [line for line in removed if line not in firestore]
            assert all(line.strip() in ("-}", "-]") for line in kept), removed


def test_a_single_codebase_and_no_firestore_section_are_adopted_too(app: Path) -> None:
    (app / "firebase.json").write_text(
        '{\n  "functions": {"source": "functions", "runtime": "nodejs20"},\n'
        '  "hosting": {"public": "public"}\n}\n'
    )
    (app / "firestore.rules").unlink()
    (app / "firestore.indexes.json").unlink()
    adopt_into(app)
    config = json.loads((app / "firebase.json").read_text())
    assert config["functions"][0] == {"source": "functions", "runtime": "nodejs20"}
    assert config["functions"][1]["codebase"] == "partner-api"
    assert config["firestore"] == [
        {"database": name, "rules": "firestore.rules", "indexes": "firestore.indexes.json"}
        for name in ("(default)", "sandbox")
    ]
    assert config["hosting"] == {"public": "public"}
    written = (app / "firestore.rules").read_text()
    assert rules.BEGIN in written
    assert "service cloud.firestore" in written
    assert json.loads((app / "firestore.indexes.json").read_text()) == json.loads(
        (ROOT / "firestore.indexes.json").read_text()
    )
    changes, _ = adopt.plan(app, app / "partner-api", declaration.current())
    assert changes == []


def test_without_an_emulator_adoption_says_to_inspect_existing_collections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FIRESTORE_EMULATOR_HOST", raising=False)
    assert adopt.existing_data(declaration.current()) == [
        "note: if your app already keeps documents in the collections of entries, run "
        "`python -m functions.partners inspect RESOURCE` (with the project's credentials) "
        "before you deploy: it shows what partners would see of them"
    ]


@pytest.mark.parametrize(
    ("key", "named"),
    [
        ("rules", "../firestore.rules"),
        ("indexes", "../../elsewhere/indexes.json"),
        ("rules", "/etc/firestore.rules"),
        ("rules", "linked/firestore.rules"),  # a folder that links outside the app
    ],
)
def test_files_outside_the_app_are_refused_before_anything_is_written(
    app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, named: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (app / "linked").symlink_to(outside, target_is_directory=True)
    config = json.loads((app / "firebase.json").read_text())
    config["firestore"][key] = named
    (app / "firebase.json").write_text(json.dumps(config, indent=2))
    before, outside_before = snapshot(app), snapshot(tmp_path)
    with pytest.raises(adopt.Refused, match=f"firestore.{key} is {named!r}, outside"):
        adopt.plan(app, app / "partner-api", declaration.current())
    code = adopt.main(["--into", str(app), "--declaration", str(ROOT / "resources.toml")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert snapshot(app) == before
    assert snapshot(tmp_path) == outside_before
    assert not (app / adopt.BACKUP_FOLDER).exists()


def test_the_apps_emulators_get_the_packages_java_and_firestore_emulator(
    app: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from devtools import app_emulators

    (app / ".firebaserc").write_text('{"projects": {"default": "restaurant-app"}}')
    assert app_emulators.main(["--into", str(app), "--print-env"]) == 0
    printed = capsys.readouterr().out
    env = app_emulators.environment("restaurant-app")
    java = Path(env["JAVA_HOME"]) / "bin" / "java"
    assert java.exists()
    assert f"export JAVA_HOME={env['JAVA_HOME']}" in printed
    assert f"export PATH={java.parent}:" in printed.replace("'", "")
    if "FIRESTORE_EMULATOR_BINARY_PATH" in env:  # where the Cloud SDK's emulator is installed
        assert "export FIRESTORE_EMULATOR_BINARY_PATH=" in printed
    assert "emulators:start --project restaurant-app" in printed
    assert app_emulators.main(["--into", str(app), "--project", "other", "--print-env"]) == 0
    assert "--project other" in capsys.readouterr().out


def test_the_apps_emulators_need_a_project_and_a_firebase_app(
    app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from devtools import app_emulators

    assert app_emulators.main(["--into", str(app), "--print-env"]) == 2
    assert "no default project in .firebaserc; pass PROJECT=<id>" in capsys.readouterr().err
    assert app_emulators.main(["--into", str(tmp_path), "--print-env"]) == 2
    assert "not a Firebase project" in capsys.readouterr().err


def test_the_apps_emulators_run_without_the_ui_download_and_nothing_else_changed() -> None:
    from devtools import app_emulators

    config = json.loads((FIXTURE / "firebase.json").read_text())
    quiet = app_emulators.without_ui(config)
    assert quiet["emulators"]["ui"] == {"enabled": False}
    assert {k: v for k, v in quiet["emulators"].items() if k != "ui"} == config["emulators"]
    assert {k: v for k, v in quiet.items() if k != "emulators"} == {
        k: v for k, v in config.items() if k != "emulators"
    }


# --- the owner's folder: started once, then the owner's; upgrades from the earlier layout ------


def owner_files(app: Path) -> dict[str, str]:
    folder = app / "partner-api" / "owner"
    return {p.name: p.read_text() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def run_adopt(app: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = adopt.main(["--into", str(app), *args])
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.fixture
def package(app: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The package's folder inside the app, as `make adopt` runs from it."""
    folder = app / "partner-api"
    monkeypatch.setattr(adopt, "ROOT", folder)
    (folder / "firebase.json").write_text((ROOT / "firebase.json").read_text())
    return folder


def test_starting_again_over_the_owners_declaration_is_refused_in_one_line(
    app: Path, package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_adopt(app, capsys)[0] == 0
    before = snapshot(app)
    for args in (["--with-examples"], ["--declaration", str(MORE_RESOURCES)]):
        code, err = run_adopt(app, capsys, *args)
        assert (code, err) == (
            2,
            [
                "error: owner/resources.toml exists: it is your declaration now; edit it "
                "rather than start it again"
            ],
        )
    (package / "owner" / "resources.toml").unlink()
    bad = app / "proposed.toml"
    bad.write_text('[menus.fields.price]\nkind = "money"\n')
    code, err = run_adopt(app, capsys, "--declaration", str(bad))
    assert code == 2
    assert err == [
        "error: owner/resources.toml: menus.fields.price: kind 'money' is not one of text, "
        "decimal, date, currency, integer, boolean, timestamp, number, datetime, geopoint, "
        "reference, list, map"
    ]
    assert snapshot(app) == {k: v for k, v in before.items() if "owner/resources" not in k} | {
        "proposed.toml": snapshot(app)["proposed.toml"]
    }


def test_a_first_adoption_declares_nothing_and_deploys_no_example(
    app: Path, package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_adopt(app, capsys)
    assert code == 0
    assert err[:2] == [
        "changed: partner-api/owner/resources.toml",
        "changed: partner-api/owner/endpoints.py",
    ]
    assert owner_files(app) == {
        "endpoints.py": adopt.STARTING_ENDPOINTS,
        "resources.toml": adopt.STARTING_DECLARATION,
    }
    assert "entries" not in adopt.STARTING_DECLARATION.replace("`entries`", "")
    empty = declaration.parse({})
    adopted = (app / "firestore.rules").read_text()
    assert rules.block(empty) in adopted
    assert "/entries/" not in adopted
    indexes = json.loads((app / "firestore.indexes.json").read_text())["indexes"]
    assert not [i for i in indexes if i["collectionGroup"] == "entries"]
    assert run_adopt(app, capsys) == (
        0,
        ["nothing to change: the app already has this version"],
    )


def test_with_examples_the_owner_starts_from_the_demo_and_its_endpoint(
    app: Path, package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_adopt(app, capsys, "--with-examples")[0] == 0
    started = owner_files(app)
    assert started["resources.toml"] == (ROOT / "resources.toml").read_text()
    assert started["endpoints.py"].endswith(
        "from functions.examples.entries_summary import entriesSummary  # noqa: F401\n"
    )
    assert (
        rules.block(declaration.load(ROOT / "resources.toml"))
        in (app / "firestore.rules").read_text()
    )


def test_a_proposed_declaration_starts_the_owners_folder(
    app: Path, package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proposed = app / "proposed.toml"
    proposed.write_text(more_declaration_text())
    assert run_adopt(app, capsys, "--declaration", str(proposed))[0] == 0
    assert owner_files(app) == {
        "endpoints.py": adopt.STARTING_ENDPOINTS,
        "resources.toml": more_declaration_text(),
    }
    assert rules.block(more_declaration()) in (app / "firestore.rules").read_text()
    # the owner edits their declaration; adoption reads it and writes only the app's files
    edited = (
        more_declaration_text() + '\n[notes]\nfields.text = { kind = "text", max_length = 200 }\n'
    )
    (package / "owner" / "resources.toml").write_text(edited)
    code, err = run_adopt(app, capsys)
    assert code == 0
    assert err[:2] == ["changed: firestore.rules", "changed: firestore.indexes.json"]
    assert "match /notes/{docId}" in (app / "firestore.rules").read_text()
    assert owner_files(app)["resources.toml"] == edited


@pytest.mark.parametrize("declares_entries", [True, False])
def test_an_upgrade_from_the_earlier_layout_keeps_what_it_served(
    app: Path, package: Path, capsys: pytest.CaptureFixture[str], declares_entries: bool
) -> None:
    """Before the owner's folder, an owner edited the package's own resources.toml and
    main.py imported the example: the upgrade moves that declaration to owner/, keeps the
    example while `entries` is declared, and changes none of the app's files."""
    served = more_declaration_text()
    if not declares_entries:
        served = served.replace("[entries", "[ledger")
    (package / "resources.toml").write_text(served)
    previous = declaration.parse(tomllib.loads(served))
    changes, _ = adopt.plan(app, package, previous)  # what the earlier version wrote
    adopt.apply(app, changes)
    app_files = {k: v for k, v in snapshot(app).items() if not k.startswith("partner-api/")}
    code, err = run_adopt(app, capsys)
    assert code == 0
    assert err[:3] == [
        "changed: partner-api/owner/resources.toml",
        "changed: partner-api/owner/endpoints.py",
        "warning: firestore.rules:17: `match /menus/{menuId}` allows read always: anyone it "
        "lets in may read the partner collection `menus` of every tenant, past the partner "
        "rules (rules combine with OR)",
    ]
    started = owner_files(app)
    assert started["resources.toml"] == served
    example = "from functions.examples.entries_summary import entriesSummary"
    assert (example in started["endpoints.py"]) is declares_entries
    assert {k: v for k, v in snapshot(app).items() if not k.startswith("partner-api/")} == (
        app_files
    )


PACKAGE_FUNCTIONS = {
    "api",
    "console",
    "deliverWebhook",
    "deliverWebhookRetry",
    "docs",
    "eventCreated",
    "eventCreatedSandbox",
    "health",
    "openapi",
}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), PACKAGE_FUNCTIONS),
        (
            ("--with-examples",),
            PACKAGE_FUNCTIONS
            | {"fetchData", "createEntry", "updateEntry", "entriesSummary"}
            | {"entriesChanged", "entriesChangedSandbox"},
        ),
    ],
)
def test_an_adopted_package_deploys_the_owners_functions_only(
    tmp_path: Path, args: tuple[str, ...], expected: set[str]
) -> None:
    """main.py of a copy of the package, adopted: what the Firebase CLI would deploy."""
    app = tmp_path / "app"
    shutil.copytree(FIXTURE, app)
    package = app / "partner-api"
    for folder in ("functions", "devtools"):
        shutil.copytree(
            ROOT / folder, package / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    for name in ("main.py", "resources.toml", "firebase.json"):
        shutil.copy(ROOT / name, package / name)
    own = {"PYTHONPATH": str(package)}
    adopted = run_python("-m", "devtools.adopt", "--into", "..", *args, cwd=package, env=own)
    assert adopted.returncode == 0, adopted.stderr
    assert (package / "owner" / "resources.toml").is_file()
    assert not (ROOT / "owner").exists()
    loaded = run_python("-c", EXPORTS, cwd=package, env=own)
    assert loaded.returncode == 0, loaded.stderr
    assert set(json.loads(loaded.stdout)) == expected


def test_an_adopted_app_gets_sdks_of_its_own_contract_in_the_owners_folder(
    tmp_path: Path,
) -> None:
    """`make generate` then `make sdk` in an adopted package: the owner's contract becomes
    owner/openapi.json and owner/sdk/ (the package's hand-written half beside the
    generated one); the package's own sdk/ stays as released."""
    app = tmp_path / "app"
    shutil.copytree(FIXTURE, app)
    package = app / "partner-api"
    for folder in ("functions", "devtools", "sdk"):
        shutil.copytree(
            ROOT / folder, package / folder, ignore=shutil.ignore_patterns("__pycache__", "build")
        )
    for name in ("main.py", "resources.toml", "firebase.json", "openapi.json"):
        shutil.copy(ROOT / name, package / name)
    (package / "tooling").symlink_to(ROOT / "tooling")
    own = {"PYTHONPATH": str(package)}
    adopted = run_python("-m", "devtools.adopt", "--into", "..", "--with-examples", cwd=package,
                         env=own)  # fmt: skip
    assert adopted.returncode == 0, adopted.stderr
    released = {p: p.read_bytes() for p in (package / "sdk").rglob("*") if p.is_file()}
    for module in ("devtools.generate", "devtools.sdk"):
        made = run_python("-m", module, cwd=package, env=own)
        assert made.returncode == 0, made.stderr
    sdk = package / "owner" / "sdk"
    assert "owner/sdk" in made.stderr
    operations = (sdk / "python/src/partner_api/_operations.py").read_text()
    assert "class Entries:" in operations
    assert "def entries_summary(" in operations
    assert (sdk / "python/src/partner_api/_runtime.py").read_bytes() == (
        ROOT / "sdk/python/src/partner_api/_runtime.py"
    ).read_bytes()
    assert (sdk / "typescript/dist/index.d.ts").is_file()
    contract = json.loads((package / "owner" / "openapi.json").read_text())
    assert (
        json.loads((sdk / "typescript/package.json").read_text())["version"]
        == (contract["info"]["version"])
    )
    assert {p: p.read_bytes() for p in (package / "sdk").rglob("*") if p.is_file()} == released


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (None, [("(default)", "firestore.rules", "firestore.indexes.json")]),
        ({"rules": "db/app.rules"}, [("(default)", "db/app.rules", "firestore.indexes.json")]),
        (
            [{"database": "(default)", "rules": "a.rules", "indexes": "a.json"},
             {"database": "reports", "rules": "r.rules", "indexes": "r.json"}],
            [("(default)", "a.rules", "a.json"), ("reports", "r.rules", "r.json")],
        ),
        (  # an entry for test mode's database is rewritten to the live one's files
            [{"rules": "a.rules", "indexes": "a.json"},
             {"database": "sandbox", "rules": "old.rules", "indexes": "old.json"}],
            [("(default)", "a.rules", "a.json")],
        ),
    ],
)  # fmt: skip
def test_firebase_json_deploys_the_live_databases_files_to_test_modes_too(
    found: Any, expected: list[tuple[str, str, str]]
) -> None:
    entries = adopt.firestore_entries(found)
    live_rules, live_indexes = expected[0][1], expected[0][2]
    assert [(e["database"], e["rules"], e["indexes"]) for e in entries] == [
        *expected,
        ("sandbox", live_rules, live_indexes),
    ]
    assert adopt.firestore_entries(entries) == entries  # a second adoption changes nothing
