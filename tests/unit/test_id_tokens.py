"""Firebase ID tokens in production mode (real RS256 signatures against a local key
server, no emulator variable set), the gate's list of authenticators, and the rule that
keeps emulator mode and test hooks out of deployed functions."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from devtools.token_rig import KeyServer
from functions.auth import Caller, authenticate, id_tokens
from functions.core import config
from functions.core.errors import ConfigurationError, Forbidden, ServiceUnavailable, Unauthorized
from functions.edge.http import shell
from tests.helpers import (
    PROJECT,
    Blackhole,
    assert_error,
    function_app,
    log_lines,
    token_claims,
    unsigned_token,
)

EMULATOR_VARIABLES = ("FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST")


@pytest.fixture(autouse=True)
def no_emulators(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the outer environment holds: these tests never see an emulator."""
    for name in EMULATOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GCLOUD_PROJECT", PROJECT)


# --- production mode: real signature checks, offline ------------------------------------


def _production_claims(**overrides: Any) -> dict[str, Any]:
    return token_claims("prod-user-1", **overrides)


def test_production_accepts_a_properly_signed_token(production_mode: KeyServer) -> None:
    token = production_mode.sign(_production_claims(), "key-1")
    claims = id_tokens.verify_id_token(token, check_revoked=False)
    assert claims["uid"] == "prod-user-1"
    assert claims["partnerId"] == "acme"


PRODUCTION_REJECTS: dict[str, Callable[[KeyServer], str]] = {
    "expired": lambda ks: ks.sign(
        _production_claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600), "key-1"
    ),
    "wrong audience": lambda ks: ks.sign(_production_claims(aud="other-project"), "key-1"),
    "wrong issuer": lambda ks: ks.sign(
        _production_claims(iss="https://securetoken.google.com/other-project"), "key-1"
    ),
    "bad signature": lambda ks: ks.sign(
        _production_claims(),
        "key-1",
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    ),
    "unknown kid": lambda ks: ks.sign(_production_claims(), "key-unknown", ks.keys["key-1"]),
    "unsigned emulator token": lambda ks: unsigned_token(_production_claims()),
    "HS256 token": lambda ks: jwt.encode(
        _production_claims(),
        "a-shared-secret-of-32-bytes-long!",
        algorithm="HS256",
        headers={"kid": "key-1"},
    ),
}


