"""The log shapes Cloud Logging and Error Reporting read."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from functions.core import logs
from tests.helpers import ROOT, log_lines

PROJECT = "demo-partner-api"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.parametrize(
    ("traceparent", "cloud", "expected"),
    [
        (f"00-{TRACE}-00f067aa0ba902b7-01", None, (TRACE, "00f067aa0ba902b7", True)),
        (
            f"00-{TRACE}-00f067aa0ba902b7-00",
            f"{'a' * 32}/7;o=1",
            (TRACE, "00f067aa0ba902b7", False),
        ),
        ("garbage", f"{'A' * 32}/255;o=1", ("a" * 32, f"{255:016x}", True)),
        (f"00-{'0' * 32}-00f067aa0ba902b7-01", f"{'b' * 32}", ("b" * 32, None, None)),
        (None, f"{'c' * 32}/99999999999999999999999", ("c" * 32, None, None)),
        (None, None, None),
        (None, "not-a-trace", None),
    ],
)
def test_trace_and_span_come_from_traceparent_else_the_cloud_header(
    traceparent: str | None, cloud: str | None, expected: tuple[str, str | None, bool | None] | None
) -> None:
    fields = logs.trace_fields(traceparent, cloud, PROJECT)
    if expected is None:
        assert fields == {}
        return
    trace, span, sampled = expected
    assert fields["logging.googleapis.com/trace"] == f"projects/{PROJECT}/traces/{trace}"
    assert fields.get("logging.googleapis.com/spanId") == span
    assert fields.get("logging.googleapis.com/trace_sampled") == sampled


def test_no_trace_without_a_project() -> None:
    assert logs.trace_fields(f"00-{TRACE}-00f067aa0ba902b7-01", None, None) == {}


def test_lines_keep_only_known_fields_and_a_precise_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = logs.start_request(function="fetchData", request_id="r1")
    try:
        logs.log("INFO", "hello", partner_id="acme", authorization="Bearer hunter2", body={"a": 1})
    finally:
        logs.end_request(token)
    text, (record,) = log_lines(capsys)
    assert "hunter2" not in text
    assert set(record) == {"function", "request_id", "partner_id", "severity", "message", "time"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", record["time"])


def test_an_unhandled_error_is_a_reported_error_event(capsys: pytest.CaptureFixture[str]) -> None:
    token = logs.start_request(function="createEntry")
    try:
        logs.report_error("unhandled KeyError", "Traceback (most recent call last):\n  ...")
    finally:
        logs.end_request(token)
    captured = capsys.readouterr()
    assert captured.out == "", "errors go to stderr"
    _, (record,) = log_lines_from(captured.err)
    assert record["@type"].endswith("clouderrorreporting.v1beta1.ReportedErrorEvent")
    assert record["severity"] == "ERROR"
    assert record["stack_trace"].startswith("Traceback")
    assert record["serviceContext"] == {"service": "createEntry"}


def log_lines_from(text: str) -> tuple[str, list[dict[str, Any]]]:
    import json

    return text, [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_http_request_has_the_path_only() -> None:
    request = logs.http_request(
        method="GET",
        path="/fetchData/abc",
        status=200,
        latency_s=0.0123456,
        user_agent="x" * 300,
        response_size=12,
    )
    assert request == {
        "requestMethod": "GET",
        "requestUrl": "/fetchData/abc",
        "status": 200,
        "latency": "0.012346s",
        "userAgent": "x" * 256,
        "responseSize": "12",
    }


def test_lines_from_many_threads_never_run_together(tmp_path: Path) -> None:
    """As under gunicorn's threads, writing to a file: firebase-functions' own logger glued
    about a third of such lines together."""
    script = (
        "import threading\n"
        "from functions.core import logs\n"
        "def burst():\n"
        "    for i in range(1500):\n"
        "        logs.log('INFO', f'line {i}', status=200)\n"
        "threads = [threading.Thread(target=burst) for _ in range(8)]\n"
        "[t.start() for t in threads]\n"
        "[t.join() for t in threads]\n"
    )
    out = tmp_path / "out.log"
    with out.open("w") as stream:
        subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, stdout=stream, check=True, timeout=120
        )
    lines = out.read_text().splitlines()
    assert len(lines) == 12_000
    assert all(json.loads(line)["status"] == 200 for line in lines)


@pytest.mark.parametrize(
    ("status", "severity"), [(200, "INFO"), (401, "WARNING"), (429, "WARNING"), (503, "ERROR")]
)
def test_the_request_line_is_what_cloud_logging_reads(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], status: int, severity: str
) -> None:
    import flask

    from functions.edge.http.shell import Served, finish

    app = flask.Flask("t")
    headers = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7", "User-Agent": "erp/1.0"}
    with app.test_request_context("/abc?secret=1", method="POST", data=b"x" * 42, headers=headers):
        token = logs.start_request(function="createEntry", partner_id="acme")
        try:
            served = Served(flask.request, "r1", "createEntry")
            finish(flask.Response("{}", status=status), served, 0.0)
        finally:
            logs.end_request(token)
    _, (record,) = log_lines(capsys)
    assert record["severity"] == severity
    assert record["logging.googleapis.com/labels"] == {"partner": "acme", "function": "createEntry"}
    request = record["httpRequest"]
    assert (
        request["remoteIp"] == "198.51.100.7"
    )  # what Google's front end appended, not the client's words
    assert request["requestSize"] == "42"
    assert request["protocol"] == "HTTP/1.1"
    assert request["requestUrl"] == "/createEntry/abc"
    assert request["userAgent"] == "erp/1.0"
    assert "sdk" not in record  # not one of ours


def test_the_request_line_names_the_partner_sdk_and_its_version(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import flask

    from functions.edge.http.shell import Served, finish

    agent = "partner-api-typescript/1.2.3 (node v20.20.2)"
    with flask.Flask("t").test_request_context("/", headers={"User-Agent": agent}):
        token = logs.start_request(function="api", partner_id="acme")
        try:
            finish(flask.Response("{}"), Served(flask.request, "r1", "api"), 0.0)
        finally:
            logs.end_request(token)
    _, (record,) = log_lines(capsys)
    assert (record["sdk"], record["httpRequest"]["userAgent"]) == ("typescript/1.2.3", agent)


def test_an_error_report_names_the_deployed_revision(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("K_REVISION", "createentry-00042-abc")
    token = logs.start_request(function="createEntry")
    try:
        logs.report_error("unhandled KeyError", "Traceback ...")
    finally:
        logs.end_request(token)
    _, (record,) = log_lines_from(capsys.readouterr().err)
    assert record["serviceContext"] == {
        "service": "createEntry",
        "version": "createentry-00042-abc",
    }


@pytest.mark.parametrize(
    ("forwarded", "seen"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("1.2.3.4, 203.0.113.9", "203.0.113.9"),
        ("2001:db8::1", "2001:db8::1"),
        ("<script>", "127.0.0.1"),
        ("", "127.0.0.1"),
    ],
)
def test_the_client_address_is_the_last_one_google_appended(forwarded: str, seen: str) -> None:
    import flask

    from functions.edge.http import parsing

    app = flask.Flask("t")
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        assert parsing.client_address(flask.request) == seen


def test_round_trips_count_calls_and_those_one_after_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two calls that overlap (a user lookup beside a partner read) are one sequential
    round trip; calls outside any request count nowhere."""
    import contextvars
    from concurrent.futures import ThreadPoolExecutor

    from functions.core import logs

    with logs.round_trip("firestore"):
        pass  # no request: not counted
    token = logs.start_request(function="fetchData")
    try:
        timeline = iter([0.0, 0.5, 1.5, 1.0, 3.0, 4.0])
        monkeypatch.setattr("functions.core.logs.time.perf_counter", lambda: next(timeline))
        with logs.round_trip("auth"):  # 0.0 .. 1.0, with the read below inside it
            context = contextvars.copy_context()
            with ThreadPoolExecutor(1) as pool:
                pool.submit(context.run, _trip, "firestore").result()  # 0.5 .. 1.5
        with logs.round_trip("firestore"):  # 3.0 .. 4.0
            pass
        assert logs.round_trips() == {"auth": 1, "firestore": 2, "sequential": 2}
    finally:
        logs.end_request(token)
    assert logs.round_trips() == {"sequential": 0}


def _trip(service: str) -> None:
    from functions.core import logs

    with logs.round_trip(service):
        pass
