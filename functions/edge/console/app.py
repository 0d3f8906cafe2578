"""The console's routes: pages rendered on the server from Jinja templates, forms that
post back, no script. Every change goes through `Operator`, the same methods as the
command-line tool, as `console:<email>`, so it is refused by the same rules and lands in
the partner's audit trail.

Links are relative to the page (`root`), so the console works at `.../console`, at
`.../console/` and at the root of its own URL alike: a leading `console` segment in the
path is the console's own (the docs page does the same).
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import jinja2
from firebase_functions import options
from flask import Request, Response

from functions.auth import owner_sessions
from functions.auth.callers import (
    PARTNER_ID_CLAIM,
    PARTNER_ID_FORM,
    PARTNER_ID_PATTERN,
    SCOPES_CLAIM,
    known_scopes,
)
from functions.auth.owner_sessions import Owner, SignInFailed
from functions.core import config, logs
from functions.core.errors import ApiError, ConfigurationError
from functions.core.limits import FailureGuard, failure_source
from functions.core.models import is_document_id
from functions.domain.usage import sdk_totals, totals
from functions.domain.webhooks.delivery import TEST_EVENT_PREFIX
from functions.domain.webhooks.endpoints import ROTATION_OVERLAP
from functions.edge.console import charts, session
from functions.edge.http import parsing, shell
from functions.operations.clients import shared_firestore_client
from functions.operations.errors import Refused, UsageError
from functions.operations.operator import SUSPENDED_NOTE, Operator
from functions.operations.records import partner_json

HERE: Final = Path(__file__).resolve().parent
POLICY: Final = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
HEADERS: Final = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}
CONSOLE_FUNCTION: Final[dict[str, Any]] = {
    "region": config.functions_region(),
    "invoker": "public",
    "memory": options.MemoryOption.MB_512,
    "timeout_sec": 60,
    "max_instances": 2,
}
"""Deployment options of the console: reachable by browsers (owners sign in on its own
page), a few instances at most."""
SIGN_IN_FAILURES: Final = FailureGuard()
"""Failed sign-ins per account and client address, in this instance: 20, then one every
2 s."""
USAGE_DAYS: Final = 30
Change = Callable[["Page", str, list[str]], Response]
"""A POST under `partners/<id>/`: the page, the partner, the path after the action."""
DELIVERIES_SHOWN: Final = 5
MODE_COOKIE: Final = "partner_api_mode"
"""The console's mode (`test` shows and changes test mode's data); live without it."""

DONE: Final = {
    "live": "Live mode: the live database's records, usage, audit trail and webhooks.",
    "test": "Test mode: the sandbox database's; keys and users made now are test ones.",
    "added": "Partner added.",
    "suspended": "Suspended: its users and keys get 403 on their next call.",
    "resumed": "Resumed: its users and keys work again on their next call.",
    "limits": "Limits set.",
    "granted": "Access granted.",
    "revoked": "Access revoked; the user's sessions are ended.",
    "key-revoked": "Key revoked: it stops working on its next call.",
    "webhook": "Webhook endpoint changed.",
    "webhook-test": "Test event sent: its delivery shows below in a moment.",
    "resent": "Delivery sent again: its attempt shows below in a moment.",
}
"""What a page says after a change redirected to it (`?done=`)."""


@functools.cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


@dataclass
class Page:
    """One request of the console: where it is, who asks, and the operator acting."""

    request: Request
    root: str
    route: list[str]
    project: str
    request_id: str
    owner: Owner | None = None
    operator: Operator | None = field(default=None, repr=False)
    mode: str = "live"

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        html = (
            _templates()
            .get_template(template)
            .render(
                root=self.root,
                project=self.project,
                owner=self.owner,
                mode=self.mode,
                notice=DONE.get(self.request.args.get("done", "")),
                problem=values.pop("problem", None),
                section=values.pop("section", ""),
                **values,
            )
        )
        return Response(html, status, mimetype="text/html", headers=HEADERS)

    def redirect(self, target: str) -> Response:
        return Response("", 303, headers={**HEADERS, "Location": self.root + target})

    def refuse(self, status: int, message: str, back: str | None = None) -> Response:
        title = {400: "Not done", 401: "Signed out", 403: "Not allowed", 404: "Not found"}
        return self.render(
            "error.html",
            status,
            title=title.get(status, "Something went wrong"),
            problem=message,
            back=None if back is None else self.root + back,
        )


def serve(request: Request) -> Response:
    """The console function's one entry point, served in the one HTTP shell (request id,
    method, the catch-all, headers, one log line); what goes wrong is shown as a page."""
    page = _page(request)

    def shown(error: ApiError, request_id: str) -> Response:
        message = (
            "The console could not do this. The log has the details."
            if error.status >= 500
            else error.public_message()
        )
        response = page.refuse(error.status, message)
        response.headers.update(error.headers())
        return response

    def answer(served: shell.Served) -> Response:
        page.request_id = served.request_id
        try:
            return _answer(page)
        finally:
            served.fields["uid"] = page.owner.uid if page.owner else None

    face = shell.Face(error=shown, cors=False)
    label = "/".join(["console", *page.route])
    return shell.serve("console", request, answer, methods=("GET", "POST"), face=face, label=label)


def _page(request: Request) -> Page:
    segments = [s for s in (request.path or "/").split("/") if s]
    route = list(segments)
    while route and route[0] == "console":
        route.pop(0)
    root = "../" * (len(segments) - 1) if segments else "console/"
    return Page(request, root or "./", route, "", "")


def _answer(page: Page) -> Response:
    early = _unconfigured(page) or _public(page) or _signed_out(page)
    if early is not None:
        return early
    assert page.owner is not None
    page.mode = "test" if page.request.cookies.get(MODE_COOKIE) == "test" else "live"
    page.operator = Operator(
        page.project,
        actor=f"console:{page.owner.email}",
        credential="console",
        request_id=page.request_id,
        database=shared_firestore_client(page.project),
        mode=page.mode,
    )
    try:
        return _route(page)
    except (Refused, UsageError) as exc:
        return page.refuse(400, str(exc), "/".join(page.route[:2]) or "partners")


def _unconfigured(page: Page) -> Response | None:
    """A 500 when the function may not run here (an emulator variable in a real project,
    no project)."""
    try:
        config.check_local_only()
        page.project = config.project_id()
    except ConfigurationError as exc:
        logs.log("ERROR", f"console: {exc.message}", request_id=page.request_id)
        return page.refuse(500, "The console is not configured. The log says why.")
    return None


def _public(page: Page) -> Response | None:
    """The stylesheet and the sign-in page: all a signed-out browser may reach."""
    if page.route == ["style.css"] and page.request.method == "GET":
        css = (HERE / "static" / "console.css").read_text()
        cached = {**HEADERS, "Cache-Control": "max-age=300"}
        return Response(css, mimetype="text/css", headers=cached)
    if page.route == ["sign-in"]:
        return _sign_in(page)
    return None


def _signed_out(page: Page) -> Response | None:
    """Sets `page.owner`, or refuses: no session (a GET goes to the sign-in page), not an
    owner, or a change without this host's origin and the session's CSRF token."""
    try:
        page.owner = session.current_owner(page.request)
    except SignInFailed as exc:
        if page.request.method == "GET" and exc.status == 401:
            return page.redirect("sign-in")
        return page.refuse(exc.status, exc.message, "sign-in")
    return _check_change(page) if page.request.method == "POST" else None


def _check_change(page: Page) -> Response | None:
    """A change must come from this host's page, with the session's CSRF token."""
    assert page.owner is not None
    if not session.same_origin(page.request):
        return page.refuse(403, "This form was sent from another site; nothing was changed.")
    sent = page.request.form.get("csrf", "")
    if not hmac.compare_digest(sent.encode(), page.owner.csrf.encode()):
        return page.refuse(403, "This form has expired; reload the page. Nothing was changed.")
    return None


def _sign_in(page: Page) -> Response:
    request = page.request
    if request.method == "GET":
        return page.render("sign_in.html", title="Sign in", email=None)
    if request.method != "POST":
        return page.refuse(405, "Sign in with the form.")
    if not session.same_origin(request):
        return page.refuse(403, "This form was sent from another site.")
    email = request.form.get("email", "")
    # Per account and address: guesses at one account never lock another out, nor the
    # owner out of the console from an address someone else fails from.
    address = failure_source(parsing.client_address(request), email.strip().lower())
    wait = SIGN_IN_FAILURES.retry_after(address, "")
    if wait:
        said = f"Too many failed sign-ins from your address; try again in {wait} s."
        refused = page.render("sign_in.html", 429, title="Sign in", email=None, problem=said)
        refused.headers["Retry-After"] = str(wait)
        return refused
    try:
        cookie, owner = owner_sessions.sign_in(email, request.form.get("password", ""))
    except SignInFailed as exc:
        if exc.status in (401, 403):
            SIGN_IN_FAILURES.failed(address)
        return page.render(
            "sign_in.html", exc.status, title="Sign in", email=email[:254], problem=exc.message
        )
    response = page.redirect("partners")
    response.set_cookie(session.COOKIE, cookie, **session.cookie_options())
    logs.log("INFO", f"console: {owner.email} signed in", request_id=page.request_id)
    return response


def _route(page: Page) -> Response:
    """The page `PAGES` routes the request to, or 404."""
    for method, path, answer in PAGES:
        if method != page.request.method:
            continue
        found = _matched(path, page.route)
        if found is None:
            continue
        partner_id, rest = found
        return answer(page) if partner_id is None else answer(page, partner_id, rest)
    return page.refuse(404, "No such page.")


def _matched(path: str, route: list[str]) -> tuple[str | None, list[str]] | None:
    """The partner id and the `*` segments of `route` when it has `path`'s shape."""
    wanted = path.split("/") if path else []
    if len(wanted) != len(route):
        return None
    partner_id, rest = None, []
    for expected, segment in zip(wanted, route, strict=True):
        if expected == "{partner}" and PARTNER_ID_PATTERN.fullmatch(segment):
            partner_id = segment
        elif expected == "*":
            rest.append(segment)
        elif expected != segment:
            return None
    return partner_id, rest


