"""The firebase-admin app, created on first use for the configured project.

Lazy on purpose: the Firebase CLI imports `main.py` without credentials to discover the
functions, and initializing an app there would look for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions import config

if TYPE_CHECKING:
    import firebase_admin


def admin_app() -> firebase_admin.App:
    """The app for the configured project (Application Default Credentials, or emulators)."""
    import firebase_admin  # noqa: PLC0415 - keeps `main.py` imports fast

    project = config.project_id()
    name = f"partner-api:{project}"
    try:
        return firebase_admin.get_app(name)
    except ValueError:
        return firebase_admin.initialize_app(options={"projectId": project}, name=name)
