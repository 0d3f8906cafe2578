"""The owner's console in a real browser: Playwright driving Debian's Chromium through the
Functions emulator. An owner signs in, adds a partner, creates a key and calls the API
with it, suspends the partner and sees the next call refused, resumes it, and finds the
calls in usage and the actions in the audit trail. A signed-out browser and a partner's
account are refused; a form another site posts changes nothing. axe-core (vendored,
pinned) finds no serious or critical violation on any page; screenshots of every page
are kept in reports/console-*.png."""

from __future__ import annotations

import http.server
import json
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect

from devtools import vendor
from functions import store
from tests.emulator.test_console import new_owner
from tests.helpers import CONSOLE, ROOT, T, cli, function_url, resend_dropped_route

pytestmark = pytest.mark.empty_database  # the console lists every partner and user of the app

REPORTS = ROOT / "reports"
AXE = vendor.AXE_CORE.target / "axe.min.js"
SERIOUS = ("serious", "critical")


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """Debian's Chromium: Playwright's own browser download is not needed (or reachable)."""
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("chromium is not installed: `make test` installs it (apt-get install chromium)")
    return {"executable_path": binary, "args": ["--no-sandbox", "--disable-gpu"]}


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A browser context whose actions and assertions wait up to 60 s: on a busy machine a
    page's first call can start a function worker (Playwright's 5 s failed once); a
    request the emulator dropped on a kept-alive connection is sent once more."""
    made = browser.new_context(viewport={"width": 1200, "height": 900})
    made.set_default_timeout(60_000)
    made.route(function_url(CONSOLE) + "**", resend_dropped_route)
    expect.set_options(timeout=60_000)
    yield made
    made.close()
    expect.set_options(timeout=5_000)


def axe_violations(browser: Browser, url: str, cookies: list[Any]) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page at `url`. The page's policy
    allows no script, so this one context lets the checker in (and only it)."""
    checker = browser.new_context(bypass_csp=True)
    try:
        checker.add_cookies(cookies)
        page = checker.new_page()
        page.goto(url)
        page.add_script_tag(content=AXE.read_text())
        result = page.evaluate("async () => await axe.run(document)")
    finally:
        checker.close()
    return [v for v in result["violations"] if v["impact"] in SERIOUS]


def checked(page: Page, browser: Browser, context: BrowserContext, name: str) -> None:
    """Screenshot the page, and hold it to axe."""
    REPORTS.mkdir(exist_ok=True)
    page.screenshot(path=str(REPORTS / f"console-{name}.png"), full_page=True)
    found = axe_violations(browser, page.url, context.cookies())
    assert found == [], f"{name}: " + json.dumps(
        [(v["id"], v["impact"], [n["target"] for n in v["nodes"]]) for v in found]
    )


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto(function_url(CONSOLE))
    expect(page).to_have_title("Sign in · Partner console")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def api_call(key: str) -> requests.Response:
    return requests.get(
        function_url("fetchData"), headers={"Authorization": f"Bearer {key}"}, timeout=60
    )


def test_an_owner_runs_a_partner_from_the_browser(
    clean: None, browser: Browser, context: BrowserContext
) -> None:
    email, password = new_owner()
    partner_id = f"acme-{uuid.uuid4().hex[:6]}"  # usage counted by earlier tests never lands here
    page = context.new_page()
    sign_in(page, email, password)
    expect(page.get_by_role("heading", name="Partners")).to_be_visible()
    checked(page, browser, context, "partners-empty")

    page.get_by_label("Partner id").fill(partner_id)
    page.get_by_label("Display name").fill("Acme Restaurants")
    page.get_by_role("button", name="Add partner").click()
    expect(page.get_by_role("heading", name=f"Partner {partner_id}")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Partner added.")

    page.get_by_label("Label").fill("erp sync")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("heading", name="API key created")).to_be_visible()
    key = page.get_by_label("API key").input_value()
    assert key.startswith("pak_")
    checked(page, browser, context, "key-created")
    first = api_call(key)
    assert first.status_code == 200, first.text

    suspend_and_resume(page, partner_id, key)  # three more calls: 200, 403, 200
    usage_shows(page, partner_id, "Totals: 4 calls, 3 answered, 1 refused (4xx)")
    expect(page.get_by_role("img", name=f"Calls per day of {partner_id}")).to_be_visible()
    checked(page, browser, context, "partner")

    page.get_by_role("link", name="Partners").click()
    row = page.get_by_role("row").filter(has_text=partner_id)
    expect(row).to_contain_text("active")
    expect(row.get_by_role("cell").nth(2)).to_have_text("4")  # calls today
    checked(page, browser, context, "partners")

    page.get_by_role("link", name="Audit trail").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(4)
    operations = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(4)]
    assert operations == [
        "owner.partner.resume",
        "owner.partner.suspend",
        "owner.key.create",
        "owner.partner.add",
    ]
    expect(rows.first).to_contain_text(f"console:{email}")
    checked(page, browser, context, "audit")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_title("Sign in · Partner console")
    page.goto(function_url(CONSOLE) + "/partners")
    expect(page).to_have_title("Sign in · Partner console")  # the cookie no longer works


