"""The owner's console through the Functions and Auth emulators, as a browser's requests:
who gets in (owners only: not a partner's user, a plain user, a wrong password or no
session), what a change needs (this host's origin and the session's CSRF token: without
them nothing changes), sessions that end (sign-out, `owners remove`), the headers every
page carries, and usage metering (calls by outcome, what it costs in writes, the CLI).
The browser itself is in `test_console_browser.py`."""

from __future__ import annotations

import html
import json
import math
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from functions import store
from tests.helpers import CONSOLE, PROJECT, T, cli, entry_body, function_url

pytestmark = pytest.mark.empty_database  # the console lists every partner and user of the app

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PROBLEM = re.compile(r'class="problem" role="alert">([^<]*)<')


def problem(page: str) -> str:
    """What the page says went wrong, as the person reads it."""
    found = PROBLEM.search(page)
    assert found is not None, page
    return html.unescape(found.group(1))


def new_owner() -> tuple[str, str]:
    """An owner made with the CLI: (email, password)."""
    email = f"owner-{uuid.uuid4().hex[:8]}@example.test"
    made = cli("--json", "owners", "add", email, "--create")
    assert made.returncode == 0, made.stderr
    shown = json.loads(made.stdout)
    assert shown["owner"] is True
    return email, shown["password"]