def _switch_mode(page: Page) -> Response:
    """Show and change test mode's data (or the live data again), until signed out."""
    mode = "test" if page.request.form.get("mode") == "test" else "live"
    response = page.redirect(f"partners?done={mode}")
    response.set_cookie(MODE_COOKIE, mode, **session.cookie_options())
    return response


def _sign_out(page: Page) -> Response:
    assert page.owner is not None
    owner_sessions.end_session(page.owner)
    response = page.redirect("sign-in")
    response.delete_cookie(session.COOKIE, path="/", secure=True, samesite="Strict")
    response.delete_cookie(MODE_COOKIE, path="/", secure=True, samesite="Strict")
    return response


# --- pages ----------------------------------------------------------------------------------


def _partners(page: Page) -> Response:
    operator = _operator(page)
    records = operator.partner_records()
    ids = [record.partner_id for record, _ in records]
    today = {row.partner_id: row for row in operator.usage(ids, 1)} if ids else {}
    rows = []
    for record, snapshot in records:
        shown = partner_json(record, snapshot)
        limits = shown["limits"]
        rows.append(
            {
                "id": record.partner_id,
                "name": record.display_name,
                "status": "suspended" if record.suspended else "active",
                "limits": f"{limits['ratePerSecond']:g}/s, burst {limits['burst']}, "
                f"{limits['dailyCreates']} creates/day",
                "usage": today[record.partner_id],
            }
        )
    return page.render("partners.html", title="Partners", section="partners", partners=rows)