def suspend_and_resume(page: Page, partner_id: str, key: str) -> None:
    """Suspend (refused until the box is ticked), see the key's next call refused, resume."""
    page.goto(function_url(CONSOLE) + f"/partners/{partner_id}")
    page.get_by_role("button", name="Suspend").click()  # without the box ticked
    expect(page.get_by_role("alert")).to_contain_text("Tick the box to confirm")
    assert api_call(key).status_code == 200
    page.go_back()
    page.get_by_label(f"Suspend {partner_id}").check()
    page.get_by_role("button", name="Suspend").click()
    expect(page.get_by_role("status")).to_contain_text("Suspended")
    refused = api_call(key)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "partner_suspended"
    page.get_by_label(f"Resume {partner_id}").check()
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_role("status")).to_contain_text("Resumed")
    assert api_call(key).status_code == 200


def usage_shows(page: Page, partner_id: str, text: str) -> None:
    """The partner page's usage, once the functions' instance has written it (seconds
    locally: USAGE_FLUSH_SECONDS is 5 there)."""
    totals = page.locator("#usage ~ p").first
    for _ in range(120):
        page.goto(function_url(CONSOLE) + f"/partners/{partner_id}")
        if text in totals.inner_text():
            break
        page.wait_for_timeout(500)
    expect(totals).to_contain_text(text)


def test_a_signed_out_browser_and_a_partners_account_are_refused(
    clean: None, browser: Browser, context: BrowserContext
) -> None:
    page = context.new_page()
    page.goto(function_url(CONSOLE) + "/partners")
    expect(page).to_have_title("Sign in · Partner console")
    checked(page, browser, context, "sign-in")
    made = cli("--json", "create", "clerk@example.test", "--partner", T.acme, "--create-partner")
    password = json.loads(made.stdout)["password"]
    sign_in(page, "clerk@example.test", password)
    expect(page.get_by_role("alert")).to_have_text(
        "A partner's account cannot use the owner's console."
    )
    assert [c["name"] for c in context.cookies()] == []
    sign_in(page, "clerk@example.test", "wrong password")
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    checked(page, browser, context, "sign-in-refused")


@pytest.fixture
def other_site() -> Iterator[Callable[[str], str]]:
    """A page of another origin that posts a form to the console as soon as it loads (what
    a forged request looks like): returns its URL for a target."""
    pages: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path, "").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def page_for(target: str) -> str:
        pages["/forged"] = (
            f'<form id="f" method="post" action="{target}">'
            '<input name="confirm" value="yes"></form>'
            '<script>document.getElementById("f").submit()</script>'
        )
        return f"http://127.0.0.1:{server.server_port}/forged"

    yield page_for
    server.shutdown()
    server.server_close()


def test_a_form_another_site_posts_changes_nothing(
    clean: None, browser: Browser, context: BrowserContext, other_site: Callable[[str], str]
) -> None:
    email, password = new_owner()
    cli("partner", "add", T.acme)
    page = context.new_page()
    sign_in(page, email, password)
    expect(page.get_by_role("heading", name="Partners")).to_be_visible()
    forged = context.new_page()
    with forged.expect_navigation(url=f"**/{CONSOLE}/partners/{T.acme}/suspend"):
        forged.goto(other_site(function_url(CONSOLE) + f"/partners/{T.acme}/suspend"))
    expect(forged.get_by_role("alert")).to_contain_text("another site")
    snapshot = store.client().collection("partners").document(T.acme).get()
    assert snapshot.get("status") == "active"
    checked(forged, browser, context, "refused")


def test_the_vendored_checker_is_the_pinned_axe_core() -> None:
    assert AXE.exists(), "run `make vendor`"
    assert f"axe v{vendor.AXE_CORE.version}" in AXE.read_text()[:200]
    assert Path(vendor.AXE_CORE.target, "LICENSE").exists()
