"""Partner users' current access, for the rules (collection `partnerUsers` by default).

The API looks a user up on every call; the rules can read only Firestore, and a token
carries the claims it was minted with for up to an hour. So whatever narrows a user's
access (a revoke, a move, a disable) is written here first, and the generated rules refuse
a token this record contradicts (`partnerApiIsActive()`): both doors close on the next
call. Clients never reach the collection (the rules deny it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from functions.core import config
from functions.core.models import EPOCH, UserAccess
from functions.store import calls
from functions.store.client import UnitOfWork, backend_errors, directory

if TYPE_CHECKING:
    from google.cloud import firestore

PARTNER_ID = "partnerId"
VALID_AFTER = "validAfter"
DISABLED = "disabled"


def users(database: firestore.Client | None = None) -> firestore.CollectionReference:
    return (database or directory()).collection(config.partner_users_collection())


def access_from(uid: str, data: Mapping[str, Any] | None) -> UserAccess | None:
    """The access a stored document holds; None when there is none. A record of another
    shape closes the door, as the rules do (they compare its fields as stored)."""
    if data is None:
        return None
    partner_id = data.get(PARTNER_ID)
    valid_after = data.get(VALID_AFTER)
    disabled = data.get(DISABLED)
    if not isinstance(valid_after, dt.datetime) or not isinstance(disabled, bool):
        return UserAccess(uid, None, dt.datetime.max.replace(tzinfo=dt.UTC), True)
    return UserAccess(
        uid,
        partner_id if isinstance(partner_id, str) else None,
        valid_after.astimezone(dt.UTC),
        disabled,
    )


def get(uid: str, database: firestore.Client | None = None) -> UserAccess | None:
    """Raises: ServiceUnavailable (backend down or too slow)."""
    with backend_errors():
        snapshot = calls.get(users(database).document(uid))
    return access_from(uid, snapshot.to_dict() if snapshot.exists else None)


def put(access: UserAccess, database: firestore.Client | None = None) -> None:
    """Write a user's access whole (what holds now replaces what held).

    Raises: ServiceUnavailable (backend down or too slow).
    """
    work = UnitOfWork(database or directory())
    work.set(
        users(database).document(access.uid),
        {
            PARTNER_ID: access.partner_id,
            VALID_AFTER: access.valid_after,
            DISABLED: access.disabled,
            "updatedAt": dt.datetime.now(dt.UTC),
        },
    )
    work.commit()


def every(database: firestore.Client) -> Iterator[UserAccess]:
    with backend_errors():
        for snapshot in users(database).order_by("__name__").stream():
            access = access_from(snapshot.id, snapshot.to_dict())
            if access is not None:
                yield access


def close(
    uid: str, partner_id: str | None, *, disabled: bool, valid_after: dt.datetime | None
) -> bool:
    """Make the rules agree with what the API found in Firebase Auth (a disabled or
    deleted account, a session revoked outside the tools): the record then refuses what
    the API refuses. Writes only when the record says otherwise; returns whether it wrote.

    Raises: ServiceUnavailable (backend down or too slow).
    """
    record = get(uid)
    since = record.valid_after if record else EPOCH
    wanted = UserAccess(uid, partner_id, max(since, valid_after or EPOCH), disabled)
    if wanted == record:
        return False
    put(wanted)
    return True