def _deep(part: bytes) -> str:
    return base64.urlsafe_b64encode(part).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        _deep(b'{"alg":"none"}') + "." + _deep(b"[" * 6000) + ".",  # a payload nested deep
        _deep(b"[" * 6000) + "." + _deep(b"{}") + ".",  # a header nested deep
    ],
    ids=["payload", "header"],
)
def test_json_nested_deep_in_a_token_is_a_401_not_a_500(
    token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the emulator (no signature check) and in production alike."""
    monkeypatch.setenv("GCLOUD_PROJECT", PROJECT)
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:1")
    with pytest.raises(Unauthorized) as refused:
        id_tokens.verify_id_token(token, check_revoked=False)
    assert refused.value.reason == "token_malformed"


@pytest.mark.parametrize("case", list(PRODUCTION_REJECTS))
def test_production_rejects(production_mode: KeyServer, case: str) -> None:
    token = PRODUCTION_REJECTS[case](production_mode)
    with pytest.raises(Unauthorized):
        id_tokens.verify_id_token(token, check_revoked=False)


# --- the gate ------------------------------------------------------------------------------


class Recognises:
    """An authenticator of credentials that start with its prefix."""

    def __init__(self, prefix: str, partner_id: str) -> None:
        self.prefix, self.partner_id, self.seen = prefix, partner_id, 0

    def authenticate(self, credential: str) -> Caller | None:
        self.seen += 1
        if not credential.startswith(self.prefix):
            return None
        return Caller(uid="u", partner_id=self.partner_id, scopes=frozenset(), claims={})


def test_the_gate_asks_each_authenticator_in_order_until_one_decides() -> None:
    first, second = Recognises("a_", "acme"), Recognises("b_", "globex")
    assert authenticate("b_secret", [first, second]).partner_id == "globex"
    assert (first.seen, second.seen) == (1, 1)
    assert authenticate("a_secret", [first, second]).partner_id == "acme"
    assert (first.seen, second.seen) == (2, 1), "the second is not asked once the first decided"


def test_a_credential_no_authenticator_recognises_is_401() -> None:
    with pytest.raises(Unauthorized) as caught:
        authenticate("c_secret", [Recognises("a_", "acme")])
    assert 'error="invalid_token"' in caught.value.headers()["WWW-Authenticate"]


@pytest.mark.parametrize("credential", ["abc", "a.b", "a.b.c.d", "x" * 9000 + ".b.c"])
def test_the_id_token_authenticator_passes_on_what_is_not_shaped_like_a_jwt(
    credential: str,
) -> None:
    assert id_tokens.IdTokenAuthenticator().authenticate(credential) is None


def test_an_id_token_of_a_non_partner_is_forbidden(production_mode: KeyServer) -> None:
    token = production_mode.sign(token_claims("prod-user-2", role="admin"), "key-1")
    with pytest.raises(Forbidden):
        id_tokens.IdTokenAuthenticator().authenticate(token)


# --- emulator mode and test hooks stay out of deployed functions ---------------------------


@pytest.mark.parametrize("variable", ["FIREBASE_AUTH_EMULATOR_HOST", "ID_TOKEN_CERTS_URL"])
@pytest.mark.parametrize("marker", ["K_SERVICE", "FUNCTION_TARGET", "K_REVISION", "CLOUD_RUN_JOB"])
def test_overrides_are_refused_in_a_deployed_function_of_a_real_project(
    monkeypatch: pytest.MonkeyPatch, variable: str, marker: str
) -> None:
    for name in config.LOCAL_ONLY_VARIABLES:  # the one under test alone, wherever this runs
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GCLOUD_PROJECT", "acme-accounting")
    monkeypatch.setenv(marker, "fetchData")
    monkeypatch.setenv(variable, "127.0.0.1:9099")
    read = {
        "FIREBASE_AUTH_EMULATOR_HOST": config.auth_emulator_host,
        "ID_TOKEN_CERTS_URL": config.id_token_certs_url,
    }[variable]
    with pytest.raises(ConfigurationError, match=variable):
        read()


@pytest.mark.parametrize(
    ("project", "marker", "allowed"),
    [
        ("demo-partner-api", "K_SERVICE", True),
        ("acme-accounting", None, True),
        ("acme-accounting", "K_SERVICE", False),
        ("acme-accounting", "FUNCTION_TARGET", False),
    ],
)
def test_overrides_apply_to_demo_projects_and_local_runs_only(
    monkeypatch: pytest.MonkeyPatch, project: str, marker: str | None, allowed: bool
) -> None:
    for name in config.DEPLOYED_RUNTIME_MARKERS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GCLOUD_PROJECT", project)
    if marker:
        monkeypatch.setenv(marker, "fetchData")
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
    assert config.local_overrides_allowed() is allowed
    if allowed:
        assert config.auth_emulator_host() == "127.0.0.1:9099"


# --- deadlines on the auth backend -----------------------------------------------------------


@pytest.fixture
def blackhole() -> Iterator[Blackhole]:
    server = Blackhole()
    yield server
    server.close()


def test_a_stalled_user_lookup_is_503_within_the_deadline(
    monkeypatch: pytest.MonkeyPatch, blackhole: Blackhole
) -> None:
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", blackhole.host)
    monkeypatch.setenv("AUTH_TIMEOUT_S", "1")
    token = unsigned_token(token_claims("stalled-user"))
    results: list[tuple[type[Exception], float]] = []

    def call() -> None:
        started = time.monotonic()
        try:
            id_tokens.verify_id_token(token, check_revoked=True)
        except Exception as exc:  # noqa: BLE001 - recorded and asserted below
            results.append((type(exc), time.monotonic() - started))

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [kind for kind, _ in results] == [ServiceUnavailable] * 6
    assert max(elapsed for _, elapsed in results) < 1 + 1.5, results


def test_a_stalled_key_server_is_503_within_the_deadline(
    production_mode: KeyServer, monkeypatch: pytest.MonkeyPatch, blackhole: Blackhole
) -> None:
    monkeypatch.setenv("ID_TOKEN_CERTS_URL", f"http://{blackhole.host}/certs")
    monkeypatch.setenv("AUTH_TIMEOUT_S", "1")
    token = production_mode.sign(token_claims("prod-user-3"), "key-1")
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable) as caught:
        id_tokens.verify_id_token(token, check_revoked=False)
    assert time.monotonic() - started < 1 + 1.5
    assert caught.value.headers()["Retry-After"] == "5"


@pytest.mark.parametrize("value", ["soon", "0.1", "21"])
def test_a_bad_auth_timeout_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("AUTH_TIMEOUT_S", value)
    with pytest.raises(ConfigurationError, match="AUTH_TIMEOUT_S"):
        config.auth_timeout_s()


def test_a_sign_in_time_in_the_future_is_refused(production_mode: KeyServer) -> None:
    future = int(time.time()) + 600
    token = production_mode.sign(token_claims("prod-user-4", auth_time=future), "key-1")
    with pytest.raises(Unauthorized, match="sign-in time"):
        id_tokens.verify_id_token(token, check_revoked=False)


# --- the cursor key and a refusal through HTTP -------------------------------------------


def test_a_real_project_needs_a_cursor_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CURSOR_SECRET", raising=False)
    assert len(config.cursor_key()) == 32, "a demo- project derives one"
    monkeypatch.setenv("GCLOUD_PROJECT", "acme-accounting")
    with pytest.raises(ConfigurationError, match="functions:secrets:set CURSOR_SECRET"):
        config.cursor_key()
    monkeypatch.setenv("CURSOR_SECRET", "s3cret")
    first = config.cursor_key()
    monkeypatch.setenv("CURSOR_SECRET", "other")
    assert config.cursor_key() != first


def test_a_deployed_function_with_emulator_mode_refuses_to_serve(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    app = function_app("fetchData")
    monkeypatch.setattr(shell, "_reported_configuration_errors", set())
    monkeypatch.setenv("GCLOUD_PROJECT", "acme-accounting")
    monkeypatch.setenv("K_SERVICE", "fetchdata")
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
    token = unsigned_token(token_claims("u9", aud="acme-accounting"))
    response = app.test_client().get("/", headers={"Authorization": f"Bearer {token}"})
    error = assert_error(response, 500, "internal")
    assert "FIREBASE_AUTH_EMULATOR_HOST" not in response.get_data(as_text=True)
    assert error["message"] == "The server could not complete the request."
    assert "FIREBASE_AUTH_EMULATOR_HOST is set in a deployed function" in log_lines(capsys)[0]
    again = app.test_client().get("/", headers={"Authorization": f"Bearer {token}"})
    assert_error(again, 500, "internal")
    logged, _ = log_lines(capsys)
    assert "is set in a deployed function" not in logged, "the reason is logged once"
    assert "GET fetchData -> 500" in logged, "every refused request still has its line"


@pytest.mark.parametrize("raw", ["", " ", "\t", "  \n", "127.0.0.1:9099"])
def test_the_guard_decides_set_as_firebase_admin_does(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    from firebase_admin import _auth_utils

    monkeypatch.setenv("GCLOUD_PROJECT", "acme-accounting")
    monkeypatch.setenv("K_SERVICE", "fetchdata")
    for name in config.LOCAL_ONLY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", raw)
    emulated = _auth_utils.is_emulated()  # firebase-admin's own reading of the variable
    assert emulated is (raw != "")
    if emulated:
        with pytest.raises(ConfigurationError, match="FIREBASE_AUTH_EMULATOR_HOST is set"):
            config.check_local_only()
    else:
        config.check_local_only()


@pytest.mark.parametrize("variable", ["FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST"])
def test_a_deployed_function_with_an_emulator_variable_refuses_api_keys_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str
) -> None:
    app = function_app("fetchData")
    monkeypatch.setattr(shell, "_reported_configuration_errors", set())
    monkeypatch.setenv("GCLOUD_PROJECT", "acme-accounting")
    monkeypatch.setenv("K_SERVICE", "fetchdata")
    monkeypatch.setenv(variable, " ")
    key = "pak_live_" + "a" * 40
    response = app.test_client().get("/", headers={"Authorization": f"Bearer {key}"})
    assert_error(response, 500, "internal")
    assert f"{variable} is set in a deployed function" in log_lines(capsys)[0]
