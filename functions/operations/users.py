"""Partner users: the custom claims that make a Firebase Auth user a partner's user.

firebase-admin replaces custom claims wholesale, so every change reads the user's claims,
merges them (`merged_grant`, `merged_revoke`: pure, unit-tested), checks the result and
only then writes it: nothing is half-applied.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from functions.auth.callers import (
    MODE_CLAIM,
    OWNER_CLAIM,
    PARTNER_CLAIMS,
    PARTNER_ID_CLAIM,
    PARTNER_ID_FORM,
    PARTNER_ID_PATTERN,
    PARTNER_ROLE,
    ROLE_CLAIM,
    SCOPES_CLAIM,
    caller_from_claims,
    known_scopes,
)
from functions.auth.owner_sessions import revoke_sessions
from functions.core.errors import Forbidden
from functions.core.models import EPOCH, UserAccess
from functions.operations.errors import EnvironmentProblem, Refused

if TYPE_CHECKING:
    import firebase_admin
    from firebase_admin import auth as firebase_auth

MAX_CLAIMS_CHARS = 1000


@dataclass(frozen=True)
class PartnerUser:
    uid: str
    email: str | None
    disabled: bool
    claims: Mapping[str, Any]
    valid_since: dt.datetime | None = None
    """Firebase's revocation time (whole seconds): tokens issued before it are revoked."""

    def as_json(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "email": self.email,
            "disabled": self.disabled,
            "claims": dict(self.claims),
        }


@dataclass(frozen=True)
class Change:
    """A user's partner claims before a change, and the user after it."""

    before: Mapping[str, Any]
    after: PartnerUser

    def narrows(self) -> bool:
        """Whether the change takes rights away: a move, fewer scopes, or a revoke."""
        old, new = _rights(self.before), _rights(self.after.claims)
        if old is None:
            return False
        return new is None or new[0] != old[0] or not new[1] >= old[1] or new[2] != old[2]

    def as_json(self) -> dict[str, Any]:
        return {**self.after.as_json(), "before": dict(self.before)}


def _rights(claims: Mapping[str, Any]) -> tuple[str, frozenset[str], str] | None:
    """(partner id, scopes, mode) as the API reads them, or None for a non-partner: a
    change of mode moves the user to another database, as a move to another partner."""
    try:
        caller = caller_from_claims({"uid": "-", **claims})
    except Forbidden:
        return None
    return caller.partner_id, caller.scopes, caller.mode


def merged_grant(
    existing: Mapping[str, Any],
    partner_id: str,
    scopes: Sequence[str] | None,
    *,
    move: bool,
    mode: str = "live",
) -> dict[str, Any]:
    """The claims after granting; pure, so every rule here is unit-tested.

    Without `scopes`, a user keeps the scopes they hold (a new partner user holds all).
    In `mode` test the user is a test user (`mode: "test"`: its calls reach test mode's
    database); a live grant makes it a live user again.

    Raises:
        Refused: malformed partner id or scopes, an owner, a user of another partner
            (without `move`), or claims over firebase-admin's 1000-character limit.
    """
    if not PARTNER_ID_PATTERN.fullmatch(partner_id):
        raise Refused(f"partner id {partner_id!r} is malformed: use {PARTNER_ID_FORM}")
    if existing.get(OWNER_CLAIM) is True:
        raise Refused(
            "the user is an owner of this app (the console); a partner's user must be "
            "someone else (`owners remove` first)"
        )
    current = existing.get(PARTNER_ID_CLAIM)
    if current and current != partner_id and not move:
        raise Refused(
            f"the user already belongs to partner {current!r}; pass --move to reassign them"
        )
    claims = {k: v for k, v in existing.items() if k not in PARTNER_CLAIMS}
    claims[ROLE_CLAIM] = PARTNER_ROLE
    claims[PARTNER_ID_CLAIM] = partner_id
    if scopes is None and SCOPES_CLAIM in existing:
        claims[SCOPES_CLAIM] = existing[SCOPES_CLAIM]  # never widened without --scopes
    if scopes is not None:
        unknown = sorted(set(scopes) - known_scopes())
        if unknown or not scopes:
            raise Refused(
                f"unknown scopes {unknown}; choose from {sorted(known_scopes())}"
                if unknown
                else "give at least one scope, or omit --scopes for all"
            )
        claims[SCOPES_CLAIM] = sorted(set(scopes))
    if mode == "test":
        claims[MODE_CLAIM] = "test"
    check_size(claims)
    return claims


