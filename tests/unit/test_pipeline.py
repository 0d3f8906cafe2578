"""The request pipeline: the order of its stages, and what that order means for the status
a request gets when several things are wrong with it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask, Request, Response

from functions.auth import Caller
from functions.core.errors import PreconditionFailed, ValidationFailed
from functions.core.limits import Gate
from functions.core.models import Revision
from functions.edge.http import pipeline
from functions.edge.http.pipeline import Endpoint, PublicEndpoint, serve
from functions.edge.http.responses import Reply
from tests.helpers import PROJECT, MemoryLeases, assert_error, log_lines

APP = Flask(__name__)


@pytest.fixture(autouse=True)
def project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GCLOUD_PROJECT", PROJECT)


class Keys:
    """Accepts `good-*` (all scopes) and `reader-*` credentials, passes on the rest."""

    def authenticate(self, credential: str) -> Caller | None:
        if credential.startswith("good-"):
            return Caller("u1", "acme", frozenset({"entries:read", "entries:write"}), {})
        if credential.startswith("reader-"):
            return Caller("u2", "acme", frozenset({"entries:read"}), {})
        return None


class Recorder:
    """An endpoint whose own stages record that they ran, and fail on demand."""

    def __init__(self) -> None:
        self.ran: list[str] = []

    def parse(self, request: Request, caller: Caller) -> dict[str, Any]:
        self.ran.append("parse")
        body = request.get_json(silent=True) or {}
        if body.get("bad"):
            raise ValidationFailed(details=[{"field": "bad", "message": "is bad"}])
        return dict(body)

    def operation(self, caller: Caller, parsed: dict[str, Any]) -> str:
        self.ran.append("operation")
        if parsed.get("stale"):
            raise PreconditionFailed(current=Revision(version=3))
        if parsed.get("crash"):
            raise RuntimeError("secret internals")
        return caller.partner_id

    def serialize(self, result: str, parsed: dict[str, Any], caller: Caller) -> Reply:
        self.ran.append("serialize")
        return Reply({"partner": result}, 201, {"X-Extra": "1"})

    def endpoint(self) -> Endpoint[dict[str, Any], str]:
        return Endpoint(
            "record",
            "POST",
            frozenset({"entries:write"}),
            self.parse,
            self.operation,
            self.serialize,
        )


def call(recorder: Recorder, method: str = "POST", **kwargs: Any) -> Response:
    with APP.test_request_context("/", method=method, **kwargs) as context:
        return serve(recorder.endpoint(), context.request, [Keys()], LIMITS)


LIMITS = Gate.over(MemoryLeases())


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def test_the_stages_run_in_the_documented_order() -> None:
    names = [name for name, _ in pipeline.PARTNER_STAGES]
    assert names == [
        "authenticate",
        "authorize",
        "limits",
        "parse",
        "operation",
        "serialize",
        "audit",
    ]
    assert [name for name, _ in pipeline.PUBLIC_STAGES] == ["operation"]


def test_a_good_request_goes_through_every_stage() -> None:
    recorder = Recorder()
    response = call(recorder, json={}, headers=bearer("good-1"))
    assert response.status_code == 201
    assert json.loads(response.get_data()) == {"partner": "acme"}
    assert response.headers["X-Extra"] == "1"
    assert response.headers["X-Request-Id"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert recorder.ran == ["parse", "operation", "serialize"]


@pytest.mark.parametrize(
    ("method", "credential", "body", "status"),
    [
        ("GET", None, {"bad": True}, 405),  # method before identity
        ("POST", None, {"bad": True}, 401),  # identity before the request itself
        ("POST", "unknown-1", {"bad": True}, 401),
        ("POST", "reader-1", {"bad": True}, 403),  # scopes before the request itself
        ("POST", "good-1", {"bad": True}, 422),  # the request before the data
        ("POST", "good-1", {"stale": True}, 412),
    ],
)
def test_the_first_failing_stage_decides_the_status(
    method: str, credential: str | None, body: dict[str, Any], status: int
) -> None:
    recorder = Recorder()
    headers = bearer(credential) if credential else {}
    response = call(recorder, method, json=body, headers=headers)
    assert_error(response, status)
    reached = {405: [], 401: [], 403: [], 422: ["parse"], 412: ["parse", "operation"]}[status]
    assert recorder.ran == reached


def test_a_stale_version_answers_with_the_current_etag() -> None:
    response = call(Recorder(), json={"stale": True}, headers=bearer("good-1"))
    assert_error(response, 412, "precondition_failed")
    assert response.headers["ETag"] == '"3"'


def test_an_unexpected_error_is_a_500_that_reveals_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    response = call(Recorder(), json={"crash": True}, headers=bearer("good-1"))
    error = assert_error(response, 500, "internal")
    assert "secret internals" not in response.get_data(as_text=True)
    assert error["message"] == "The server could not complete the request."
    logged, _ = log_lines(capsys)
    assert "secret internals" in logged
    assert "Traceback" in logged


def test_wrong_method_says_which_is_allowed() -> None:
    response = call(Recorder(), "DELETE", headers=bearer("good-1"))
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "POST"


def test_a_public_endpoint_asks_for_no_credentials() -> None:
    endpoint = PublicEndpoint("ping", "GET", lambda request: Reply({"pong": True}))
    with APP.test_request_context("/", method="GET") as context:
        response = serve(endpoint, context.request, [])
    assert response.status_code == 200
    assert json.loads(response.get_data()) == {"pong": True}