def signed_in(email: str, password: str) -> requests.Session:
    browser = requests.Session()
    answer = browser.post(
        function_url(CONSOLE) + "/sign-in",
        data={"email": email, "password": password},
        allow_redirects=False,
        timeout=60,
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["Location"] == "./partners"
    cookie = answer.headers["Set-Cookie"]
    for attribute in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"):
        assert attribute in cookie, cookie
    browser.cookies.set("__session", answer.cookies["__session"])
    return browser


def csrf_of(browser: requests.Session, path: str = "/partners") -> str:
    page = browser.get(function_url(CONSOLE) + path, timeout=60)
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found is not None
    return found.group(1)


def post(browser: requests.Session, path: str, **form: Any) -> requests.Response:
    return browser.post(function_url(CONSOLE) + path, data=form, allow_redirects=False, timeout=60)


def partner_status(partner_id: str) -> str | None:
    snapshot = store.client().collection("partners").document(partner_id).get()
    return (snapshot.to_dict() or {}).get("status") if snapshot.exists else None


# --- who gets in ----------------------------------------------------------------------------


def test_a_signed_out_browser_is_sent_to_sign_in_and_its_changes_refused(clean: None) -> None:
    for path in ("", "/partners", "/audit", f"/partners/{T.acme}"):
        page = requests.get(function_url(CONSOLE) + path, allow_redirects=False, timeout=60)
        assert page.status_code == 303, (path, page.text)
        assert page.headers["Location"].endswith("sign-in")
    cli("partner", "add", T.acme)
    refused = requests.post(
        function_url(CONSOLE) + f"/partners/{T.acme}/suspend",
        data={"confirm": "yes", "csrf": "x"},
        allow_redirects=False,
        timeout=60,
    )
    assert refused.status_code == 401
    assert "Sign in" in refused.text
    assert partner_status(T.acme) == "active"


@pytest.mark.parametrize(
    ("claims", "status", "said"),
    [
        ({"role": "partner", "partnerId": "acme", "owner": True}, 403, "A partner's account"),
        ({}, 403, "not an owner"),
    ],
)
def test_only_owners_get_in(
    make_user: Callable[..., Any], claims: dict[str, Any], status: int, said: str
) -> None:
    user = make_user(claims)
    answer = requests.post(
        function_url(CONSOLE) + "/sign-in",
        data={"email": user.email, "password": "test-password-1"},
        allow_redirects=False,
        timeout=60,
    )
    assert answer.status_code == status, answer.text
    assert said in problem(answer.text)
    assert "Set-Cookie" not in answer.headers


def test_a_wrong_password_or_a_partners_credential_gets_nothing(clean: None) -> None:
    email, _ = new_owner()
    wrong = requests.post(
        function_url(CONSOLE) + "/sign-in",
        data={"email": email, "password": "not-it"},
        timeout=60,
    )
    assert wrong.status_code == 401
    assert problem(wrong.text) == "Wrong email or password."
    key = json.loads(
        cli("--json", "keys", "create", "--partner", T.acme, "--create-partner").stdout
    )["key"]
    for headers, cookies in (
        ({"Authorization": f"Bearer {key}"}, {}),
        ({}, {"__session": key}),
    ):
        page = requests.get(
            function_url(CONSOLE) + "/partners",
            headers=headers,
            cookies=cookies,
            allow_redirects=False,
            timeout=60,
        )
        assert page.status_code == 303, page.text
        assert page.headers["Location"].endswith("sign-in")


# --- what a change needs ----------------------------------------------------------------------


def test_a_forged_change_changes_nothing(clean: None) -> None:
    browser = signed_in(*new_owner())
    token = csrf_of(browser)
    assert post(browser, "/partners", partner_id=T.acme, csrf=token).status_code == 303
    other = signed_in(*new_owner())
    forged = [
        ({"confirm": "yes"}, {}, "This form has expired"),
        ({"confirm": "yes", "csrf": "A" * 43}, {}, "This form has expired"),
        ({"confirm": "yes", "csrf": csrf_of(other)}, {}, "This form has expired"),
        ({"confirm": "yes", "csrf": token}, {"Origin": "https://evil.example"}, "another site"),
    ]
    for form, headers, said in forged:
        answer = browser.post(
            function_url(CONSOLE) + f"/partners/{T.acme}/suspend",
            data=form,
            headers=headers,
            allow_redirects=False,
            timeout=60,
        )
        assert answer.status_code == 403, (form, headers)
        assert said in answer.text
    unconfirmed = post(browser, f"/partners/{T.acme}/suspend", csrf=token)
    assert unconfirmed.status_code == 400
    assert "Tick the box" in unconfirmed.text
    assert partner_status(T.acme) == "active"
    done = post(browser, f"/partners/{T.acme}/suspend", csrf=token, confirm="yes")
    assert (done.status_code, done.headers["Location"]) == (
        303,
        f"../../partners/{T.acme}?done=suspended",
    )
    assert partner_status(T.acme) == "suspended"


def test_every_page_carries_a_strict_policy_and_no_script(clean: None) -> None:
    browser = signed_in(*new_owner())
    post(browser, "/partners", partner_id=T.acme, csrf=csrf_of(browser))
    for path in ("/sign-in", "/partners", f"/partners/{T.acme}", "/audit", "/partners/nobody"):
        page = browser.get(function_url(CONSOLE) + path, timeout=60)
        assert page.status_code == (404 if path.endswith("nobody") else 200), path
        policy = page.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "script-src" not in policy  # none at all: default-src 'none' covers it
        assert "<script" not in page.text
        assert " style=" not in page.text
        assert page.headers["Cache-Control"] == "no-store"
        assert page.headers["X-Frame-Options"] == "DENY"


def test_sign_out_and_owners_remove_end_the_session_at_once(clean: None) -> None:
    email, password = new_owner()
    first, second = signed_in(email, password), signed_in(email, password)
    time.sleep(1.1)  # revocation is kept in whole seconds
    assert post(first, "/sign-out", csrf=csrf_of(first)).status_code == 303
    for browser in (first, second):  # sign-out revokes every session of the owner
        page = browser.get(function_url(CONSOLE) + "/partners", allow_redirects=False, timeout=60)
        assert page.status_code == 303
    third = signed_in(email, password)
    removed = cli("--json", "owners", "remove", email)
    assert removed.returncode == 0, removed.stderr
    assert json.loads(removed.stdout)["owner"] is False
    page = third.get(function_url(CONSOLE) + "/partners", allow_redirects=False, timeout=60)
    assert page.status_code == 303
    again = requests.post(
        function_url(CONSOLE) + "/sign-in",
        data={"email": email, "password": password},
        timeout=60,
    )
    assert again.status_code == 403
    listed = json.loads(cli("--json", "owners", "list").stdout)
    assert email not in [o["email"] for o in listed]


def _sign_in_at_start_of_a_second(email: str, password: str) -> requests.Session:
    """A session made early in a whole second, so that what follows at once happens in
    that same second (the case Firebase's whole-second revocation times miss)."""
    now = time.time()
    time.sleep(math.floor(now) + 1 - now + 0.02)
    return signed_in(email, password)


def test_a_sign_out_in_the_second_of_the_sign_in_still_ends_the_session(clean: None) -> None:
    """The session cookie's issue time and the sign-out in one whole second (tried up to
    three times on a slow machine); the cookie is refused afterwards every time."""
    import base64

    from functions.auth.owner_sessions import csrf_token

    email, password = new_owner()
    same_second = 0
    for _ in range(3):
        browser = _sign_in_at_start_of_a_second(email, password)
        cookie = next(c.value for c in browser.cookies if c.name == "__session") or ""
        payload = cookie.split(".")[1]
        issued = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["iat"]
        started = time.monotonic()
        sent = time.time()
        assert post(browser, "/sign-out", csrf=csrf_token(cookie)).status_code == 303
        assert time.monotonic() - started < 5  # it waits for the next second, no more
        same_second += math.floor(sent) == issued
        page = browser.get(function_url(CONSOLE) + "/partners", allow_redirects=False, timeout=60)
        assert (page.status_code, page.headers["Location"]) == (303, "./sign-in")
        if same_second:
            break
    assert same_second, "no sign-out fell in the second of its sign-in: the machine is too slow"


def test_a_partner_users_revoke_in_the_second_of_the_sign_in_ends_their_tokens(
    clean: None, partner: Callable[[str], Any], api: Any
) -> None:
    user = partner("acme")
    before = api.get("fetchData", headers=user.headers())
    assert before.status_code == 200
    browser = signed_in(*new_owner())
    from devtools import emulators
    from tests.helpers import PASSWORD

    now = time.time()
    time.sleep(math.floor(now) + 1 - now + 0.02)
    fresh = emulators.sign_in(user.email, PASSWORD)  # a token of this very second
    revoked = post(browser, f"/partners/{T.acme}/users/revoke", csrf=csrf_of(browser), who=user.uid)
    assert revoked.status_code == 303, revoked.text
    for token in (user.token, fresh):
        answer = api.get("fetchData", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, answer.get_data(as_text=True)


def test_an_owner_claim_taken_away_by_hand_ends_the_session_on_its_next_request(
    clean: None,
) -> None:
    """Not through `owners remove` (which also revokes): the claim alone, as firebase-admin
    or another tool would take it; the session's own copy of the claims says owner still."""
    from firebase_admin import auth

    from functions.outside.firebase_app import admin_app

    email, password = new_owner()
    browser = signed_in(email, password)
    assert browser.get(function_url(CONSOLE) + "/partners", timeout=60).status_code == 200
    user = auth.get_user_by_email(email, app=admin_app())
    auth.set_custom_user_claims(user.uid, None, app=admin_app())
    page = browser.get(function_url(CONSOLE) + "/partners", allow_redirects=False, timeout=60)
    assert page.status_code == 403
    assert problem(page.text) == "This account is not an owner of this app."
    refused = post(browser, "/partners", partner_id=T.acme, csrf="any")
    assert refused.status_code == 403
    assert partner_status(T.acme) is None  # nothing changed


@pytest.mark.parametrize("before", ["a/b", "..", ".", "__x__", "x" * 1600, "a/b/c/d"])
def test_an_audit_page_token_that_cannot_be_an_id_is_a_400_not_a_500(
    clean: None, before: str
) -> None:
    browser = signed_in(*new_owner())
    post(browser, "/partners", partner_id=T.acme, csrf=csrf_of(browser))
    page = browser.get(
        function_url(CONSOLE) + "/audit", params={"partner": T.acme, "before": before}, timeout=60
    )
    assert page.status_code == 400, page.text[:300]
    assert problem(page.text) == "That is not a page of the audit trail."
    fine = browser.get(
        function_url(CONSOLE) + "/audit", params={"partner": T.acme, "before": "nosuch"},
        timeout=60,
    )  # fmt: skip
    assert fine.status_code == 200
    assert "owner.partner.add" not in fine.text.split("<tbody>")[1]  # an unknown id: empty


def test_owners_add_refuses_a_partners_user_and_an_unknown_email(clean: None) -> None:
    made = cli("--json", "create", "pat@example.test", "--partner", T.acme, "--create-partner")
    assert made.returncode == 0, made.stderr
    refused = cli("owners", "add", "pat@example.test")
    assert refused.returncode == 1
    assert "partner's user" in refused.stderr
    unknown = cli("owners", "add", "nobody@example.test")
    assert (unknown.returncode, unknown.stderr.strip()) == (
        1,
        "error: no user 'nobody@example.test' in this project; add --create",
    )


# --- actions and their audit ----------------------------------------------------------------


def test_console_actions_are_the_clis_and_are_audited_with_the_owner(clean: None) -> None:
    email, password = new_owner()
    browser = signed_in(email, password)
    token = csrf_of(browser)
    assert post(browser, "/partners", partner_id=T.acme, name="Acme", csrf=token).status_code == 303
    assert (
        post(browser, f"/partners/{T.acme}/limits", rate="5", burst="10", csrf=token).status_code
        == 303
    )
    bad = post(browser, f"/partners/{T.acme}/limits", rate="0", csrf=token)
    assert bad.status_code == 400
    assert "ratePerSecond" in bad.text or "rate" in bad.text
    made = post(browser, f"/partners/{T.acme}/keys", label="erp", csrf=token, scopes="entries:read")
    assert made.status_code == 200
    key = re.search(r'id="secret" readonly value="([^"]+)"', made.text).group(1)  # type: ignore[union-attr]
    (listed,) = json.loads(cli("--json", "keys", "list", "--partner", T.acme).stdout)
    assert (listed["label"], listed["scopes"], listed["createdBy"]) == (
        "erp",
        ["entries:read"],
        f"console:{email}",
    )
    assert key not in browser.get(function_url(CONSOLE) + f"/partners/{T.acme}", timeout=60).text
    user = post(browser, f"/partners/{T.acme}/users", email="clerk@example.test", csrf=token)
    assert user.status_code == 200, user.text
    trail = json.loads(cli("--json", "audit", "--partner", T.acme).stdout)
    mine = [(e["operation"], e["actor"], e["credential"]) for e in trail]
    assert mine == [
        ("owner.partner.add", f"console:{email}", "console"),
        ("owner.partner.limits", f"console:{email}", "console"),
        ("owner.key.create", f"console:{email}", "console"),
        ("owner.user.create", f"console:{email}", "console"),
    ]
    page = browser.get(function_url(CONSOLE) + f"/audit?partner={T.acme}", timeout=60).text
    rows = page.split("<tbody>")[1]
    assert rows.index("owner.user.create") < rows.index("owner.partner.add")  # newest first
    only = browser.get(
        function_url(CONSOLE) + f"/audit?partner={T.acme}&operation=owner.key.create", timeout=60
    ).text
    assert "owner.key.create" in only.split("<tbody>")[1]
    assert "owner.partner.add" not in only.split("<tbody>")[1]


def test_the_audit_pages_page(clean: None) -> None:
    browser = signed_in(*new_owner())
    token = csrf_of(browser)
    post(browser, "/partners", partner_id=T.acme, csrf=token)
    for rate in range(1, 56):
        assert (
            post(browser, f"/partners/{T.acme}/limits", rate=str(rate), csrf=token).status_code
            == 303
        )
    first = browser.get(function_url(CONSOLE) + f"/audit?partner={T.acme}", timeout=60).text
    assert first.count("<td>owner.partner.limits</td>") == 50
    older = re.search(r'href="([^"]+)" rel="next"', first)
    assert older is not None
    second = browser.get(
        function_url(CONSOLE) + "/" + older.group(1).replace("&amp;", "&").removeprefix("./"),
        timeout=60,
    ).text
    assert second.count("<td>owner.partner.limits</td>") == 5
    assert "<td>owner.partner.add</td>" in second
    assert 'rel="next"' not in second


# --- usage ----------------------------------------------------------------------------------

CALLS = 300


def test_usage_counts_calls_by_outcome_at_a_few_writes_per_hundred_calls(clean: None) -> None:
    partner_id = f"use-{uuid.uuid4().hex[:8]}"
    made = cli("--json", "keys", "create", "--partner", partner_id, "--create-partner")
    key = json.loads(made.stdout)["key"]
    cli("partner", "limits", partner_id, "--rate", "1000", "--burst", "1000")
    headers = {"Authorization": f"Bearer {key}"}
    expected = {"ok": 0, "client_errors": 0, "creates": 0}
    for n in range(CALLS):
        if n % 10 == 0:
            answer = requests.post(
                function_url("createEntry"), json=entry_body(), headers=headers, timeout=60
            )
            assert answer.status_code == 201
            expected["ok"] += 1
            expected["creates"] += 1
        elif n % 10 == 1:
            answer = requests.get(function_url("fetchData") + "/nope", headers=headers, timeout=60)
            assert answer.status_code == 404
            expected["client_errors"] += 1
        else:
            answer = requests.get(function_url("fetchData"), headers=headers, timeout=60)
            assert answer.status_code == 200
            expected["ok"] += 1
    deadline = time.monotonic() + 60
    while True:
        (today,) = json.loads(cli("--json", "usage", "--partner", partner_id, "--days", "1").stdout)
        if today["calls"] >= CALLS or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert today["calls"] == CALLS
    assert {k: today[k] for k in expected} == expected
    assert (today["limited"], today["errors"]) == (0, 0)
    day = today["day"]
    stored = store.client().collection("partnerUsage").document(f"{partner_id}_{day}").get()
    writes = stored.get("flushes")
    print(f"\nusage metering: {writes} writes for {CALLS} calls = {writes / CALLS:.3f} per call")
    assert writes / CALLS <= 0.05
    week = json.loads(cli("--json", "usage", "--partner", partner_id, "--days", "7").stdout)
    assert [row["day"] for row in week][-1] == day
    assert len(week) == 7
    assert sum(row["calls"] for row in week) == CALLS
    refused = cli("usage", "--partner", partner_id, "--days", "91")
    assert (refused.returncode, refused.stderr.strip()) == (
        2,
        "error: --days: days must be 1 to 90",
    )


def test_a_partners_webhooks_and_their_deliveries_show_and_can_be_disabled(clean: None) -> None:
    partner_id = f"hooks-{uuid.uuid4().hex[:6]}"
    made = cli("--json", "keys", "create", "--partner", partner_id, "--create-partner")
    key = json.loads(made.stdout)["key"]
    closed = "http://127.0.0.1:9/hook"  # nothing listens: every attempt fails, and is retried
    added = cli("--json", "webhooks", "add", "--partner", partner_id, "--url", closed)
    endpoint_id = json.loads(added.stdout)["id"]
    created = requests.post(
        function_url("createEntry"),
        json=entry_body(),
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    assert created.status_code == 201
    email, password = new_owner()
    browser = signed_in(email, password)
    deadline = time.monotonic() + 60
    while True:
        page = browser.get(function_url(CONSOLE) + f"/partners/{partner_id}", timeout=60).text
        if "<td>retrying</td>" in page or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    hooks = page.split('id="webhooks"')[1]
    assert closed in hooks
    assert "<td>retrying</td>" in hooks
    assert "no answer" in hooks  # the last attempt's status: the port refused it
    assert " UTC</td>" in hooks  # the next attempt is due
    token = CSRF.search(page).group(1)  # type: ignore[union-attr]
    disabled = post(browser, f"/partners/{partner_id}/webhooks/{endpoint_id}/disable", csrf=token)
    assert disabled.status_code == 303, disabled.text
    shown = json.loads(cli("--json", "webhooks", "show", endpoint_id).stdout)
    assert (shown["status"], shown["disabled_reason"]) == (
        "disabled",
        "disabled by the owner in the console",
    )
    stranger = post(browser, f"/partners/{T.acme}/webhooks/" + endpoint_id + "/enable", csrf=token)
    assert stranger.status_code == 404  # another partner's endpoint, by its URL
    trail = json.loads(cli("--json", "audit", "--partner", partner_id).stdout)
    assert [(e["operation"], e["credential"]) for e in trail] == [
        ("owner.key.create", "cli"),
        ("owner.webhook.add", "cli"),
        ("create", "key"),
        ("owner.webhook.disable", "console"),
    ]
    assert trail[-1]["actor"] == f"console:{email}"


def test_make_serves_demo_owner_signs_in_to_the_console_it_prints(clean: None) -> None:
    from devtools import seed

    # The URLs of the stack the test runs on (`make serve` passes its own the same way).
    def url(_: str, name: str) -> str:
        return function_url(name)

    banner = seed.seed_and_describe(PROJECT, url, ".cache/emulators.log")
    assert f"Owner's console (open in a browser): {function_url(CONSOLE)}" in banner
    assert f"sign in as {seed.DEMO_OWNER}, password {seed.DEMO_PASSWORD}" in banner
    browser = signed_in(seed.DEMO_OWNER, seed.DEMO_PASSWORD)
    page = browser.get(function_url(CONSOLE) + "/partners", timeout=60).text
    for partner_id in seed.DEMO_USERS:
        assert f'href="./partners/{partner_id}"' in page


def test_every_page_and_change_in_process(clean: None) -> None:
    """The same console in this process (functions-framework's app around main.py, against
    the emulators), so that every page and change is also measured by coverage: a partner,
    its limits, a user created and revoked, a key created, rolled and revoked, a webhook
    shown, the audit pages, and the refusals on the way."""
    from tests.helpers import function_app

    client = function_app(CONSOLE).test_client()
    email, password = new_owner()
    signed = client.post("/sign-in", data={"email": email, "password": password})
    assert signed.status_code == 303, signed.text
    assert signed.headers["Location"] == "./partners"
    token = CSRF.search(client.get("/partners").text).group(1)  # type: ignore[union-attr]

    def change(path: str, **form: str) -> Any:
        return client.post(path, data={"csrf": token, **form})

    assert change("/partners", partner_id="Bad Id").status_code == 400
    assert change("/partners", partner_id=T.acme, name="Acme").status_code == 303
    assert change(f"/partners/{T.acme}/limits", burst="x").status_code == 400
    assert change(f"/partners/{T.acme}/limits", rate="9", daily_creates="50").status_code == 303
    made = change(f"/partners/{T.acme}/users", email="clerk@example.test", scopes="entries:read")
    assert made.status_code == 200
    assert "clerk@example.test can sign in" in html.unescape(made.text)
    uid = json.loads(cli("--json", "show", "clerk@example.test").stdout)["uid"]
    assert change(f"/partners/{T.acme}/users/revoke", who="nobody-uid").status_code == 400
    assert change(f"/partners/{T.acme}/users/revoke", who=uid).status_code == 303
    key = change(f"/partners/{T.acme}/keys", label="erp", expires_in="90d")
    assert key.status_code == 200
    key_id = json.loads(cli("--json", "keys", "list", "--partner", T.acme).stdout)[0]["id"]
    rolled = change(f"/partners/{T.acme}/keys/{key_id}/roll")
    assert rolled.status_code == 200
    assert f"replaces {key_id}" in rolled.text
    assert change(f"/partners/{T.acme}/keys/{key_id}/revoke").status_code == 303
    assert change(f"/partners/{T.acme}/keys/{key_id}/burn").status_code == 404
    cli("partner", "add", T.globex)
    assert change(f"/partners/{T.globex}/keys/{key_id}/revoke").status_code == 404
    added = cli("--json", "webhooks", "add", "--partner", T.acme, "--url", "http://127.0.0.1:9/h")
    endpoint_id = json.loads(added.stdout)["id"]
    page = client.get(f"/partners/{T.acme}").text
    assert endpoint_id in page
    assert "No deliveries yet." in page
    assert "until " in page  # the key that replaced the rolled one, with its end
    assert "<td>revoked</td>" in page
    assert change(f"/partners/{T.acme}/webhooks/{endpoint_id}/disable").status_code == 303
    assert change(f"/partners/{T.acme}/webhooks/{endpoint_id}/enable").status_code == 303
    assert change(f"/partners/{T.acme}/webhooks/{endpoint_id}/melt").status_code == 404
    assert client.get("/partners/nobody").status_code == 404
    assert client.get("/partners/not.an.id").status_code == 404
    assert client.get("/audit?partner=not.an.id").status_code == 400
    audit = client.get(f"/audit?partner={T.acme}").text
    for operation in ("owner.partner.limits", "owner.user.create", "owner.user.revoke",
                      "owner.key.create", "owner.key.roll", "owner.key.revoke",
                      "owner.webhook.disable", "owner.webhook.enable"):  # fmt: skip
        assert f"<td>{operation}</td>" in audit, operation
    assert client.get("/nowhere").status_code == 404
    assert client.post("/sign-out", data={"csrf": token}).status_code == 303
    assert client.get("/partners").status_code == 303


def test_owners_add_an_endpoint_rotate_its_secret_send_a_test_and_resend(clean: None) -> None:
    """The console's webhook tools, each with a real delivery, and each audited."""
    from standardwebhooks import Webhook

    from functions.domain.webhooks import endpoints as webhooks
    from tests.corpus import VALID
    from tests.emulator.test_events import owner_write
    from tests.emulator.test_webhook_delivery import Receiver

    receiver = Receiver()
    try:
        email, password = new_owner()
        browser = signed_in(email, password)
        token = csrf_of(browser)
        post(browser, "/partners", partner_id=T.acme, csrf=token)
        refused = post(browser, f"/partners/{T.acme}/webhooks", url="ftp://x", csrf=token)
        assert refused.status_code in (400, 422), refused.text
        made = post(browser, f"/partners/{T.acme}/webhooks", url=receiver.url,
                    event_types="entries.created", csrf=token)  # fmt: skip
        assert made.status_code == 200, made.text
        first = SECRET.search(made.text).group(1)  # type: ignore[union-attr]
        (endpoint,) = webhooks.endpoints(T.acme)
        assert (endpoint.url, endpoint.event_types) == (receiver.url, ("entries.created",))
        rotated = post(browser, f"/partners/{T.acme}/webhooks/{endpoint.id}/rotate", csrf=token)
        second = SECRET.search(rotated.text).group(1)  # type: ignore[union-attr]
        assert second != first
        tested = post(browser, f"/partners/{T.acme}/webhooks/{endpoint.id}/test", csrf=token)
        assert tested.status_code == 303
        headers, body = receiver.wait_for(1)[0]
        for secret in (first, second):  # within the rotation's overlap both sign
            assert Webhook(secret).verify(body, headers)["type"] == "entries.test"
        owner_write(f"app-{uuid.uuid4().hex[:8]}", {**VALID["minimal"], "partnerId": T.acme})
        event = json.loads(receiver.wait_for(2)[1][1])
        delivery = _delivery_of(event["id"])
        resent = post(browser, f"/partners/{T.acme}/deliveries/{delivery}/resend", csrf=token)
        assert resent.status_code == 303
        again = json.loads(receiver.wait_for(3)[2][1])
        assert again["id"] == event["id"]
        other = post(browser, f"/partners/{T.globex}/deliveries/{delivery}/resend", csrf=token)
        assert other.status_code == 404
        trail = json.loads(cli("--json", "audit", "--partner", T.acme).stdout)
        assert [e["operation"] for e in trail if "webhook" in e["operation"]] == [
            "owner.webhook.add", "owner.webhook.rotate", "owner.webhook.test",
            "owner.webhook.resend",
        ]  # fmt: skip
    finally:
        receiver.close()


SECRET = re.compile(r'id="secret" readonly value="(whsec_[^"]+)"')


def _delivery_of(event_id: str) -> str:
    """The delivery record of an event, once it is written."""
    from google.cloud.firestore import FieldFilter

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = list(
            store.client()
            .collection("partnerWebhookDeliveries")
            .where(filter=FieldFilter("eventId", "==", event_id))
            .stream()
        )
        if found:
            return str(found[0].id)
        time.sleep(0.5)
    raise AssertionError(f"no delivery of {event_id}")
