"""The clients the operators' tools use: Firestore with the operator's credentials (or the
emulator), and a quick check that the emulators the environment names are up.

With `functions.store`, the only place that builds a Firestore client.
"""

from __future__ import annotations

import functools
import os
import socket
from typing import TYPE_CHECKING

from functions.operations.errors import EnvironmentProblem

if TYPE_CHECKING:
    from google.cloud import firestore

    Database = firestore.Client

PROBE_TIMEOUT_S = 2.0
EMULATORS = (("FIRESTORE_EMULATOR_HOST", "Firestore"), ("FIREBASE_AUTH_EMULATOR_HOST", "Auth"))


def firestore_client(
    project: str, credentials_file: str | None, database: str = "(default)"
) -> Database:
    """A Firestore client of `database` for the tools: the emulator when
    FIRESTORE_EMULATOR_HOST is set, else the service-account file, else Application
    Default Credentials.

    Raises: EnvironmentProblem (an unreadable credentials file).
    """
    from google.cloud import firestore  # noqa: PLC0415 - keeps the tool's start fast

    if credentials_file and not os.environ.get("FIRESTORE_EMULATOR_HOST"):
        from google.oauth2 import service_account  # noqa: PLC0415

        load = service_account.Credentials.from_service_account_file
        try:
            credentials = load(credentials_file)  # type: ignore[no-untyped-call]
        except (OSError, ValueError) as exc:
            raise EnvironmentProblem(
                f"cannot use the credentials file {credentials_file!r}: {exc}"
            ) from exc
        return firestore.Client(project=project, credentials=credentials, database=database)
    return firestore.Client(project=project, database=database)


@functools.cache
def shared_firestore_client(project: str, database: str = "(default)") -> Database:
    """One client per process and database for a long-lived front end (the console):
    Application Default Credentials, or the emulator."""
    return firestore_client(project, None, database)


def probe_emulators(timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Fail at once, not after the SDKs' minutes of retries, when an emulator the
    environment names does not answer.

    Raises: EnvironmentProblem, saying what to start.
    """
    for variable, name in EMULATORS:
        host = os.environ.get(variable, "").strip()
        if not host:
            continue
        address, _, port = host.rpartition(":")
        try:
            with socket.create_connection((address.strip("[]"), int(port)), timeout=timeout_s):
                pass
        except (OSError, ValueError):
            raise EnvironmentProblem(
                f"the {name} emulator at {host} ({variable}) does not answer: start the "
                "emulators (`make serve`, or `firebase emulators:start`), or unset "
                f"{variable} to use the real project"
            ) from None
