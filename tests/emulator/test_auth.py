"""The gate on the Auth emulator: every partner function x every kind of caller that is
not a partner or cannot be verified, revocations under concurrency, and production-mode
verification through HTTP (the offline verifier itself is unit-tested)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from firebase_admin import auth as firebase_auth

from devtools.token_rig import KeyServer
from functions.auth import id_tokens
from functions.core import config
from functions.core.errors import ConfigurationError, Unauthorized
from functions.outside.firebase_app import admin_app
from tests.helpers import (
    PROJECT,
    ROOT,
    Api,
    T,
    User,
    UserFactory,
    assert_error,
    assert_nothing_passed_after,
    create,
    entry_body,
    function_url,
    hammer_during,
    log_lines,
    token_claims,
    unsigned_token,
)

# --- the matrix on the Auth emulator -----------------------------------------------------


def _call(api: Api, function: str, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if function == "fetchData":
        return api.get("fetchData", headers=headers)
    if function == "createEntry":
        return api.post("createEntry", json=entry_body(), headers=headers)
    return api.patch(
        "updateEntry/doesNotExist1", json={"category": "x"}, headers={**headers, "If-Match": '"1"'}
    )


SUCCESS = {"fetchData": 200, "createEntry": 201, "updateEntry": 404}
CallerFactory = Callable[[UserFactory], str | None]


def _revoked(make_user: UserFactory) -> str:
    user = make_user({"role": "partner", "partnerId": T.acme})
    time.sleep(1.1)  # revocation is recorded with one-second resolution
    firebase_auth.revoke_refresh_tokens(user.uid, app=admin_app())
    return user.token


def _disabled(make_user: UserFactory) -> str:
    user = make_user({"role": "partner", "partnerId": T.acme})
    firebase_auth.update_user(user.uid, disabled=True, app=admin_app())
    return user.token


def _expired(make_user: UserFactory) -> str:
    user = make_user({"role": "partner", "partnerId": T.acme}, sign_in=False)
    now = int(time.time())
    return unsigned_token(token_claims(user.uid, iat=now, exp=now - 60))


def _other_project(make_user: UserFactory) -> str:
    user = make_user({"role": "partner", "partnerId": T.acme}, sign_in=False)
    return unsigned_token(
        token_claims(
            user.uid, aud="other-project", iss="https://securetoken.google.com/other-project"
        )
    )


def _deleted(make_user: UserFactory) -> str:
    user = make_user({"role": "partner", "partnerId": T.acme})
    firebase_auth.delete_user(user.uid, app=admin_app())
    return user.token


UNAUTHORIZED: dict[str, CallerFactory] = {
    "no header": lambda make_user: None,
    "garbage token": lambda make_user: "not.a.token",
    "empty token": lambda make_user: "",
    "token for another project": _other_project,
    "expired token": _expired,
    "revoked session": _revoked,
    "disabled user": _disabled,
    "deleted user": _deleted,
}


@pytest.mark.parametrize("function", list(SUCCESS))
@pytest.mark.parametrize("case", list(UNAUTHORIZED))
def test_unauthorized_callers_get_401(
    api: Api, make_user: UserFactory, function: str, case: str
) -> None:
    token = UNAUTHORIZED[case](make_user)
    response = _call(api, function, token)
    error = assert_error(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="partner-api"')
    expected_phrase = {
        "expired token": "expired",
        "revoked session": "revoked",
        "disabled user": "disabled",
        "token for another project": "another project",
        "deleted user": "no longer exists",
    }.get(case)
    if expected_phrase:
        assert expected_phrase in error["message"]


@pytest.mark.parametrize("function", list(SUCCESS))
def test_valid_partner_gets_through(api: Api, acme: User, function: str) -> None:
    response = _call(api, function, acme.token)
    assert response.status_code == SUCCESS[function], response.get_data(as_text=True)
    assert response.headers["X-Request-Id"]


def test_revocation_takes_effect_on_the_very_next_call(api: Api, acme: User) -> None:
    assert _call(api, "fetchData", acme.token).status_code == 200
    time.sleep(1.1)
    firebase_auth.revoke_refresh_tokens(acme.uid, app=admin_app())
    assert_error(_call(api, "fetchData", acme.token), 401, "unauthenticated")


@pytest.mark.parametrize("path", ["fetchData", "fetchData/missingEntry1", "fetchData?limit=0"])
def test_a_revoked_session_gets_only_401_on_every_read_path(
    api: Api, acme: User, path: str
) -> None:
    created = api.post("createEntry", json=entry_body(description="secret"), headers=acme.headers())
    assert created.status_code == 201
    time.sleep(1.1)  # revocation is recorded with one-second resolution
    firebase_auth.revoke_refresh_tokens(acme.uid, app=admin_app())
    response = api.get(path, headers=acme.headers())
    error = assert_error(response, 401, "unauthenticated")
    assert "revoked" in error["message"]
    assert "secret" not in response.get_data(as_text=True)


@pytest.mark.parametrize("change", ["revoke", "disable"])
def test_no_call_after_a_revoke_passes_while_concurrent_calls_share_lookups(
    emulator_hosts: dict[str, str], make_user: UserFactory, change: str
) -> None:
    user = make_user({"role": "partner", "partnerId": T.acme})
    time.sleep(1.1)  # revocation is recorded with one-second resolution
    apply = {
        "revoke": lambda: firebase_auth.revoke_refresh_tokens(user.uid, app=admin_app()),
        "disable": lambda: firebase_auth.update_user(user.uid, disabled=True, app=admin_app()),
    }[change]

    def accepted() -> bool:
        try:
            id_tokens.verify_id_token(user.token, check_revoked=True)
        except Unauthorized:
            return False
        return True

    assert_nothing_passed_after(hammer_during(apply, accepted), change)


def test_a_maximum_age_lets_a_recent_lookup_decide_and_no_older(
    api: Api, acme: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTH_REVOCATION_MAX_AGE_S", "60")
    assert _call(api, "fetchData", acme.token).status_code == 200
    time.sleep(1.1)
    firebase_auth.revoke_refresh_tokens(acme.uid, app=admin_app())
    assert _call(api, "fetchData", acme.token).status_code == 200, "the documented delay"
    monkeypatch.setenv("AUTH_REVOCATION_MAX_AGE_S", "0")
    assert_error(_call(api, "fetchData", acme.token), 401, "unauthenticated")


@pytest.mark.parametrize("value", ["soon", "-1", "301", "nan"])
def test_a_bad_revocation_max_age_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("AUTH_REVOCATION_MAX_AGE_S", value)
    with pytest.raises(ConfigurationError, match="AUTH_REVOCATION_MAX_AGE_S"):
        config.revocation_max_age_s()


def test_a_bad_revocation_max_age_answers_500_in_the_envelope_without_details(
    api: Api, acme: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTH_REVOCATION_MAX_AGE_S", "soon")
    response = _call(api, "fetchData", acme.token)
    error = assert_error(response, 500, "internal")
    assert "AUTH_REVOCATION_MAX_AGE_S" not in error["message"]


def test_request_id_is_echoed_when_well_formed_and_replaced_otherwise(api: Api) -> None:
    echoed = api.get("fetchData", headers={"X-Request-Id": "partner-req-000123"})
    assert echoed.headers["X-Request-Id"] == "partner-req-000123"
    assert echoed.get_json()["error"]["request_id"] == "partner-req-000123"
    replaced = api.get("fetchData", headers={"X-Request-Id": "bad id\twith spaces"})
    assert replaced.headers["X-Request-Id"] != "bad id\twith spaces"
    assert len(replaced.headers["X-Request-Id"]) == 32


TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def test_the_request_line_is_what_cloud_logging_reads_and_never_the_token(
    api: Api, acme: User, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = "0123456789abcdef0123456789abcdef"
    created = create(api, acme)
    capsys.readouterr()
    response = api.get(
        f"fetchData/{created['id']}?",
        headers=acme.headers(
            **{"X-Cloud-Trace-Context": f"{trace}/42;o=1", "User-Agent": "erp-sync/2.1"}
        ),
    )
    assert response.status_code == 200
    output, records = log_lines(capsys)
    assert acme.token not in output
    (record,) = [r for r in records if "httpRequest" in r]
    assert record["severity"] == "INFO"
    assert record["message"] == "GET fetchData -> 200"
    assert record["function"] == "fetchData"
    assert record["partner_id"] == T.acme
    assert record["credential"] == "user"
    assert record["uid"] == acme.uid
    assert record["request_id"] == response.headers["X-Request-Id"]
    assert TIME.fullmatch(record["time"]), record["time"]
    assert record["logging.googleapis.com/trace"] == f"projects/{PROJECT}/traces/{trace}"
    assert record["logging.googleapis.com/spanId"] == f"{42:016x}"
    assert record["logging.googleapis.com/trace_sampled"] is True
    http = record["httpRequest"]
    assert http["requestMethod"] == "GET"
    assert http["requestUrl"] == f"/fetchData/{created['id']}"
    assert http["status"] == 200
    assert http["userAgent"] == "erp-sync/2.1"
    assert http["responseSize"] == str(len(response.get_data()))
    assert re.fullmatch(r"\d+\.\d{6}s", http["latency"])


def test_a_w3c_traceparent_wins_and_queries_stay_out_of_the_log(
    api: Api, acme: User, capsys: pytest.CaptureFixture[str]
) -> None:
    trace, span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    api.get(
        "fetchData?limit=1&category=secret-category",
        headers=acme.headers(
            traceparent=f"00-{trace}-{span}-00",
            **{"X-Cloud-Trace-Context": "0123456789abcdef0123456789abcdef/1;o=1"},
        ),
    )
    output, records = log_lines(capsys)
    (record,) = [r for r in records if "httpRequest" in r]
    assert record["logging.googleapis.com/trace"] == f"projects/{PROJECT}/traces/{trace}"
    assert record["logging.googleapis.com/spanId"] == span
    assert record["logging.googleapis.com/trace_sampled"] is False
    assert record["httpRequest"]["requestUrl"] == "/fetchData"
    assert "secret-category" not in output


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("no header", "no_credential"),
        ("expired token", "token_expired"),
        ("revoked session", "session_revoked"),
        ("disabled user", "user_disabled"),
        ("deleted user", "user_deleted"),
    ],
)
def test_a_refusal_logs_which_check_failed(
    api: Api, make_user: UserFactory, capsys: pytest.CaptureFixture[str], case: str, reason: str
) -> None:
    token = UNAUTHORIZED[case](make_user)
    capsys.readouterr()
    response = _call(api, "fetchData", token)
    assert_error(response, 401)
    output, records = log_lines(capsys)
    (record,) = [r for r in records if "httpRequest" in r]
    assert record["reason"] == reason
    assert record["code"] == "unauthenticated"
    assert reason not in response.get_data(as_text=True)
    if token:
        assert token not in output


def test_a_forbidden_call_logs_its_reason(
    api: Api, make_user: UserFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    reader = make_user({"role": "partner", "partnerId": T.acme, "scopes": ["entries:read"]})
    capsys.readouterr()
    assert_error(api.post("createEntry", json=entry_body(), headers=reader.headers()), 403)
    _, records = log_lines(capsys)
    (record,) = [r for r in records if "httpRequest" in r]
    assert (record["reason"], record["function"]) == ("insufficient_scope", "createEntry")


# --- production mode through HTTP -----------------------------------------------------


def test_production_http_path_rejects_unsigned_and_accepts_signed(
    api: Api, production_mode: KeyServer
) -> None:
    unsigned = unsigned_token(token_claims("prod-user-1"))
    assert_error(
        api.get("fetchData", headers={"Authorization": f"Bearer {unsigned}"}),
        401,
        "unauthenticated",
    )
    signed = production_mode.sign(token_claims("prod-user-1"), "key-1")
    response = api.get("fetchData", headers={"Authorization": f"Bearer {signed}"})
    assert response.status_code == 200, response.get_data(as_text=True)


def test_the_functions_emulator_collects_the_same_request_line(
    emulator_http: requests.Session, acme: User
) -> None:
    """The line as the Functions emulator collects it from the function's process."""
    request_id = f"log-shape-{time.time_ns()}"
    response = emulator_http.get(
        function_url("fetchData") + "?limit=1",
        headers=acme.headers(**{"X-Request-Id": request_id, "traceparent": TRACEPARENT}),
        timeout=60,
    )
    assert response.status_code == 200
    log = ROOT / ".cache" / "emulators.log"
    for _ in range(50):
        lines = [
            line.removeprefix(">").strip()
            for line in log.read_text(errors="replace").splitlines()
            if request_id in line and "httpRequest" in line
        ]
        if lines:
            break
        time.sleep(0.1)
    (line,) = lines
    record = json.loads(line)
    assert acme.token not in line
    assert record["function"] == "fetchData"
    assert record["httpRequest"]["requestUrl"] == "/fetchData"
    assert record["httpRequest"]["status"] == 200
    assert record["logging.googleapis.com/trace"].endswith(TRACEPARENT.split("-")[1])
    assert TIME.fullmatch(record["time"])


def test_a_collection_setting_firestore_cannot_hold_answers_500_in_the_envelope(
    api: Api, acme: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENTRIES_COLLECTION", "entries/elsewhere")
    response = _call(api, "fetchData", acme.token)
    error = assert_error(response, 500, "internal")
    assert "ENTRIES_COLLECTION" not in error["message"]
    assert "Traceback" not in response.get_data(as_text=True)
