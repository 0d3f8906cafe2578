"""The error envelope: its shape, its size bound, and the framework's own errors in it."""

from __future__ import annotations

import json

import pytest

from functions.core.errors import BadRequest, FieldIssue, PreconditionFailed, ServiceUnavailable
from functions.core.models import Revision
from functions.edge.http.responses import error_response
from tests.helpers import PROJECT, assert_error, function_app


def test_the_envelope_names_status_code_message_and_request_id() -> None:
    error = BadRequest("Nope.", details=[{"field": "a", "message": "is bad"}])
    assert error.envelope("req-1") == {
        "error": {
            "status": 400,
            "code": "invalid_argument",
            "message": "Nope.",
            "request_id": "req-1",
            "details": [{"field": "a", "message": "is bad"}],
        }
    }


def test_an_error_lists_at_most_20_details_and_says_how_many_there_were() -> None:
    issues: list[FieldIssue] = [{"field": f"p{i}", "message": "is unknown"} for i in range(2000)]
    body = BadRequest("Some query parameters are invalid.", details=issues).envelope("r")
    assert len(body["error"]["details"]) == 20
    assert body["error"]["details"][0] == {"field": "p0", "message": "is unknown"}
    assert "2000 problems; the first 20 are listed" in body["error"]["message"]
    assert len(json.dumps(body)) < 2000


def test_a_stale_version_carries_the_current_etag_and_retries_say_when() -> None:
    assert (
        error_response(PreconditionFailed(current=Revision(version=4)), "r").headers["ETag"]
        == '"4"'
    )
    assert "ETag" not in error_response(PreconditionFailed(), "r").headers
    assert error_response(ServiceUnavailable(), "r").headers["Retry-After"] == "5"


@pytest.mark.parametrize("path", ["/a%0Ab", "/x%0A", "/%0D%0A"])
def test_the_frameworks_own_errors_answer_in_the_envelope(
    monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    monkeypatch.setenv("GCLOUD_PROJECT", PROJECT)
    response = function_app("fetchData").test_client().get(path)
    assert_error(response, 404, "http_error")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<html" not in response.get_data(as_text=True).lower()
