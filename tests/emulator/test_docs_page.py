"""The API reference page in a real browser: headless Chromium (Debian's package) opens it
through the Functions emulator, waits for swagger-ui to render, and the page must show
every operation with every status the document gives it. A screenshot is kept in
reports/docs.png."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from functions.contract import catalog, openapi
from tests.helpers import ROOT, function_url

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


def screenshot(url: str, path: Path) -> None:
    """The page as rendered, through Playwright: it waits for swagger-ui's operations
    rather than a virtual time budget (Chromium's own `--screenshot` could hang for minutes
    on a busy machine)."""
    from playwright.sync_api import sync_playwright

    binary = shutil.which("chromium")
    assert binary is not None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=binary, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 2200})
            page.goto(url, timeout=180_000)
            page.wait_for_selector(".opblock", timeout=180_000)
            page.screenshot(path=str(path))
        finally:
            browser.close()