def _partner(page: Page, partner_id: str, rest: list[str]) -> Response:
    operator = _operator(page)
    record, snapshot = operator.partner(partner_id)
    if not record.exists:
        return page.refuse(404, f"No partner {partner_id!r}.", "partners")
    rows = operator.usage([partner_id], USAGE_DAYS)
    users = [
        {"uid": u.uid, "email": u.email, "scopes": _scopes(u.claims.get(SCOPES_CLAIM))}
        for u in operator.partner_users(partner_id)
    ]
    now = _now()
    keys = [
        {
            "id": k.key_id,
            "hint": k.hint,
            "label": k.label,
            "scopes": _scopes(list(k.scopes) if k.scopes else None),
            "usable": k.usable_at(now) and k.revoked_at is None,
            "state": "revoked"
            if k.revoked_at
            else "expired"
            if not k.usable_at(now)
            else f"until {k.expires_at:%Y-%m-%d %H:%M} UTC"
            if k.expires_at
            else "active",
            "last_used": f"{k.last_used_at:%Y-%m-%d %H:%M} UTC" if k.last_used_at else None,
        }
        for k in operator.key_list(partner_id)
    ]
    hooks = []
    for endpoint in operator.webhook_list(partner_id):
        deliveries = operator.webhook_deliveries(endpoint.id, limit=DELIVERIES_SHOWN)
        hooks.append(
            {
                "id": endpoint.id,
                "url": endpoint.url,
                "status": endpoint.status,
                "reason": endpoint.disabled_reason,
                "events": ", ".join(endpoint.event_types),
                "description": endpoint.description,
                "deliveries": [
                    {
                        "id": d.id,
                        "test": d.event_id.startswith(TEST_EVENT_PREFIX),
                        "event_id": d.event_id,
                        "state": d.state,
                        "attempts": len(d.attempts),
                        "last_status": (d.attempts[-1].status or "no answer")
                        if d.attempts
                        else "—",
                        "next_attempt": f"{d.attempts[-1].next_attempt_at:%H:%M:%S} UTC"
                        if d.attempts and d.attempts[-1].next_attempt_at
                        else None,
                        "updated_at": f"{d.updated_at:%Y-%m-%d %H:%M:%S} UTC",
                    }
                    for d in deliveries
                ],
            }
        )
    return page.render(
        "partner.html",
        title=f"Partner {partner_id}",
        section="partners",
        partner=partner_json(record, snapshot),
        record={"suspended": record.suspended, "status_class": record.status},
        suspended_note=SUSPENDED_NOTE,
        usage_days=USAGE_DAYS,
        chart=charts.usage_chart(rows, partner_id),
        totals=totals(rows),
        sdks=sdk_totals(rows),
        users=users,
        keys=keys,
        scopes=sorted(known_scopes()),
        webhooks=hooks,
    )