def synced_access(
    uid: str, user: PartnerUser | None, record: UserAccess | None
) -> UserAccess | None:
    """What a user's access record must say, given their account as Firebase Auth holds
    it now (None: a user who is not a partner's and has no record needs none). Pure.

    A deleted account is disabled; a revocation made outside the tools becomes the
    valid-after time (a millisecond before Firebase's, which refuses tokens of earlier
    seconds only); a later valid-after already recorded is kept.
    """
    if user is None:
        return None if record is None else replace(record, partner_id=None, disabled=True)
    rights = _rights(user.claims)
    if rights is None and record is None:
        return None
    valid_after = record.valid_after if record else EPOCH
    if user.valid_since is not None:
        valid_after = max(valid_after, user.valid_since - dt.timedelta(milliseconds=1))
    return UserAccess(uid, rights[0] if rights else None, valid_after, user.disabled)


def merged_revoke(existing: Mapping[str, Any]) -> dict[str, Any]:
    """The claims after revoking: the partner claims removed, every other claim kept.

    Raises:
        Refused: the user is not a partner.
    """
    if existing.get(ROLE_CLAIM) != PARTNER_ROLE and PARTNER_ID_CLAIM not in existing:
        raise Refused("the user is not a partner user")
    return {k: v for k, v in existing.items() if k not in PARTNER_CLAIMS}


def check_size(claims: Mapping[str, Any]) -> None:
    """Raises: Refused when the serialized claims exceed what Firebase accepts."""
    size = len(json.dumps(claims, separators=(",", ":")))
    if size > MAX_CLAIMS_CHARS:
        raise Refused(f"the claims would be {size} characters; Firebase allows {MAX_CLAIMS_CHARS}")


