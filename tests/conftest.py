"""Fixtures both suites use: offline production-mode token verification."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.token_rig import KeyServer, write_service_account
from tests.helpers import PROJECT


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