def _audit(page: Page) -> Response:
    operator = _operator(page)
    ids = sorted(record.partner_id for record, _ in operator.partner_records())
    args = page.request.args
    partner_id = args.get("partner") or (ids[0] if ids else "")
    if partner_id and not PARTNER_ID_PATTERN.fullmatch(partner_id):
        return page.refuse(400, "That is not a partner id.", "audit")
    operation = (args.get("operation") or "").strip()[:100]
    before = args.get("before") or None
    if before is not None and not is_document_id(before):
        return page.refuse(400, "That is not a page of the audit trail.", "audit")
    records: list[dict[str, Any]] = []
    after = None
    if partner_id:
        records, after = operator.audit_page(partner_id, before=before, operation=operation or None)
    for row in records:
        row["fields"] = ", ".join(row.get("fields") or [])
    return page.render(
        "audit.html",
        title="Audit trail",
        section="audit",
        partner_ids=ids,
        partner_id=partner_id,
        operation=operation,
        operations=OPERATIONS,
        records=records,
        before=before,
        next=after,
    )


OPERATIONS: Final = (
    "create",
    "update",
    "delete",
    "replay",
    "owner.partner.add",
    "owner.partner.suspend",
    "owner.partner.resume",
    "owner.partner.limits",
    "owner.user.create",
    "owner.user.grant",
    "owner.user.revoke",
    "owner.key.create",
    "owner.key.roll",
    "owner.key.revoke",
    "owner.webhook.add",
    "owner.webhook.enable",
    "owner.webhook.disable",
    "owner.webhook.rotate",
    "owner.webhook.test",
    "owner.webhook.resend",
)
"""The operations the audit page offers to filter on (the API's and the owners')."""


# --- changes ------------------------------------------------------------------------------


