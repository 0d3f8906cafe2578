"""The console's pure parts: who may use it by their claims, the CSRF token, the origin
check, relative links wherever the console is mounted, the usage chart, and the pages a
signed-out browser can reach (through functions-framework, no emulator: nothing there
needs one)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask, Request

from functions.auth import owner_sessions
from functions.core.models import DayUsage
from functions.edge.console import app, charts, session
from tests.helpers import PROJECT


@pytest.mark.parametrize(
    ("claims", "refusal"),
    [
        ({"owner": True}, None),
        ({"owner": True, "email": "a@b.c"}, None),
        ({"owner": "true"}, "This account is not an owner of this app."),
        ({"owner": 1}, "This account is not an owner of this app."),
        ({}, "This account is not an owner of this app."),
        ({"role": "partner", "owner": True}, "A partner's account cannot use the owner's console."),
        ({"role": "partner"}, "A partner's account cannot use the owner's console."),
    ],
)
def test_only_an_owner_claim_and_no_partner_role_gets_in(
    claims: dict[str, Any], refusal: str | None
) -> None:
    assert owner_sessions.owner_from_claims(claims) == refusal


def test_the_csrf_token_is_the_sessions_own() -> None:
    one, other = owner_sessions.csrf_token("cookie-one"), owner_sessions.csrf_token("cookie-two")
    assert one == owner_sessions.csrf_token("cookie-one")
    assert one != other
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", one)
    assert "cookie-one" not in one


def request_for(path: str = "/", headers: dict[str, str] | None = None, **extra: Any) -> Request:
    flask_app = Flask(__name__)
    with flask_app.test_request_context(path, headers=headers or {}, **extra) as context:
        return context.request


@pytest.mark.parametrize(
    ("origin", "same"),
    [
        (None, True),
        ("http://console.example", True),
        ("http://CONSOLE.example", True),
        ("https://evil.example", False),
        ("http://console.example.evil", False),
        ("null", False),
    ],
)
def test_a_change_must_come_from_this_host(origin: str | None, same: bool) -> None:
    headers = {"Host": "console.example"} | ({"Origin": origin} if origin else {})
    assert session.same_origin(request_for(headers=headers)) is same


@pytest.mark.parametrize(
    ("path", "root", "route"),
    [
        ("/", "console/", []),
        ("/partners", "./", ["partners"]),
        ("/partners/acme", "../", ["partners", "acme"]),
        ("/partners/acme/keys/k1/roll", "../../../../", ["partners", "acme", "keys", "k1", "roll"]),
        ("/console/partners", "../", ["partners"]),
        ("/console", "./", []),
        ("/console/console/audit", "../../", ["audit"]),
    ],
)
def test_links_are_relative_to_where_the_console_is_mounted(
    path: str, root: str, route: list[str]
) -> None:
    """`.../console` arrives as "/", `.../console/partners` as "/partners"; a URL that
    repeats `console` (relative links from `.../console/`) is the same page."""
    page = app._page(request_for(path))
    assert (page.root, page.route) == (root, route)


def test_the_cookie_is_http_only_secure_strict_and_expires() -> None:
    options = session.cookie_options()
    assert options == {
        "httponly": True, "secure": True, "samesite": "Strict", "path": "/",
        "max_age": 8 * 3600,
    }  # fmt: skip
    assert session.COOKIE == "__session"


def test_the_usage_chart_draws_each_outcome_and_says_the_figures() -> None:
    day = dt.date(2026, 12, 1)
    rows = [
        DayUsage("acme", day, calls=10, ok=6, client_errors=2, limited=1, errors=1),
        DayUsage("acme", day + dt.timedelta(days=1)),
        DayUsage("acme", day + dt.timedelta(days=2), calls=20, ok=20),
    ]
    svg = charts.usage_chart(rows, "acme <&>")
    assert svg.startswith('<svg class="chart"')
    assert 'role="img"' in svg
    assert '<title id="chart-acme-----title">Calls per day of acme &lt;&amp;&gt;</title>' in svg
    assert "40 calls" not in svg
    assert "30 calls from 2026-12-01 to 2026-12-03; the busiest day 2026-12-03 with 20." in svg
    assert svg.count('"><title>') == 5  # a bar per outcome of each day; none for a 0
    heights = [float(h) for h in re.findall(r'height="([0-9.]+)" fill="#1a6b2f"><title>', svg)]
    assert heights == [pytest.approx(144 * 6 / 20), pytest.approx(144)]
    assert "style=" not in svg  # the page's policy allows no inline style
    empty = charts.usage_chart([DayUsage("acme", day)], "acme")
    assert "0 calls from 2026-12-01 to 2026-12-01." in empty


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("GCLOUD_PROJECT", PROJECT)
    for name in ("FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST"):
        monkeypatch.delenv(name, raising=False)
    flask_app = Flask(__name__)
    flask_app.add_url_rule(
        "/", "root", lambda: app.serve(__import__("flask").request), methods=["GET", "POST", "PUT"]
    )
    flask_app.add_url_rule(
        "/<path:rest>",
        "any",
        lambda rest: app.serve(__import__("flask").request),
        methods=["GET", "POST", "PUT"],
    )
    return flask_app.test_client()


def test_a_signed_out_browser_reaches_only_sign_in_and_the_stylesheet(client: Any) -> None:
    for path in ("/", "/partners", "/audit", "/partners/acme"):
        answer = client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["Location"].endswith("sign-in")
        assert answer.headers["Content-Security-Policy"] == app.POLICY
    page = client.get("/sign-in")
    assert page.status_code == 200
    assert 'type="password"' in page.text
    assert "<script" not in page.text
    css = client.get("/style.css")
    assert (css.status_code, css.mimetype) == (200, "text/css")
    assert client.post("/partners", data={"csrf": "x"}).status_code == 401
    assert client.put("/partners").status_code == 405


def test_sign_in_without_a_web_api_key_says_what_to_set(client: Any) -> None:
    answer = client.post("/sign-in", data={"email": "a@b.c", "password": "x"})
    assert answer.status_code == 503
    assert "CONSOLE_API_KEY" in answer.text
    empty = client.post("/sign-in", data={"email": " ", "password": ""})
    assert empty.status_code == 400
    assert "Enter your email and password." in empty.text
    other = client.post(
        "/sign-in", data={"email": "a@b.c", "password": "x"}, headers={"Origin": "https://x.y"}
    )
    assert other.status_code == 403


def test_an_emulator_variable_in_a_real_project_stops_the_console(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GCLOUD_PROJECT", "acme-production")
    monkeypatch.setenv("K_SERVICE", "console")  # deployed
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
    answer = client.get("/sign-in")
    assert answer.status_code == 500
    assert "not configured" in answer.text
    assert "FIREBASE_AUTH_EMULATOR_HOST" not in answer.text


def test_failed_sign_ins_from_one_address_are_braked(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wrong passwords from one address: 20, then one every 2 seconds (429, Retry-After)."""
    from functions.core.limits import FailureGuard

    clock = [0.0]
    monkeypatch.setattr(app, "SIGN_IN_FAILURES", FailureGuard(clock=lambda: clock[0]))

    def wrong(email: str, password: str) -> None:
        raise owner_sessions.SignInFailed("Wrong email or password.")

    monkeypatch.setattr(owner_sessions, "sign_in", wrong)
    statuses = [
        client.post("/sign-in", data={"email": "a@b.c", "password": "x"}).status_code
        for _ in range(21)
    ]
    assert statuses == [401] * 20 + [429]
    held = client.post("/sign-in", data={"email": "a@b.c", "password": "x"})
    assert held.headers["Retry-After"] == "2"
    assert "Too many failed sign-ins" in held.text
    clock[0] += 2.0
    assert client.post("/sign-in", data={"email": "a@b.c", "password": "x"}).status_code == 401


