"""The API reference page: the vendored renderer is exactly the pinned release, and the page,
its assets and its document are served under a strict policy."""

from __future__ import annotations

import hashlib
import json

import pytest
from flask.testing import FlaskClient

from devtools import vendor
from functions.edge.http import docs
from tests.helpers import PROJECT, assert_error, function_app


@pytest.mark.parametrize("release", vendor.RELEASES, ids=lambda r: r.package)
def test_each_vendored_release_is_the_pinned_one_byte_for_byte(release: vendor.Release) -> None:
    """swagger-ui (the docs page, deployed) and axe-core (the console's accessibility test)."""
    record = json.loads((release.target / "VENDOR.json").read_text())
    assert (record["package"], record["version"]) == (release.package, release.version)
    assert record["integrity"].startswith("sha512-")
    assert set(record["files"]) == set(release.files)
    for name, digest in record["files"].items():
        assert hashlib.sha256((release.target / name).read_bytes()).hexdigest() == digest, name
    on_disk = {p.name for p in release.target.iterdir()}
    assert on_disk == {*release.files, "VENDOR.json"}
    assert vendor.SWAGGER_UI.target == docs.VENDOR


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    monkeypatch.setenv("GCLOUD_PROJECT", PROJECT)
    return function_app("docs").test_client()


@pytest.mark.parametrize("path", ["/", "/docs", "/docs/"])
def test_the_page_loads_only_its_own_scripts_and_styles(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    connect = next(d for d in policy.split("; ") if d.startswith("connect-src"))
    assert connect == f"connect-src 'self' https://us-central1-{PROJECT}.cloudfunctions.net"
    page = response.get_data(as_text=True)
    assert "<script>" not in page, "no inline script"
    assert "http" not in page, "nothing loaded from elsewhere"


@pytest.mark.parametrize(
    ("path", "media"),
    [
        ("/docs/swagger-ui-bundle.js", "text/javascript"),
        ("/swagger-ui-bundle.js", "text/javascript"),
        ("/docs/swagger-ui.css", "text/css"),
        ("/docs/init.js", "text/javascript"),
    ],
)
def test_assets_are_served_from_the_function(client: FlaskClient, path: str, media: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == media
    assert response.headers["Cache-Control"] == "public, max-age=3600"


def test_the_page_reads_the_document_from_the_function_and_tries_calls_beside_it(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = client.get("/docs/openapi.json").get_json()
    assert document["info"]["title"] == "Partner API"
    script = client.get("/docs/init.js").get_data(as_text=True)
    assert 'fetch("docs/openapi.json")' in script
    assert 'supportedSubmitMethods: ["get", "post", "patch", "delete"]' in script
    assert "persistAuthorization: false" in script  # a pasted key lives in the page only
    assert "localStorage" not in script
    assert "validatorUrl: null" in script
    monkeypatch.setenv("FUNCTIONS_REGION", "europe-west1")
    policy = client.get("/docs").headers["Content-Security-Policy"]
    assert f"connect-src 'self' https://europe-west1-{PROJECT}.cloudfunctions.net;" in policy


def test_anything_else_is_a_json_404(client: FlaskClient) -> None:
    assert_error(client.get("/docs/../../main.py"), 404)
    assert_error(client.get("/docs/VENDOR.json"), 404)
