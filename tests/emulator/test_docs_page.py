"""The API reference page in a real browser: headless Chromium (Debian's package) opens it
through the Functions emulator, waits for swagger-ui to render, and the page must show
every operation with every status the document gives it. A screenshot is kept in
reports/docs.png."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.contract import catalog, openapi
from tests.corpus import VALID
from tests.helpers import ROOT, api_key, function_url, resend_dropped_route

SCREENSHOT = ROOT / "reports" / "docs.png"
# As the workplace's Chromium runs offline: no background connections of its own.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--virtual-time-budget=20000",
)


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("chromium is not installed: `make test` installs it (apt-get install chromium)")
    return subprocess.run(
        [binary, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def operation_blocks(dom: str) -> dict[str, set[str]]:
    """The rendered operations (by operationId) and the response codes each one shows."""
    blocks: dict[str, set[str]] = {}
    parts = re.split(r'id="operations-(?!tag-)[^"]*?-([A-Za-z]+)"', dom)
    for operation_id, html in zip(parts[1::2], parts[2::2], strict=True):
        blocks[operation_id] = set(re.findall(r'data-code="(\d{3})"', html))
    return blocks


def test_the_reference_renders_every_operation_and_error_status(
    emulator_hosts: dict[str, str], tmp_path: Path
) -> None:
    url = function_url("docs")
    rendered = chromium(tmp_path / "profile", "--dump-dom", url)
    assert rendered.returncode == 0, rendered.stderr[-2000:]
    dom = rendered.stdout
    assert "swagger-ui" in dom
    shown = operation_blocks(dom)
    catalog.discover()  # the owner's endpoints main.py declares are on the page too
    document = openapi.build()
    expected = {
        operation["operationId"]: set(operation["responses"])
        for item in document["paths"].values()
        for operation in item.values()
    }
    assert set(shown) == set(expected), f"operations on the page: {sorted(shown)}"
    assert "entriesSummary" in shown  # the shipped example, under "your endpoints"
    assert "your endpoints" in dom
    for operation_id, codes in expected.items():
        assert shown[operation_id] == codes, operation_id
    for path in document["paths"]:
        assert path in dom

    SCREENSHOT.parent.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    screenshot(url, SCREENSHOT)
    assert SCREENSHOT.stat().st_size > 20_000, "a rendered page, not a blank one"


@contextlib.contextmanager
def playwright_chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright, closed after."""
    from playwright.sync_api import sync_playwright

    binary = shutil.which("chromium")
    assert binary is not None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=binary, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield browser
        finally:
            browser.close()


def screenshot(url: str, path: Path) -> None:
    """The page as rendered, through Playwright: it waits for swagger-ui's operations
    rather than a virtual time budget (Chromium's own `--screenshot` could hang for minutes
    on a busy machine)."""
    with playwright_chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 2200})
        page.goto(url, timeout=180_000)
        page.wait_for_selector(".opblock", timeout=180_000)
        page.screenshot(path=str(path))


def _authorize(page: Any, key: str) -> None:
    """Paste `key` as the partner API key in swagger-ui's Authorize dialog."""
    page.locator(".auth-wrapper button.authorize").click()
    scheme = page.locator(".auth-container", has_text="partnerApiKey")
    scheme.locator("input").fill(key)
    scheme.locator("button.authorize").click()
    scheme.locator("button.btn-done").click()


def _try_listing(page: Any) -> tuple[str, str, str]:
    """Try the list of entries: (status, body, request URL) as the page shows them."""
    block = page.locator('[id$="-apiListEntries"]')
    block.locator("button.try-out__btn").click()
    block.locator("button.execute").click()
    live = block.locator(".live-responses-table")
    answered = live.locator("tbody .response-col_status").first
    answered.wait_for(timeout=120_000)
    status = answered.inner_text().strip()
    body = live.locator(".microlight").first.inner_text()
    url = block.locator(".request-url pre").first.inner_text().strip()
    return status, body, url


def test_try_it_out_lists_entries_with_a_pasted_key_and_shows_the_401_envelope(
    emulator_hosts: dict[str, str],
) -> None:
    """In Chromium: a partner pastes its key under Authorize, tries the list of entries and
    sees its own records, called on the functions beside the page; a wrong key shows the
    401 envelope. The key stays in the page: nothing in storage or cookies."""
    from functions import store

    partner_id = f"docs-{uuid.uuid4().hex[:8]}"
    key = api_key(partner_id, "entries:read")
    moment = dt.datetime.now(dt.UTC)
    store.client().document(f"entries/{partner_id}-1").set(
        {**VALID["minimal"], "partnerId": partner_id, "createdBy": "seed", "version": 1,
         "createdAt": moment, "updatedAt": moment}
    )  # fmt: skip
    with playwright_chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 1600})
        context.set_default_timeout(120_000)
        context.route(function_url("api") + "/**", resend_dropped_route)
        page = context.new_page()
        refused: list[str] = []
        page.on(
            "console",
            lambda m: refused.append(m.text) if "Content Security" in m.text else None,
        )
        page.goto(function_url("docs"))
        page.wait_for_selector(".opblock")
        _authorize(page, key)
        status, body, url = _try_listing(page)
        assert status == "200", body
        listed = json.loads(body)
        assert [r["id"] for r in listed["data"]] == [f"{partner_id}-1"]
        assert url == function_url("api") + "/v1/entries?limit=20"  # beside the page
        stored = page.evaluate("JSON.stringify([localStorage, sessionStorage])")
        assert key not in stored
        assert context.cookies() == []
        assert refused == []

        wrong = context.new_page()
        wrong.goto(function_url("docs"))
        wrong.wait_for_selector(".opblock")
        _authorize(wrong, "pak_test_0000000000000000_wrongwrongwrongwrongwrongwrongwr")
        status, body, _ = _try_listing(wrong)
        assert status == "401"
        error = json.loads(body)["error"]
        assert (error["status"], set(error)) == (
            401, {"code", "message", "status", "request_id"},
        )  # fmt: skip
