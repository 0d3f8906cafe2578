"""An app we did not write (tests/fixtures/existing_app), adopted: on the Firestore
emulator its own rules tests, written before adoption and unchanged, pass before and after,
and partners get exactly what the partner rules give them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from devtools import adopt, emulators, generate
from functions.resources import declaration
from tests.corpus import VALID
from tests.emulator.rest import DOCUMENTS, create_doc, get_doc, headers, load_rules, rest, value
from tests.helpers import PASSWORD, PROJECT, ROOT, T, User, UserFactory

pytestmark = pytest.mark.empty_database  # an adopted app's data is read as a whole

FIXTURE = ROOT / "tests" / "fixtures" / "existing_app"
OWNER = json.loads((FIXTURE / "owner_rules_cases.json").read_text())


@pytest.fixture(scope="module")
def adopted_rules(tmp_path_factory: Any, emulator_hosts: dict[str, str]) -> Iterator[str]:
    """The fixture app's rules after `make adopt`; the repository's rules come back after."""
    app = tmp_path_factory.mktemp("apps") / "restaurant-app"
    shutil.copytree(FIXTURE, app)
    (app / "partner-api").mkdir()
    changes, _ = adopt.plan(app, app / "partner-api", declaration.current())
    adopt.apply(app, changes)
    try:
        yield (app / "firestore.rules").read_text()
    finally:
        load_rules(generate.RULES_PATH.read_text())


def _owner_user(uid: str) -> User:
    from firebase_admin import auth

    from functions.outside.firebase_app import admin_app

    email = f"{uid}@restaurant.example"
    auth.create_user(uid=uid, email=email, password=PASSWORD, app=admin_app())
    return User(uid=uid, email=email, token=emulators.sign_in(email, PASSWORD))


def _write(token: str | None, path: str, data: dict[str, Any], *, exists: bool) -> int:
    write: dict[str, Any] = {
        "update": {
            "name": f"{DOCUMENTS}/{path}",
            "fields": {k: value(v) for k, v in data.items()},
        },
        "currentDocument": {"exists": exists},
    }
    response = requests.post(
        rest(":commit"), json={"writes": [write]}, headers=headers(token), timeout=30
    )
    return response.status_code


def run_owner_cases(rules_text: str) -> list[str]:
    """The owner's rules tests, as written before adoption; returns the cases that fail."""
    from functions import store

    load_rules(rules_text)
    for path, data in OWNER["seed"].items():
        store.client().document(path).set(data)
    users = {"alice": _owner_user("alice")}
    failures = []
    for case in OWNER["cases"]:
        token = users[case["who"]].token if case["who"] else None
        if case["op"] == "get":
            status = get_doc(token, case["path"]).status_code
        else:
            status = _write(token, case["path"], case["data"], exists=case["op"] == "update")
        if (status == 200) is not case["allowed"]:
            failures.append(f"{case} -> {status}")
    return failures


def test_the_owners_cases_pass_on_the_owners_own_rules(clean: None) -> None:
    assert run_owner_cases((FIXTURE / "firestore.rules").read_text()) == []


def test_the_owners_cases_still_pass_after_adoption(clean: None, adopted_rules: str) -> None:
    assert run_owner_cases(adopted_rules) == []


def test_an_app_adopted_with_nothing_declared_yet_keeps_its_own_rules_and_opens_nothing(
    clean: None, tmp_path: Any, make_user: UserFactory
) -> None:
    """A first adoption starts the owner's declaration empty: the block compiles, the
    owner's cases pass, and a partner reaches no document (entries included)."""
    from functions import store

    app = tmp_path / "restaurant-app"
    shutil.copytree(FIXTURE, app)
    (app / "partner-api").mkdir()
    owned, decl = adopt.owner_folder(app, app / "partner-api")
    assert decl.resources == ()
    changes, found = adopt.plan(app, app / "partner-api", decl)
    adopt.apply(app, owned + changes)
    adopted = (app / "firestore.rules").read_text()
    assert (found, adopted.count("match /entries/")) == ([], 0)
    try:
        assert run_owner_cases(adopted) == []
        acme = make_user({"role": "partner", "partnerId": T.acme})
        store.client().document(f"entries/{T.acme}-1").set({"partnerId": T.acme})
        assert get_doc(acme.token, f"entries/{T.acme}-1").status_code == 403
        assert get_doc(acme.token, "menus/margherita").status_code == 200  # the app's own rule
    finally:
        load_rules(generate.RULES_PATH.read_text())


def test_partners_get_the_partner_rules_after_adoption(
    make_user: UserFactory, adopted_rules: str
) -> None:
    from functions import store

    load_rules(adopted_rules)
    acme = make_user({"role": "partner", "partnerId": T.acme})
    for tenant in (T.acme, T.globex):
        store.client().document(f"entries/{tenant}-1").set(
            {**VALID["minimal"], "partnerId": tenant, "createdBy": "seed", "version": 1}
        )
    store.client().document("users/alice").set({"name": "Alice"})
    assert get_doc(acme.token, f"entries/{T.acme}-1").status_code == 200
    assert get_doc(acme.token, f"entries/{T.globex}-1").status_code == 403
    assert get_doc(acme.token, "users/alice").status_code == 403
    created = create_doc(
        acme.token,
        "new-1",
        {**VALID["minimal"], "partnerId": T.acme, "createdBy": acme.uid, "version": 1},
    )
    assert created.status_code == 200, created.text
    someone = make_user({})
    assert get_doc(someone.token, f"entries/{T.acme}-1").status_code == 403


def test_adoption_warns_of_documents_a_declared_collection_already_holds(
    emulator_hosts: dict[str, str],
) -> None:
    from functions import store

    emulators.wipe_firestore(PROJECT)
    assert adopt.existing_data(declaration.current()) == []  # empty: nothing to say
    for doc_id in ("a", "b"):
        store.client().document(f"entries/{doc_id}").set({"partnerId": T.acme})
    assert adopt.existing_data(declaration.current()) == [
        f"warning: entries: collection entries already holds 2 documents on the emulator "
        f"(project {PROJECT}): run `python -m functions.partners inspect entries` to see what "
        "partners would see of them"
    ]
