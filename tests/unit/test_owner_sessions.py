"""An owner's console session without Firebase: what the sign-in asks Identity Toolkit
and firebase-admin, what it refuses and says, and how a session cookie is judged against
the user's current record. (The emulator suite signs real owners in, `test_console.py`.)"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from firebase_admin import auth

from functions.auth import owner_sessions
from functions.auth.owner_sessions import Owner, SignInFailed

APP = object()
OWNER = {"uid": "u1", "email": "owner@example.test", "owner": True}


class Answer:
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status_code = status
        self._body = body

    def json(self) -> dict[str, Any]:
        return self._body


@pytest.fixture(autouse=True)
def no_firebase(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """firebase-admin's calls recorded, each answering as told."""
    calls: list[tuple[str, Any]] = []
    monkeypatch.setattr(owner_sessions, "admin_app", lambda: APP)
    monkeypatch.setenv("GCLOUD_PROJECT", "demo-partner-api")
    monkeypatch.delenv("CONSOLE_API_KEY", raising=False)
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)

    def verify_id_token(token: str, app: Any) -> dict[str, Any]:
        calls.append(("verify_id_token", (token, app)))
        return dict(OWNER)

    def create_session_cookie(token: str, lifetime: dt.timedelta, app: Any) -> bytes:
        calls.append(("create_session_cookie", (token, lifetime, app)))
        return b"cookie-1"

    monkeypatch.setattr(auth, "verify_id_token", verify_id_token)
    monkeypatch.setattr(auth, "create_session_cookie", create_session_cookie)
    return calls


def toolkit(monkeypatch: pytest.MonkeyPatch, answer: Answer | Exception) -> list[dict[str, Any]]:
    asked: list[dict[str, Any]] = []

    def post(url: str, **options: Any) -> Answer:
        asked.append({"url": url, **options})
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(requests, "post", post)
    return asked


@pytest.mark.parametrize(
    ("claims", "refusal"),
    [
        ({"owner": True}, None),
        ({"owner": "true"}, "This account is not an owner of this app."),
        ({"owner": 1}, "This account is not an owner of this app."),
        ({}, "This account is not an owner of this app."),
        ({"owner": True, "role": "partner"}, "A partner's account cannot use the owner's console."),
        ({"role": "partner"}, "A partner's account cannot use the owner's console."),
    ],
)
def test_only_the_owner_claim_and_no_partner_role_may_use_the_console(
    claims: dict[str, Any], refusal: str | None
) -> None:
    assert owner_sessions.owner_from_claims(claims) == refusal


@pytest.mark.parametrize(
    ("email", "password", "status", "message"),
    [
        ("", "pw", 400, "Enter your email and password."),
        ("   ", "pw", 400, "Enter your email and password."),
        ("a@b.c", "", 400, "Enter your email and password."),
        ("a" * 243 + "@example.tes", "pw", 400, "Email or password is too long."),
        ("a@b.c", "p" * 4097, 400, "Email or password is too long."),
        ("a@b.c", "pw", 503, "The console is not configured: set CONSOLE_API_KEY to the "
         "project's Web API key."),
    ],
)  # fmt: skip
def test_a_sign_in_is_refused_before_any_call_with_what_to_do(
    monkeypatch: pytest.MonkeyPatch, email: str, password: str, status: int, message: str
) -> None:
    asked = toolkit(monkeypatch, Answer(200, {"idToken": "t"}))
    with pytest.raises(SignInFailed) as refused:
        owner_sessions.sign_in(email, password)
    assert (refused.value.status, refused.value.message) == (status, message)
    assert asked == []


def test_a_sign_in_asks_identity_toolkit_then_trades_the_token_for_a_cookie(
    monkeypatch: pytest.MonkeyPatch, no_firebase: list[tuple[str, Any]]
) -> None:
    monkeypatch.setenv("CONSOLE_API_KEY", "web-key")
    asked = toolkit(monkeypatch, Answer(200, {"idToken": "id-token-1"}))
    longest = "a" * 242 + "@example.test"
    assert len(longest) == 255
    cookie, owner = owner_sessions.sign_in("  owner@example.test ", "p" * 4096)
    assert cookie == "cookie-1"
    assert owner == Owner("u1", "owner@example.test", owner_sessions.csrf_token("cookie-1"))
    assert asked == [
        {
            "url": "https://identitytoolkit.googleapis.com/v1/accounts:signInWithPassword",
            "params": {"key": "web-key"},
            "json": {
                "email": "owner@example.test",
                "password": "p" * 4096,
                "returnSecureToken": True,
            },
            "timeout": owner_sessions.SIGN_IN_TIMEOUT_S,
        }
    ]
    assert no_firebase == [
        ("verify_id_token", ("id-token-1", APP)),
        ("create_session_cookie", ("id-token-1", dt.timedelta(hours=8), APP)),
    ]
    with pytest.raises(SignInFailed) as too_long:
        owner_sessions.sign_in(longest, "pw")
    assert too_long.value.status == 400


def test_under_the_auth_emulator_the_sign_in_goes_there_without_a_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
    asked = toolkit(monkeypatch, Answer(200, {"idToken": "t"}))
    owner_sessions.sign_in("owner@example.test", "pw")
    (call,) = asked
    assert call["url"] == (
        "http://127.0.0.1:9099/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword"
    )
    assert call["params"] == {"key": "emulator"}