class PartnerDirectory:
    """Partner users of one Firebase project, through firebase-admin."""

    def __init__(self, project: str, credentials_file: str | None = None) -> None:
        import firebase_admin  # noqa: PLC0415
        from firebase_admin import credentials  # noqa: PLC0415

        try:
            credential = credentials.Certificate(credentials_file) if credentials_file else None
        except (OSError, ValueError) as exc:
            raise EnvironmentProblem(
                f"cannot use the credentials file {credentials_file!r}: {exc}"
            ) from exc
        name = f"partners-cli:{project}"
        try:
            self.app: firebase_admin.App = firebase_admin.get_app(name)
        except ValueError:
            self.app = firebase_admin.initialize_app(
                credential, options={"projectId": project}, name=name
            )

    def _auth(self) -> Any:
        from firebase_admin import auth as firebase_auth  # noqa: PLC0415

        return firebase_auth

    def find(self, who: str) -> firebase_auth.UserRecord:
        """A user by uid or, when `who` contains '@', by email.

        Raises:
            Refused: no such user.
        """
        auth = self._auth()
        try:
            if "@" in who:
                return auth.get_user_by_email(who, app=self.app)
            return auth.get_user(who, app=self.app)
        except auth.UserNotFoundError as exc:
            raise Refused(f"no user {who!r} in this project") from exc
        except ValueError as exc:
            raise Refused(f"{who!r} is not a valid uid or email: {exc}") from exc

    def _write_claims(self, uid: str, claims: Mapping[str, Any]) -> None:
        try:
            self._auth().set_custom_user_claims(uid, dict(claims) or None, app=self.app)
        except ValueError as exc:
            raise Refused(f"Firebase refused the claims: {exc}") from exc

    def grant(
        self,
        who: str,
        partner_id: str,
        scopes: Sequence[str] | None,
        *,
        move: bool = False,
        mode: str = "live",
    ) -> Change:
        user = self.find(who)
        before = dict(user.custom_claims or {})
        claims = merged_grant(before, partner_id, scopes, move=move, mode=mode)
        self._write_claims(user.uid, claims)
        return Change(before, self._view(self.find(user.uid)))

    def revoke(self, who: str) -> Change:
        """Remove the partner claims, then end the user's sessions (refresh tokens).

        In this order no fresh token carries partner claims: one minted after the claims
        came off has none, and every one minted before is older than the revoke
        (`revoke_sessions`, whatever the second).
        """
        user = self.find(who)
        before = dict(user.custom_claims or {})
        self._write_claims(user.uid, merged_revoke(before))
        revoke_sessions(user.uid, self.app)
        return Change(before, self._view(self.find(user.uid)))

    def create(
        self, email: str, partner_id: str, scopes: Sequence[str] | None, *, mode: str = "live"
    ) -> tuple[PartnerUser, str]:
        """A new partner user (a test user in `mode` test) with a generated password (for
        local work and trials)."""
        merged_grant({}, partner_id, scopes, move=False, mode=mode)  # refuse before creating
        auth = self._auth()
        password = secrets.token_urlsafe(18)
        try:
            user = auth.create_user(email=email, password=password, app=self.app)
        except auth.EmailAlreadyExistsError as exc:
            raise Refused(f"a user with email {email!r} exists; use grant") from exc
        except ValueError as exc:
            raise Refused(f"cannot create {email!r}: {exc}") from exc
        try:
            return self.grant(user.uid, partner_id, scopes, mode=mode).after, password
        except Refused:
            auth.delete_user(user.uid, app=self.app)
            raise

    def emulator_token(self, who: str, emulator_host: str) -> str:
        """A fresh ID token of `who`, signed in on the Auth emulator with a custom token
        (which the emulator accepts unsigned): no password needed.

        Raises:
            Refused: no such user.
            EnvironmentProblem: the emulator did not answer.
        """
        user = self.find(who)
        custom = self._auth().create_custom_token(user.uid, app=self.app)
        request = urllib.request.Request(
            f"http://{emulator_host}/identitytoolkit.googleapis.com/v1/"
            "accounts:signInWithCustomToken?key=emulator",
            data=json.dumps({"token": custom.decode(), "returnSecureToken": True}).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 - emulator
                return str(json.loads(reply.read())["idToken"])
        except OSError as exc:
            raise EnvironmentProblem(
                f"the Auth emulator at {emulator_host} did not sign the user in ({exc})"
            ) from exc

    def set_disabled(self, uid: str, disabled: bool) -> PartnerUser:
        """Raises: Refused (no such user)."""
        auth = self._auth()
        try:
            return self._view(auth.update_user(uid, disabled=disabled, app=self.app))
        except auth.UserNotFoundError as exc:
            raise Refused(f"no user {uid!r} in this project") from exc

    def users(
        self, partner_id: str | None = None, *, every_user: bool = False
    ) -> Iterator[PartnerUser]:
        """Every partner user, or those of one partner (`every_user`: every account)."""
        for user in self._auth().list_users(app=self.app).iterate_all():
            if every_user:
                yield self._view(user)
                continue
            claims = user.custom_claims or {}
            if claims.get(ROLE_CLAIM) != PARTNER_ROLE:
                continue
            if partner_id is None or claims.get(PARTNER_ID_CLAIM) == partner_id:
                yield self._view(user)

    # Owners: the users the console lets in.

    def owners(self) -> Iterator[PartnerUser]:
        for user in self._auth().list_users(app=self.app).iterate_all():
            if (user.custom_claims or {}).get(OWNER_CLAIM) is True:
                yield self._view(user)

    def add_owner(self, email: str, *, create: bool = False) -> tuple[PartnerUser, str | None]:
        """Give `email`'s user the owner claim (made first with a generated password, with
        `create`); returns the user and that password.

        Raises: Refused (no such user without `create`, or a partner's user)."""
        auth = self._auth()
        password = None
        try:
            user = self.find(email)
        except Refused:
            if not create or "@" not in email:
                raise Refused(f"no user {email!r} in this project; add --create") from None
            password = secrets.token_urlsafe(18)
            try:
                user = auth.create_user(email=email, password=password, app=self.app)
            except ValueError as exc:
                raise Refused(f"cannot create {email!r}: {exc}") from exc
        claims = dict(user.custom_claims or {})
        if claims.get(ROLE_CLAIM) == PARTNER_ROLE:
            raise Refused(f"{email!r} is a partner's user; an owner must be someone else")
        self._write_claims(user.uid, {**claims, OWNER_CLAIM: True})
        return self._view(self.find(user.uid)), password

    def remove_owner(self, who: str) -> PartnerUser:
        """Take the owner claim away and end the user's sessions (console cookies are
        checked for revocation on every request).

        Raises: Refused (no such user, or not an owner)."""
        user = self.find(who)
        claims = dict(user.custom_claims or {})
        if claims.pop(OWNER_CLAIM, None) is not True:
            raise Refused(f"{who!r} is not an owner")
        self._write_claims(user.uid, claims)
        revoke_sessions(user.uid, self.app)
        return self._view(self.find(user.uid))

    def show(self, who: str) -> PartnerUser:
        return self._view(self.find(who))

    @staticmethod
    def _view(user: firebase_auth.UserRecord) -> PartnerUser:
        since = user.tokens_valid_after_timestamp
        return PartnerUser(
            uid=user.uid,
            email=user.email,
            disabled=bool(user.disabled),
            claims=dict(user.custom_claims or {}),
            valid_since=dt.datetime.fromtimestamp(since / 1000, dt.UTC) if since else None,
        )
