"""Fixtures both suites use: offline production-mode token verification; and, under
`make test`, each pytest worker pointed at an emulator stack of its own."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.token_rig import KeyServer, write_service_account
from tests.helpers import PROJECT


def pytest_configure(config: pytest.Config) -> None:
    """A pytest worker (gw0, gw1, ...) takes the emulator stack of its number, when the
    stack runner started several (`devtools.stack`): emulator tests wipe the emulators
    between them, so two workers never share one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    stacks = os.environ.get("PARTNER_API_TEST_STACKS")
    if worker.startswith("gw") and stacks:
        chosen = json.loads(stacks)
        os.environ.update(chosen[int(worker.removeprefix("gw")) % len(chosen)])


@pytest.fixture(scope="module")
def key_server() -> Iterator[KeyServer]:
    server = KeyServer()
    server.add_key("key-1")
    yield server
    server.close()


@pytest.fixture
def production_mode(
    key_server: KeyServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> KeyServer:
    """No Auth emulator: tokens are verified for real, against the local key server.

    firebase-admin builds its auth client with the app's credentials, so a locally
    generated service-account file stands in for the platform's; it is never used to call
    anything here. Works with or without the emulator variables set.
    """
    account = write_service_account(tmp_path, PROJECT)
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GCLOUD_PROJECT", PROJECT)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(account))
    monkeypatch.setenv("ID_TOKEN_CERTS_URL", key_server.url)
    monkeypatch.setenv("AUTH_CHECK_REVOKED", "false")
    return key_server
