"""The SDKs (`make sdk`): the committed ones are what the contract generates; the SDKs
of other declarations build and type-check strictly; the Python wheel installs typed; the
transport retries exactly what cannot write twice, honouring Retry-After; errors are typed;
webhook verification agrees with the reference library (`standardwebhooks`)."""

from __future__ import annotations

import base64
import http.server
import json
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from partner_api import (
    VERSION,
    BadRequest,
    ConnectionFailed,
    EntryCreate,
    PartnerApi,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    ValidationFailed,
    Webhook,
    WebhookForged,
    WebhookReplayed,
    WebhookStale,
)
from standardwebhooks import Webhook as Reference
from standardwebhooks.webhooks import WebhookVerificationError

from devtools import sdk
from functions.contract import catalog, openapi
from tests.helpers import (
    ROOT,
    Blackhole,
    closed_port,
    data_model_declaration,
    more_declaration,
    reply,
)

CONTRACT = json.loads((ROOT / "openapi.json").read_text())


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and ".egg-info" not in str(p)
    }


def sdk_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "sdk"
    shutil.copytree(ROOT / "sdk", copy, ignore=shutil.ignore_patterns("__pycache__", "build"))
    return copy


# --- generation ----------------------------------------------------------------------------


def test_the_committed_sdks_are_what_the_contract_generates(tmp_path: Path) -> None:
    copy = sdk_copy(tmp_path)
    before = tree(copy)
    changed = sdk.write(CONTRACT, copy)
    assert changed == [], f"run `make sdk`: {changed}"
    assert tree(copy) == before
    dist = {name for name in before if name.startswith("typescript/dist/")}
    modules = ("index", "models", "operations", "runtime", "errors", "webhooks")
    assert dist == {f"typescript/dist/{m}.{x}" for m in modules for x in ("js", "d.ts")}


def test_a_stale_sdk_is_found_and_rewritten(tmp_path: Path) -> None:
    copy = sdk_copy(tmp_path)
    models = copy / "python/src/partner_api/_models.py"
    models.write_text(models.read_text().replace("class Entry(", "class Entri("))
    (copy / "typescript/dist/operations.js").write_text("// stale\n")
    changed = sdk.write(CONTRACT, copy)
    assert changed == ["python/src/partner_api/_models.py", "typescript/dist/operations.js"]
    assert tree(copy) == tree(sdk_copy(tmp_path / "again"))


