"""The log shapes Cloud Logging and Error Reporting read."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from functions import logs
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
        "from functions import logs\n"
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