def _add_partner(page: Page) -> Response:
    form = page.request.form
    partner_id = form.get("partner_id", "").strip()
    if not PARTNER_ID_PATTERN.fullmatch(partner_id):
        return page.refuse(400, f"A partner id is {PARTNER_ID_FORM}.", "partners")
    _operator(page).add_partner(partner_id, form.get("name", "").strip()[:200] or None)
    return page.redirect(f"partners/{partner_id}?done=added")


def _confirmed(page: Page, partner_id: str) -> Response | None:
    if page.request.form.get("confirm") != "yes":
        return page.refuse(
            400, "Tick the box to confirm; nothing was changed.", f"partners/{partner_id}"
        )
    return None


def _status(suspend: bool) -> Change:
    """Suspend or resume, once the box is ticked."""

    def change(page: Page, partner_id: str, rest: list[str]) -> Response:
        refusal = _confirmed(page, partner_id)
        if refusal is not None:
            return refusal
        operator = _operator(page)
        operator.check_suspend(partner_id)
        (operator.suspend if suspend else operator.resume)(partner_id)
        done = "suspended" if suspend else "resumed"
        return page.redirect(f"partners/{partner_id}?done={done}")

    return change


def _limits(page: Page, partner_id: str, rest: list[str]) -> Response:
    form = page.request.form
    try:
        rate = _number(form.get("rate"), float)
        burst = _number(form.get("burst"), int)
        daily = _number(form.get("daily_creates"), int)
    except ValueError:
        return page.refuse(
            400,
            "Limits are numbers: calls a second, burst, creates a day.",
            f"partners/{partner_id}",
        )
    operator = _operator(page)
    operator.partners.recorded(partner_id)
    operator.set_limits(partner_id, operator.limit_overrides(rate, burst, daily))
    return page.redirect(f"partners/{partner_id}?done=limits")


def _users(page: Page, partner_id: str, rest: list[str]) -> Response:
    operator = _operator(page)
    form = page.request.form
    if rest == ["revoke"]:
        who = form.get("who", "")
        if operator.user(who).claims.get(PARTNER_ID_CLAIM) != partner_id:
            return page.refuse(404, "No such user of this partner.", f"partners/{partner_id}")
        operator.revoke(who)
        return page.redirect(f"partners/{partner_id}?done=revoked")
    if rest:
        return page.refuse(404, "No such page.")
    email = form.get("email", "").strip()
    scopes = form.getlist("scopes") or None
    if form.get("existing") == "yes":
        operator.grant(email, partner_id, scopes)
        return page.redirect(f"partners/{partner_id}?done=granted")
    user, password = operator.create_user(email, partner_id, scopes)
    return page.render(
        "secret.html",
        title="User created",
        section="partners",
        what=f"{user.email} can sign in to the partner's app with this password.",
        label="Password",
        secret=password,
        partner_id=partner_id,
    )


def _keys(page: Page, partner_id: str, rest: list[str]) -> Response:
    operator = _operator(page)
    form = page.request.form
    if not rest:
        issued = operator.create_key(
            partner_id,
            form.getlist("scopes") or None,
            expires_in=form.get("expires_in", "").strip() or None,
            label=form.get("label", "").strip()[:100] or None,
        )
        what = f"Key {issued.record.key_id} of {partner_id} is ready."
    else:
        if len(rest) != 2 or operator.key(rest[0]).partner_id != partner_id:
            return page.refuse(404, "No such key of this partner.", f"partners/{partner_id}")
        key_id, verb = rest
        if verb == "revoke":
            operator.revoke_key(key_id)
            return page.redirect(f"partners/{partner_id}?done=key-revoked")
        if verb != "roll":
            return page.refuse(404, "No such page.")
        issued, _ = operator.roll_key(key_id, "24h")
        what = f"Key {issued.record.key_id} replaces {key_id}, which works for 24 more hours."
    return page.render(
        "secret.html",
        title="API key created",
        section="partners",
        what=what,
        label="API key",
        secret=issued.key,
        partner_id=partner_id,
    )