@pytest.mark.parametrize(
    ("answer", "status", "message"),
    [
        (requests.ConnectionError("down"), 503, "Firebase Auth did not answer; try again."),
        (requests.Timeout("slow"), 503, "Firebase Auth did not answer; try again."),
        (Answer(400, {"error": {"message": "INVALID_PASSWORD"}}), 401, "Wrong email or password."),
        (Answer(201, {"idToken": "t"}), 401, "Wrong email or password."),
        (Answer(200, {}), 401, "Sign-in failed; try again."),
        (Answer(200, {"idToken": 7}), 401, "Sign-in failed; try again."),
    ],
)
def test_what_identity_toolkit_answers_is_said_in_one_line(
    monkeypatch: pytest.MonkeyPatch, answer: Any, status: int, message: str
) -> None:
    monkeypatch.setenv("CONSOLE_API_KEY", "web-key")
    toolkit(monkeypatch, answer)
    with pytest.raises(SignInFailed) as refused:
        owner_sessions.sign_in("owner@example.test", "pw")
    assert (refused.value.status, refused.value.message) == (status, message)


def test_a_partner_or_a_plain_user_gets_no_cookie(
    monkeypatch: pytest.MonkeyPatch, no_firebase: list[tuple[str, Any]]
) -> None:
    monkeypatch.setenv("CONSOLE_API_KEY", "web-key")
    toolkit(monkeypatch, Answer(200, {"idToken": "t"}))
    monkeypatch.setattr(
        auth, "verify_id_token", lambda token, app: {"uid": "p1", "role": "partner"}
    )
    with pytest.raises(SignInFailed) as refused:
        owner_sessions.sign_in("p@example.test", "pw")
    assert (refused.value.status, refused.value.message) == (
        403,
        "A partner's account cannot use the owner's console.",
    )
    assert [name for name, _ in no_firebase] == []


class User:
    def __init__(
        self, *, disabled: bool = False, valid_after_ms: int | None = None, claims: Any = None
    ) -> None:
        self.disabled = disabled
        self.tokens_valid_after_timestamp = valid_after_ms
        self.custom_claims = {"owner": True} if claims is None else claims


def judge(monkeypatch: pytest.MonkeyPatch, user: User | Exception, iat: int = 1_000) -> Owner:
    checked: list[tuple[str, bool]] = []

    def verify_session_cookie(cookie: str, check_revoked: bool, app: Any) -> dict[str, Any]:
        checked.append((cookie, check_revoked))
        return {"uid": "u1", "iat": iat, "email": "owner@example.test"}

    def get_user(uid: str, app: Any) -> User:
        assert (uid, app) == ("u1", APP)
        if isinstance(user, Exception):
            raise user
        return user

    monkeypatch.setattr(auth, "verify_session_cookie", verify_session_cookie)
    monkeypatch.setattr(auth, "get_user", get_user)
    owner = owner_sessions.owner_of_cookie("cookie-1")
    assert checked == [("cookie-1", False)]  # revocation judged on the record read here
    return owner


def test_a_session_is_judged_by_the_users_current_record(monkeypatch: pytest.MonkeyPatch) -> None:
    owner = judge(monkeypatch, User(valid_after_ms=1_000_000))
    assert owner == Owner("u1", "owner@example.test", owner_sessions.csrf_token("cookie-1"))
    assert judge(monkeypatch, User(valid_after_ms=None)).uid == "u1"


@pytest.mark.parametrize(
    ("user", "status", "message"),
    [
        (User(disabled=True), 401, "Your session has ended; sign in again."),
        (User(valid_after_ms=1_000_001), 401, "Your session has ended; sign in again."),
        (auth.UserNotFoundError("gone"), 401, "Your session has ended; sign in again."),
        (User(claims={}), 403, "This account is not an owner of this app."),
        (User(claims={"owner": True, "role": "partner"}), 403,
         "A partner's account cannot use the owner's console."),
    ],
)  # fmt: skip
def test_a_session_ends_with_its_users_record(
    monkeypatch: pytest.MonkeyPatch, user: User | Exception, status: int, message: str
) -> None:
    with pytest.raises(SignInFailed) as refused:
        judge(monkeypatch, user)
    assert (refused.value.status, refused.value.message) == (status, message)


def test_no_cookie_or_a_bad_one_is_a_signed_out_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SignInFailed) as none:
        owner_sessions.owner_of_cookie(None)
    assert (none.value.status, none.value.message) == (401, "Sign in to use the console.")

    def forged(cookie: str, check_revoked: bool, app: Any) -> dict[str, Any]:
        raise auth.InvalidSessionCookieError("forged")

    monkeypatch.setattr(auth, "verify_session_cookie", forged)
    with pytest.raises(SignInFailed) as bad:
        owner_sessions.owner_of_cookie("forged")
    assert (bad.value.status, bad.value.message) == (401, "Your session has ended; sign in again.")


def test_a_revoke_waits_for_the_next_whole_second(monkeypatch: pytest.MonkeyPatch) -> None:
    """Firebase keeps revocation times in whole seconds: a revoke made at 10.25 s waits
    0.75 s and a margin, so every token issued up to it is of an earlier second."""
    import time

    slept: list[float] = []
    revoked: list[tuple[str, Any]] = []
    monkeypatch.setattr(time, "time", lambda: 10.25)
    monkeypatch.setattr(time, "sleep", slept.append)
    monkeypatch.setattr(auth, "revoke_refresh_tokens", lambda uid, app: revoked.append((uid, app)))
    owner_sessions.revoke_sessions("u1", APP)
    assert slept == [pytest.approx(0.75 + owner_sessions.REVOKE_MARGIN_S)]
    assert revoked == [("u1", APP)]
    owner_sessions.end_session(Owner("u2", "o@example.test", "c"))
    assert revoked[-1] == ("u2", APP)