@pytest.mark.parametrize("declaration", ["more resources", "every kind"])
def test_the_sdks_of_another_declaration_build_and_type_check_strictly(
    tmp_path: Path, declaration: str
) -> None:
    decl = more_declaration() if declaration == "more resources" else data_model_declaration()
    contract = openapi.build(decl, endpoints=catalog.discover())
    copy = sdk_copy(tmp_path)
    sdk.write(contract, copy)  # raises with tsc's output when the TypeScript does not build
    operations = (copy / "python/src/partner_api/_operations.py").read_text()
    typescript = (copy / "typescript/src/operations.ts").read_text()
    for resource in decl.resources:
        name = sdk.pascal(sdk.snake(resource.name))
        assert f"class {name}:" in operations
        assert f"export class {name} " in typescript
    models = (copy / "typescript/src/models.ts").read_text()
    for schema in contract["components"]["schemas"]:
        assert f"export interface {schema} " in models or f"export type {schema} " in models
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "-p", "partner_api"],
        cwd=copy / "python" / "src",
        env={"MYPYPATH": str(copy / "python" / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_generator_refuses_what_it_does_not_write() -> None:
    contract = json.loads(json.dumps(CONTRACT))
    contract["components"]["schemas"]["Entry"]["properties"]["amount"] = {"type": "tuple"}
    with pytest.raises(sdk.ContractError, match="Entry/amount: type 'tuple'"):
        sdk.sources(contract)


def test_the_python_wheel_holds_the_typed_package(tmp_path: Path) -> None:
    source = sdk_copy(tmp_path) / "python"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-q", str(source), "-w", str(tmp_path / "wheel")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    assert wheel.name == f"partner_api_client-{VERSION}-py3-none-any.whl"
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"partner_api/py.typed", "partner_api/_operations.py", "partner_api/_models.py"} <= names
    metadata = zipfile.ZipFile(wheel).read(f"partner_api_client-{VERSION}.dist-info/METADATA")
    assert b"Requires-Dist: httpx" in metadata


# --- the transport -------------------------------------------------------------------------

Scripted = tuple[int, dict[str, str], bytes]


class Script:
    """A server that answers each request with the next scripted answer (then 200 {})."""

    def __init__(self, answers: list[Scripted]) -> None:
        self.answers = list(answers)
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        script = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                script.seen.append((self.command, self.path, dict(self.headers.items())))
                status, headers, body = (
                    script.answers.pop(0) if script.answers else (200, {}, b"{}")
                )
                reply(self, status, body, headers)

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def log_message(self, *args: Any) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def script() -> Iterator[Any]:
    made: list[Script] = []

    def start(*answers: Scripted) -> Script:
        made.append(Script(list(answers)))
        return made[-1]

    yield start
    for each in made:
        each.server.shutdown()
        each.server.server_close()


def envelope(status: int, code: str, **extra: Any) -> bytes:
    error = {"status": status, "code": code, "message": code, "request_id": f"req-{status}"}
    return json.dumps({"error": error | extra}).encode()


def api_at(url: str, waits: list[float], **options: Any) -> PartnerApi:
    made = PartnerApi(url, api_key="pak_test_x", **options)
    made.transport._sleep = waits.append  # record, do not wait
    return made


PAGE = json.dumps({"data": [], "next_cursor": None, "has_more": False, "skipped": []}).encode()


def test_a_post_without_a_key_is_not_sent_again_after_a_503(script: Any) -> None:
    server = script((503, {}, envelope(503, "unavailable")))
    waits: list[float] = []
    with pytest.raises(ServiceUnavailable) as failed:
        api_at(server.url, waits).webhook_endpoints.create({"url": "https://x.example"})
    assert (failed.value.request_id, len(server.seen), waits) == ("req-503", 1, [])


def test_a_create_is_sent_again_with_the_same_generated_key(script: Any) -> None:
    entry = json.dumps({"id": "e1"}).encode()
    server = script((503, {}, envelope(503, "unavailable")), (503, {}, b""), (201, {}, entry))
    waits: list[float] = []
    api = api_at(server.url, waits)
    body: EntryCreate = {"description": "d", "amount": "1", "currency": "EUR", "date": "2026-01-01"}
    assert api.entries.create(body)["id"] == "e1"
    keys = [headers["Idempotency-Key"] for _, _, headers in server.seen]
    assert len(keys) == 3
    assert len(set(keys)) == 1
    assert keys[0].startswith("sdk_")
    assert len(waits) == api.transport.retries == 2
    assert waits[0] <= 0.5  # full jitter over 0.5 s, then 1 s
    assert waits[1] <= 1.0
    given = script((503, {}, b""), (201, {}, entry))
    api_at(given.url, []).entries.create(body, idempotency_key="order-7")
    assert [h["Idempotency-Key"] for _, _, h in given.seen] == ["order-7", "order-7"]


def test_backoff_grows_to_its_cap_and_the_last_503_is_raised(script: Any) -> None:
    server = script(*[(503, {}, envelope(503, "unavailable"))] * 7)
    waits: list[float] = []
    api = api_at(server.url, waits, max_retries=6)
    with pytest.raises(ServiceUnavailable):
        api.entries.list()  # a read: every 503 is sent again, six times
    assert len(server.seen) == 7
    assert len(waits) == 6
    steps = [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]  # 0.5 s doubling, capped at 8 s; full jitter below
    assert all(0 <= w <= step for w, step in zip(waits, steps, strict=True)), waits


def test_a_429_waits_its_retry_after_and_a_long_one_is_raised(script: Any) -> None:
    server = script((429, {"Retry-After": "2"}, envelope(429, "rate_limited")), (200, {}, PAGE))
    waits: list[float] = []
    assert api_at(server.url, waits).entries.list()["data"] == []
    assert len(waits) == 1
    assert 2.0 <= waits[0] <= 2.25
    too_long = script((429, {"Retry-After": "120"}, envelope(429, "rate_limited")))
    with pytest.raises(RateLimited) as refused:
        api_at(too_long.url, waits, max_retry_wait=60).entries.list()
    assert (refused.value.retry_after, len(too_long.seen), len(waits)) == (120.0, 1, 1)
    gives_up = script(*[(429, {"Retry-After": "1"}, envelope(429, "rate_limited"))] * 4)
    with pytest.raises(RateLimited):
        api_at(gives_up.url, [], max_retries=3).entries.list()
    assert len(gives_up.seen) == 4  # the first try and three retries


def test_a_refused_connection_is_tried_again_then_named(script: Any) -> None:
    waits: list[float] = []
    url = f"http://127.0.0.1:{closed_port()}"
    api = api_at(url, waits, max_retries=2)
    with pytest.raises(ConnectionFailed) as failed:
        api.webhook_endpoints.create({"url": "https://x.example"})  # never sent: safe again
    assert (failed.value.status, failed.value.code, len(waits)) == (0, "connection_failed", 2)
    assert "ConnectError" in failed.value.message


def test_a_timeout_is_retried_for_a_read_and_not_for_a_write_without_a_key() -> None:
    with Blackhole() as stalled:
        waits: list[float] = []
        api = api_at(f"http://{stalled.host}", waits, timeout=0.2, max_retries=1)
        started = time.monotonic()
        with pytest.raises(ConnectionFailed) as read:
            api.entries.list()
        assert "ReadTimeout" in read.value.message
        assert len(waits) == 1  # sent again once
        with pytest.raises(ConnectionFailed) as write:
            api.webhook_endpoints.create({"url": "https://x.example"})
        assert "ReadTimeout" in write.value.message
        assert len(waits) == 1  # not sent again: it may have been done
        assert time.monotonic() - started < 5  # three tries of 0.2 s, not the default 30 s


def test_errors_are_typed_by_status_with_their_envelope(script: Any) -> None:
    issues = [{"field": "amount", "message": "is required"}]
    server = script(
        (422, {}, envelope(422, "validation_failed", details=issues)),
        (400, {}, envelope(400, "invalid_argument")),
        (502, {"X-Request-Id": "edge-1"}, b"<html>Bad gateway</html>"),
    )
    api = api_at(server.url, [])
    with pytest.raises(ValidationFailed) as invalid:
        api.entries.create({"description": "d", "amount": "1", "currency": "EUR",
                            "date": "2026-01-01"})  # fmt: skip
    assert (invalid.value.issues, invalid.value.request_id) == (issues, "req-422")
    with pytest.raises(BadRequest):
        api.entries.list(limit=0)
    with pytest.raises(ServerError) as proxy:
        api.entries.list()
    assert (proxy.value.status, proxy.value.code, proxy.value.request_id) == (
        502,
        "unknown",
        "edge-1",
    )
    assert proxy.value.message == "<html>Bad gateway</html>"
    user_agents = {headers["User-Agent"] for _, _, headers in server.seen}
    assert user_agents == {sdk_user_agent()}
    assert server.seen[1][1] == "/api/v1/entries?limit=0"


def sdk_user_agent() -> str:
    from partner_api._runtime import user_agent

    return user_agent(VERSION)


def test_pages_are_followed_to_the_last_and_path_ids_stay_one_segment(script: Any) -> None:
    pages: list[dict[str, Any]] = [
        {"data": [{"id": "a"}, {"id": "b"}], "next_cursor": "c1.x", "has_more": True},
        {"data": [{"id": "c"}], "next_cursor": None, "has_more": False},
    ]
    server = script(*[(200, {}, json.dumps(page | {"skipped": []}).encode()) for page in pages])
    api = api_at(server.url, [])
    assert [e["id"] for e in api.entries.iterate(limit=2, category="food")] == ["a", "b", "c"]
    assert [path for _, path, _ in server.seen] == [
        "/api/v1/entries?limit=2&category=food",
        "/api/v1/entries?limit=2&category=food&cursor=c1.x",
    ]
    with pytest.raises(ValueError, match="exactly one"):
        PartnerApi(server.url)
    api.endpoints.entries_summary(from_="2026-01-01", to="2026-01-31")
    api.events.list(type="entries.created")
    odd = script((200, {}, b"{}"))
    api_at(odd.url, []).entries.get("a/b?c")
    assert odd.seen[0][1] == "/api/v1/entries/a%2Fb%3Fc"
    assert server.seen[-2][1] == "/entriesSummary?from=2026-01-01&to=2026-01-31"


# --- webhooks ------------------------------------------------------------------------------

SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()
OTHER = "whsec_" + base64.b64encode(b"o" * 32).decode()
BODY = json.dumps({"id": "evt_1", "type": "entries.created"}).encode()


def signed(secret: str, message_id: str = "evt_1", at: float | None = None) -> dict[str, str]:
    moment = time.time() if at is None else at
    import datetime as dt

    when = dt.datetime.fromtimestamp(moment, dt.UTC)
    signature = Reference(secret).sign(message_id, when, BODY.decode())
    return {"webhook-id": message_id, "webhook-timestamp": str(int(moment)),
            "webhook-signature": signature}  # fmt: skip


def test_a_delivery_the_reference_library_signed_verifies() -> None:
    event = Webhook(SECRET).verify(BODY, signed(SECRET))
    assert event["id"] == "evt_1"
    both = signed(SECRET)
    both["webhook-signature"] += " " + signed(OTHER)["webhook-signature"]
    assert Webhook(OTHER).verify(BODY, both)["type"] == "entries.created"  # a rotation
    assert Webhook([OTHER, SECRET]).verify(BODY, signed(SECRET))["id"] == "evt_1"


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        ("another secret", WebhookForged),
        ("another body", WebhookForged),
        ("another id", WebhookForged),
        ("no signature", WebhookForged),
        ("an hour old", WebhookStale),
        ("an hour ahead", WebhookStale),
    ],
)
def test_a_forged_or_stale_delivery_is_refused(change: str, refused: type[Exception]) -> None:
    headers = signed(OTHER if change == "another secret" else SECRET)
    body = BODY
    if change == "another body":
        body = BODY.replace(b"created", b"deleted")
    elif change == "another id":
        headers["webhook-id"] = "evt_2"
    elif change == "no signature":
        del headers["webhook-signature"]
    elif change.startswith("an hour"):
        shift = -3600 if change == "an hour old" else 3600
        headers = signed(SECRET, at=time.time() + shift)
    with pytest.raises(refused):
        Webhook(SECRET).verify(body, headers)
    with pytest.raises(WebhookVerificationError):  # the reference agrees
        Reference(SECRET).verify(body, headers)


def test_a_replayed_delivery_is_refused_until_forgotten() -> None:
    hook = Webhook(SECRET)
    headers = signed(SECRET)
    hook.verify(BODY, headers)
    with pytest.raises(WebhookReplayed):
        hook.verify(BODY, headers)
    hook.forget("evt_1")
    assert hook.verify(BODY, headers)["id"] == "evt_1"
    with pytest.raises(ValueError, match="whsec_"):
        Webhook("whsec_not base64!")
