"""What can go wrong in the operators' tools, told in one line each.

Exit codes: 1 the operation was refused (the message says why), 2 usage, 3 the
environment: no or unreadable credentials, an emulator or backend that does not answer.
"""

from __future__ import annotations

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3


class Refused(Exception):
    """The operation cannot be done as asked; the message tells the operator why."""


class UsageError(Refused):
    """The command's own words are off (a value out of range): exit 2, as argparse does."""


class EnvironmentProblem(Exception):
    """The tool cannot do its work here: credentials, emulators or network."""


def environment_problem(error: BaseException) -> str | None:
    """A one-line account of an expected failure of the environment, or None for a bug."""
    from firebase_admin import exceptions as firebase_exceptions  # noqa: PLC0415
    from google.api_core import exceptions as api_exceptions  # noqa: PLC0415
    from google.auth import exceptions as auth_exceptions  # noqa: PLC0415

    from functions.core.errors import ApiError, ConfigurationError  # noqa: PLC0415

    if isinstance(error, EnvironmentProblem):
        text = str(error)
    elif isinstance(error, ConfigurationError):
        text = error.message
    elif isinstance(error, auth_exceptions.DefaultCredentialsError):
        text = (
            "no credentials: pass --credentials FILE, run `gcloud auth application-default "
            "login`, or set FIREBASE_AUTH_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST"
        )
    elif isinstance(error, auth_exceptions.GoogleAuthError):
        text = f"the credentials were refused: {error}"
    elif isinstance(error, firebase_exceptions.UnavailableError):
        text = f"the Auth backend or emulator does not answer ({type(error).__name__})"
    elif isinstance(error, firebase_exceptions.FirebaseError):
        text = f"the Auth backend failed: {error}"
    elif isinstance(error, api_exceptions.GoogleAPIError | ApiError):
        text = f"Firestore (or its emulator) does not answer ({type(error).__name__})"
    else:
        return None
    return " ".join(text.split())