def _add_webhook(page: Page, partner_id: str, rest: list[str]) -> Response:
    """A new endpoint for the partner; its secret on a page of its own, once."""
    form = page.request.form
    types = [t.strip() for t in form.get("event_types", "*").split(",") if t.strip()]
    endpoint, secret = _operator(page).add_webhook(
        partner_id,
        form.get("url", "").strip(),
        types or ["*"],
        form.get("description", "").strip() or None,
    )
    return _secret_page(
        page, partner_id, f"Endpoint {endpoint.id} of {partner_id} is ready.", secret
    )


def _webhooks(page: Page, partner_id: str, rest: list[str]) -> Response:
    operator = _operator(page)
    actions = ("enable", "disable", "rotate", "test")
    if len(rest) != 2 or rest[1] not in actions:
        return page.refuse(404, "No such page.")
    endpoint_id, action = rest
    if operator.webhook(endpoint_id).partner_id != partner_id:
        return page.refuse(404, "No such endpoint of this partner.", f"partners/{partner_id}")
    if action == "rotate":
        _, secret = operator.rotate_webhook_secret(endpoint_id, ROTATION_OVERLAP)
        what = (
            f"Endpoint {endpoint_id} signs with this new secret; the old one signs beside "
            "it for 24 hours."
        )
        return _secret_page(page, partner_id, what, secret)
    if action == "test":
        operator.send_webhook_test(endpoint_id)
        return page.redirect(f"partners/{partner_id}?done=webhook-test")
    status = "enabled" if action == "enable" else "disabled"
    reason = "disabled by the owner in the console" if status == "disabled" else None
    operator.set_webhook_status(endpoint_id, status, reason)
    return page.redirect(f"partners/{partner_id}?done=webhook")


def _deliveries(page: Page, partner_id: str, rest: list[str]) -> Response:
    operator = _operator(page)
    if len(rest) != 2 or rest[1] != "resend":
        return page.refuse(404, "No such page.")
    if operator.webhook_delivery(rest[0]).partner_id != partner_id:
        return page.refuse(404, "No such delivery of this partner.", f"partners/{partner_id}")
    operator.resend_delivery(rest[0])
    return page.redirect(f"partners/{partner_id}?done=resent")


def _secret_page(page: Page, partner_id: str, what: str, secret: str) -> Response:
    return page.render(
        "secret.html",
        title="Webhook signing secret",
        section="partners",
        what=what,
        label="Signing secret",
        secret=secret,
        partner_id=partner_id,
    )


PAGES: Final[tuple[tuple[str, str, Callable[..., Response]], ...]] = (
    ("POST", "sign-out", _sign_out),
    ("POST", "mode", _switch_mode),
    ("GET", "", _partners),
    ("GET", "partners", _partners),
    ("POST", "", _add_partner),
    ("POST", "partners", _add_partner),
    ("GET", "audit", _audit),
    ("GET", "partners/{partner}", _partner),
    ("POST", "partners/{partner}/suspend", _status(suspend=True)),
    ("POST", "partners/{partner}/resume", _status(suspend=False)),
    ("POST", "partners/{partner}/limits", _limits),
    ("POST", "partners/{partner}/users", _users),
    ("POST", "partners/{partner}/users/*", _users),
    ("POST", "partners/{partner}/keys", _keys),
    ("POST", "partners/{partner}/keys/*/*", _keys),
    ("POST", "partners/{partner}/webhooks", _add_webhook),
    ("POST", "partners/{partner}/webhooks/*/*", _webhooks),
    ("POST", "partners/{partner}/deliveries/*/*", _deliveries),
)
"""The console's routing table (below `sign-in` and `style.css`, which a signed-out
browser reaches): method, path (`{partner}` a partner id, `*` any one segment) and page.
A partner's page and its changes get the partner id and the `*` segments; a path it does
not list is a 404."""


# --- helpers --------------------------------------------------------------------------------


def _operator(page: Page) -> Operator:
    assert page.operator is not None
    return page.operator


def _scopes(value: Any) -> str:
    return ", ".join(value) if isinstance(value, list) and value else "every scope"


def _number(value: str | None, kind: Callable[[str], Any]) -> Any:
    text = (value or "").strip()
    return kind(text) if text else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
