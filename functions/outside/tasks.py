"""Cloud Tasks, through firebase-admin's task queues: one named task for a task queue
function of this deployment (its queue bears the function's name).

A name makes an enqueue idempotent: the queue refuses a second task of the same name,
which `TaskExists` says in one way for Cloud Tasks and its emulator alike.
"""

from __future__ import annotations

from typing import Any

from functions.core import config
from functions.outside.firebase_app import admin_app


class TaskExists(Exception):
    """A task of that name was enqueued before (or still is)."""


class QueueUnreachable(Exception):
    """The queue did not take the task: the caller tries again later."""


def enqueue(function: str, data: dict[str, Any], name: str) -> None:
    """Enqueue the task `data` (the body the queue sends) for `function` under `name`.

    Under the Cloud Tasks emulator firebase-admin (7.7) drops the first character of the
    task name the emulator answers with and then fails to parse it, after the task was
    enqueued: that one error means done, and only there.

    Raises: TaskExists, QueueUnreachable.
    """
    from firebase_admin import exceptions as firebase_exceptions  # noqa: PLC0415
    from firebase_admin import functions as cloud_functions  # noqa: PLC0415

    queue = cloud_functions.task_queue(
        f"locations/{config.functions_region()}/functions/{function}", app=admin_app()
    )
    try:
        queue.enqueue(data, cloud_functions.TaskOptions(task_id=name))
    except ValueError as exc:
        if config.tasks_emulator_host() is None or "resource name" not in str(exc):
            raise
    except firebase_exceptions.AlreadyExistsError as exc:
        raise TaskExists(name) from exc
    except firebase_exceptions.ConflictError as exc:
        # Cloud Tasks answers a taken name with ALREADY_EXISTS; its emulator with a bare
        # 409, which firebase-admin reads as a conflict: the same answer, said the same.
        if "already exists" not in str(exc):
            raise QueueUnreachable(str(exc)) from exc
        raise TaskExists(name) from exc
    except firebase_exceptions.FirebaseError as exc:
        raise QueueUnreachable(str(exc)) from exc
