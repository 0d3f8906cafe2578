"""The firebase-admin app, created on first use for the configured project.

Lazy on purpose: the Firebase CLI imports `main.py` without credentials to discover the
functions, and initializing an app there would look for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.core import config

if TYPE_CHECKING:
    import firebase_admin


def admin_app() -> firebase_admin.App:
    """The app for the configured project (Application Default Credentials, or emulators).

    Its HTTP calls (user lookups, signing-key fetches) time out at half the auth deadline:
    firebase-admin retries a timed-out read once, and the whole may not outlast it.
    """
    import firebase_admin  # noqa: PLC0415 - keeps `main.py` imports fast

    project = config.project_id()
    http_timeout = config.auth_timeout_s() / 2
    name = f"partner-api:{project}:{http_timeout:g}"
    try:
        return firebase_admin.get_app(name)
    except ValueError:
        return firebase_admin.initialize_app(
            options={"projectId": project, "httpTimeout": http_timeout}, name=name
        )