def test_failed_sign_ins_brake_one_account_never_another_from_the_same_address(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty wrong passwords for one account (any case of its email) from an address:
    that account waits, while the owner's right password from the same address gets in."""
    from functions.core.limits import FailureGuard

    monkeypatch.setattr(app, "SIGN_IN_FAILURES", FailureGuard(clock=lambda: 0.0))
    owner = owner_sessions.Owner("u1", "owner@example.test", "csrf")

    def sign_in(email: str, password: str) -> tuple[str, owner_sessions.Owner]:
        if password != "right":
            raise owner_sessions.SignInFailed("Wrong email or password.")
        return "cookie", owner

    monkeypatch.setattr(owner_sessions, "sign_in", sign_in)
    wrong = [
        client.post("/sign-in", data={"email": email, "password": "x"}).status_code
        for email in ["Victim@example.test", "victim@example.test "] * 10
    ]
    assert wrong == [401] * 20
    held = client.post("/sign-in", data={"email": "victim@example.test", "password": "right"})
    assert held.status_code == 429  # that account, from that address, waits
    right = client.post("/sign-in", data={"email": "owner@example.test", "password": "right"})
    assert right.status_code == 303
    assert right.headers["Location"] == "./partners"


def test_the_console_is_served_in_the_one_shell(
    client: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The shell every function shares: the request id (the caller's when well formed),
    the method check with Allow, the catch-all that reveals nothing, one log line each;
    the console's own face shows each as a page under its own policy."""
    from tests.helpers import log_lines

    capsys.readouterr()
    refused = client.put("/partners", headers={"X-Request-Id": "req-console-1"})
    assert (refused.status_code, refused.headers["Allow"]) == (405, "GET, POST")
    assert refused.headers["X-Request-Id"] == "req-console-1"
    assert refused.headers["Content-Security-Policy"] == app.POLICY
    assert "Use GET or POST." in refused.text
    assert "<script" not in refused.text

    def broken(page: Any) -> Any:
        raise RuntimeError("hunter2 in the console")

    monkeypatch.setattr(app, "_answer", broken)
    crashed = client.get("/partners")
    assert crashed.status_code == 500
    assert "The console could not do this. The log has the details." in crashed.text
    assert "hunter2" not in crashed.text
    _, records = log_lines(capsys)
    lines = [r for r in records if r.get("message", "").startswith(("PUT ", "GET "))]
    assert [r["message"] for r in lines] == [
        "PUT console/partners -> 405",
        "GET console/partners -> 500",
    ]
    assert lines[0]["request_id"] == "req-console-1"
    assert lines[1]["request_id"] == crashed.headers["X-Request-Id"]
    (report,) = [r for r in records if "stack_trace" in r]
    assert "hunter2 in the console" in report["stack_trace"]
    assert report["serviceContext"]["service"] == "console"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("partners/acme/keys", ("acme", [])),
        ("partners/acme/keys/k1/roll", ("acme", ["k1", "roll"])),
        ("partners/acme/users/revoke", ("acme", ["revoke"])),
        ("partners/Acme Co/keys", None),  # not a partner id
        ("partners/acme/keys/k1", None),
        ("partners/acme/limits/extra", None),
        ("audit", None),
    ],
)
def test_the_consoles_routing_table_matches_whole_paths(
    path: str, expected: tuple[str, list[str]] | None
) -> None:
    shapes = {shape for _, shape, _ in app.PAGES if shape.startswith("partners/{partner}/")}
    found = [app._matched(shape, path.split("/")) for shape in sorted(shapes)]
    matched = [f for f in found if f is not None]
    assert matched == ([] if expected is None else [expected])


def test_every_page_of_the_table_is_routed_by_method() -> None:
    """A GET never reaches a change and a POST never a page: the table says both."""
    methods: dict[str, set[str]] = {}
    for method, shape, _ in app.PAGES:
        methods.setdefault(shape, set()).add(method)
    assert methods["partners/{partner}"] == {"GET"}
    assert methods["partners"] == {"GET", "POST"}
    assert methods["sign-out"] == {"POST"}
    assert all(m == {"POST"} for s, m in methods.items() if s.count("/") >= 2)


def test_the_session_cookie_is_what_the_owner_is_judged_by(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str | None] = []

    def judged(cookie: str | None) -> owner_sessions.Owner:
        seen.append(cookie)
        return owner_sessions.Owner("u1", "owner@example.test", "csrf")

    monkeypatch.setattr(session, "owner_of_cookie", judged)
    with Flask("t").test_request_context("/", headers={"Cookie": "__session=abc; other=x"}):
        from flask import request

        assert session.current_owner(request).uid == "u1"
    with Flask("t").test_request_context("/", headers={"Cookie": "other=x"}):
        from flask import request

        session.current_owner(request)
    assert seen == ["abc", None]
