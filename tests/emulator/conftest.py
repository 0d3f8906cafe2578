"""Fixtures of the emulator suite: the real emulators (started by `make test`), tenants of
each test's own (`T`; emptied emulators for a test marked `empty_database`), real partner
users.

Nothing here stands in for Firestore or Auth: users are created on the Auth emulator,
ID tokens come from its sign-in endpoint, and requests go either through the Functions
emulator or through functions-framework's app built from the real `main.py`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from devtools import emulators
from tests.helpers import (
    FUNCTIONS,
    PASSWORD,
    PROJECT,
    Api,
    T,
    User,
    UserFactory,
    function_app,
    resending_hang_ups,
    unique_email,
)


def _reachable(host: str) -> bool:
    name, _, port = host.partition(":")
    try:
        with socket.create_connection((name, int(port)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def emulator_hosts() -> dict[str, str]:
    """The running emulators; fails fast with what to do when they are not there."""
    hosts = {
        "firestore": os.environ.get("FIRESTORE_EMULATOR_HOST", ""),
        "auth": os.environ.get("FIREBASE_AUTH_EMULATOR_HOST", ""),
        "functions": os.environ.get("FUNCTIONS_EMULATOR_ORIGIN", "").removeprefix("http://"),
    }
    missing = [name for name, host in hosts.items() if not host or not _reachable(host)]
    if missing:
        pytest.fail(
            f"emulators not running ({', '.join(missing)}): run the tests with `make test`, "
            "which starts them",
            pytrace=False,
        )
    return hosts


@pytest.fixture(autouse=True, scope="session")
def emulator_hang_ups_sent_again() -> Iterator[None]:
    """Requests the Functions emulator dropped on a closing kept-alive connection are sent
    once more (tests/helpers.py `resending_hang_ups`)."""
    original = requests.Session.send
    origin = os.environ.get("FUNCTIONS_EMULATOR_ORIGIN", "")
    requests.Session.send = resending_hang_ups(original, origin)  # type: ignore[method-assign]
    yield
    requests.Session.send = original  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def own_tenants(request: pytest.FixtureRequest) -> None:
    """Every emulator test has tenants of its own (`T`): no other test reads or writes
    under them, so the emulators need no wiping between tests."""
    T.next_test(emptied=request.node.get_closest_marker("empty_database") is not None)


@pytest.fixture
def clean(emulator_hosts: dict[str, str], own_tenants: None) -> None:
    """An emulator test starts with no tokens of the rate limits leased by this process. A
    test marked `empty_database` (it reads every user, whole collections, or swaps the
    rules) starts from empty Firestore and Auth: `make test` runs these one at a time on
    a stack of their own."""
    from functions.edge import wiring

    if T.emptied:
        # Auth first: a trigger of the previous test's writes that runs between the two
        # wipes then finds no partner user, so it never takes an API write for a
        # partner's direct one (and writes no audit record into this test's data).
        emulators.wipe_auth(PROJECT)
        emulators.wipe_firestore(PROJECT)
    wiring.limits_gate.cache_clear()
    wiring.failure_guard.cache_clear()


@pytest.fixture
def make_user(clean: None) -> UserFactory:
    """Create a real user on the Auth emulator with `claims`, signed in: a real ID token."""
    from firebase_admin import auth

    from functions.outside.firebase_app import admin_app

    def make(claims: dict[str, Any] | None = None, *, sign_in: bool = True) -> User:
        email = unique_email()
        user = auth.create_user(email=email, password=PASSWORD, app=admin_app())
        if claims:
            auth.set_custom_user_claims(user.uid, claims, app=admin_app())
        token = emulators.sign_in(email, PASSWORD) if sign_in else ""
        partner_id = (claims or {}).get("partnerId")
        return User(user.uid, email, token, partner_id if isinstance(partner_id, str) else None)

    return make


@pytest.fixture
def partner(make_user: UserFactory) -> Callable[..., User]:
    """A partner user of the given tenant."""

    def make(name: str = "acme", *, tenant: str | None = None, **claims: Any) -> User:
        """A partner user of the running test's tenant `name` (`T.of(name)`), or of the
        partner id `tenant` as it is."""
        return make_user({"role": "partner", "partnerId": tenant or T.of(name), **claims})

    return make


@pytest.fixture
def acme(partner: Callable[[str], User]) -> User:
    return partner("acme")


@pytest.fixture
def globex(partner: Callable[[str], User]) -> User:
    return partner("globex")


@pytest.fixture(scope="session")
def apps() -> dict[str, Any]:
    """Each exported function as functions-framework serves it, built from the real main.py."""
    return {name: function_app(name) for name in FUNCTIONS}


@pytest.fixture
def api(apps: dict[str, Any], clean: None) -> Api:
    return Api(apps)


@pytest.fixture
def emulator_http(emulator_hosts: dict[str, str]) -> Iterator[requests.Session]:
    """A session for calls through the Functions emulator's URLs."""
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="module")
def more_resources(emulator_hosts: dict[str, str], tmp_path_factory: Any) -> Iterator[Any]:
    """The repository's declaration with two more resources (tests/fixtures), served by
    the in-process functions and enforced by the Firestore emulator's rules for the
    duration of a module; the repository's own rules come back afterwards."""
    from tests.helpers import more_declaration_text

    yield from _declared(more_declaration_text(), tmp_path_factory)


@pytest.fixture(scope="module")
def existing_data(emulator_hosts: dict[str, str], tmp_path_factory: Any) -> Iterator[Any]:
    """The repository's declaration with `dishes`, a collection the owner's app already
    fills, declared as it is (no bookkeeping fields, lists by id), for a module."""
    from tests.helpers import existing_declaration_text

    yield from _declared(existing_declaration_text(), tmp_path_factory)


@pytest.fixture(scope="module")
def data_model(emulator_hosts: dict[str, str], tmp_path_factory: Any) -> Iterator[Any]:
    """The repository's declaration with every field kind (tests/fixtures/data_model.toml),
    for a module."""
    from tests.helpers import data_model_declaration_text

    yield from _declared(data_model_declaration_text(), tmp_path_factory)


def _declared(text: str, tmp_path_factory: Any) -> Iterator[Any]:
    """Serve and enforce the declaration `text` (functions and rules) while the caller
    runs; the repository's own declaration and rules come back afterwards."""
    from devtools import generate
    from functions.resources import declaration
    from tests.emulator.rest import load_rules

    path = tmp_path_factory.mktemp("declaration") / "resources.toml"
    path.write_text(text)
    previous = os.environ.get("PARTNER_RESOURCES")
    os.environ["PARTNER_RESOURCES"] = str(path)
    decl = declaration.load(path)
    load_rules(generate.rules_file(decl, generate.RULES_PATH.read_text()))
    try:
        yield decl
    finally:
        if previous is None:
            os.environ.pop("PARTNER_RESOURCES", None)
        else:
            os.environ["PARTNER_RESOURCES"] = previous
        load_rules(generate.RULES_PATH.read_text())
