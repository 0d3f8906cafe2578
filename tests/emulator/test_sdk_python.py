"""The Python SDK (sdk/python, generated from openapi.json) against the running
functions: every operation of every resource and the owner's endpoint, iteration across
pages, a create whose answer is lost after its commit (a 503, a cut connection) and still
leaves one record, a 429 waited out, typed errors with request ids, a 412 retried, and
webhook verification of real deliveries from the Cloud Tasks emulator, with forged,
stale and replayed ones refused."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from google.cloud.firestore import FieldFilter
from partner_api import VERSION as SDK_VERSION
from partner_api import (
    Conflict,
    EntryCreate,
    NotFound,
    PartnerApi,
    PermissionDenied,
    PreconditionFailed,
    RateLimited,
    ServiceUnavailable,
    Unauthenticated,
    ValidationFailed,
    Webhook,
    WebhookForged,
    WebhookReplayed,
    WebhookStale,
)

from devtools import sdk
from functions import store
from functions.contract import catalog, openapi
from tests.emulator.sdk_rig import LosingProxy, base_url, sdk_partner
from tests.emulator.test_console import new_owner, signed_in
from tests.emulator.test_webhook_delivery import Receiver
from tests.helpers import (
    CONSOLE,
    ROOT,
    cli,
    entry_body,
    function_url,
    stored_entries,
)

OWNER_APP = ROOT / "tests" / "emulator" / "owner_app" / "main.py"

pytestmark = pytest.mark.emulators

WAIT_S = 120.0
HOOK = "http://127.0.0.1:9/hook"  # nothing listens; no event is sent in the test


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def client(key: str, **options: Any) -> PartnerApi:
    return PartnerApi(base_url(), api_key=key, **options)


def new_entry(**overrides: Any) -> EntryCreate:
    return cast(EntryCreate, entry_body(**overrides))


# --- refusals first --------------------------------------------------------------------------


def test_errors_are_typed_and_carry_the_request_id_and_field_issues(clean: None) -> None:
    _, key = sdk_partner()
    with client("pak_test_" + "x" * 40) as wrong, pytest.raises(Unauthenticated) as refused:
        wrong.entries.list()
    assert (refused.value.status, refused.value.code) == (401, "unauthenticated")
    assert refused.value.request_id
    assert refused.value.request_id in str(refused.value)
    _, reader = sdk_partner("entries:read")
    with client(reader) as api, pytest.raises(PermissionDenied) as denied:
        api.entries.create(new_entry())
    assert "entries:write" in denied.value.message
    with client(key) as api:
        with pytest.raises(NotFound) as missing:
            api.entries.get("no-such-entry")
        assert missing.value.request_id == missing.value.headers["x-request-id"]
        with pytest.raises(ValidationFailed) as invalid:
            api.entries.create(new_entry(amount="12.345", currency="euro"))
        fields = {issue["field"] for issue in invalid.value.issues}
        assert fields == {"amount", "currency"}, invalid.value.issues
        assert invalid.value.status == 422
        api.entries.create(new_entry(), idempotency_key="order-1")
        with pytest.raises(Conflict):  # one key, another body
            api.entries.create(new_entry(amount="1.00"), idempotency_key="order-1")
        assert api.transport.retries == 0  # none of these is sent twice


def test_a_lost_answer_is_retried_with_its_idempotency_key_and_writes_once(clean: None) -> None:
    for mode in ("503", "cut"):
        partner_id, key = sdk_partner()
        proxy = LosingProxy(base_url(), mode)
        try:
            with PartnerApi(proxy.url, api_key=key) as api:
                created = api.entries.create(new_entry(description=f"lost {mode}"))
                assert api.transport.retries == 1, mode
        finally:
            proxy.close()
        (sent_key,) = proxy.forwarded
        assert proxy.forwarded[sent_key] == 2, mode  # the first try and one retry
        assert sent_key.startswith("sdk_")
        assert json.loads(proxy.lost[0])["id"] == created["id"]  # the lost answer's record
        stored = stored_entries(partner_id)
        assert [e["id"] for e in stored] == [created["id"]], mode


def test_a_write_without_an_idempotency_key_is_not_sent_again_after_a_lost_answer(
    clean: None,
) -> None:
    _, key = sdk_partner()
    proxy = LosingProxy(base_url(), "503")
    try:
        with PartnerApi(proxy.url, api_key=key) as api:
            assert api.webhook_endpoints.list()["data"] == []  # reads pass the proxy
            with pytest.raises(ServiceUnavailable) as lost:
                api.webhook_endpoints.create({"url": HOOK})
            assert (lost.value.request_id, api.transport.retries) == ("proxy-lost-answer", 0)
    finally:
        proxy.close()
    assert json.loads(proxy.lost[0])["url"] == HOOK  # the functions made it
    with client(key) as api:
        made = api.webhook_endpoints.list()["data"]
    assert [e["url"] for e in made] == [HOOK]  # once


def test_a_rate_limited_call_waits_for_retry_after_then_passes(clean: None) -> None:
    partner_id, key = sdk_partner()
    limited = cli("partner", "limits", partner_id, "--rate", "0.25", "--burst", "1")
    assert limited.returncode == 0, limited.stderr
    waits: list[float] = []
    with client(key, max_retries=0) as impatient:
        impatient.entries.list(limit=1)
        with pytest.raises(RateLimited) as refused:
            impatient.entries.list(limit=1)
    assert refused.value.retry_after is not None
    assert 0 < refused.value.retry_after <= 5  # one token in 4 s: slow calls still meet it
    assert refused.value.request_id

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    with client(key) as api:
        api.transport._sleep = sleep
        started = time.monotonic()
        for _ in range(3):
            api.entries.list(limit=1)
        elapsed = time.monotonic() - started
    assert api.transport.retries == len(waits) >= 2
    assert all(w >= 0.5 for w in waits), waits  # Retry-After, not the short backoff
    assert elapsed >= sum(waits) * 0.9


# --- every operation ------------------------------------------------------------------------


def test_every_entries_operation_and_iteration_across_pages(clean: None) -> None:
    partner_id, key = sdk_partner()
    with client(key) as api:
        made = [
            api.entries.create(new_entry(description=f"e{n}", date=f"2026-04-{n + 1:02d}"))
            for n in range(23)
        ]
        first = api.entries.list(limit=10)
        assert len(first["data"]) == 10
        assert first["has_more"]
        assert first["next_cursor"]
        every = list(api.entries.iterate(limit=10))
        assert [e["id"] for e in every] == [e["id"] for e in made]
        window = list(api.entries.iterate(limit=5, date_from="2026-04-05", date_to="2026-04-09"))
        assert [e["description"] for e in window] == [f"e{n}" for n in range(4, 9)]
        one = api.entries.get(made[0]["id"])
        assert one == made[0]
        tagged = api.entries.get_with_etag(made[0]["id"])
        assert (tagged.record, tagged.etag) == (made[0], '"1"')
        changed = api.entries.update(made[0]["id"], {"amount": "9.99"}, if_match=tagged.etag)
        assert (changed["amount"], changed["version"]) == ("9.99", 2)
        with pytest.raises(PreconditionFailed):
            api.entries.update(made[0]["id"], {"amount": "1.00"}, if_match=tagged.etag)
        summary = api.endpoints.entries_summary(from_="2026-04-01", to="2026-04-30")
        assert summary["entries"] == 23
        assert api.transport.retries == 0
    assert len(stored_entries(partner_id)) == 23


def test_a_partner_user_calls_with_a_function_that_returns_a_fresh_id_token(
    clean: None, partner: Any
) -> None:
    user = partner("sdk-user")
    asked: list[int] = []

    def token() -> str:
        asked.append(1)
        return str(user.token)

    with PartnerApi(base_url(), id_token=token) as api:
        made = api.entries.create(new_entry(description="by a user"))
        assert api.entries.get(made["id"])["createdBy"] == user.uid
        assert [e["id"] for e in api.entries.iterate()] == [made["id"]]
    assert len(asked) == 3  # asked again for every request, so a refreshed token is used
    with pytest.raises(ValueError, match="exactly one"):
        PartnerApi(base_url(), api_key="pak_test_x", id_token=token)


def test_modify_reads_again_after_a_412_and_applies_the_change_once(clean: None) -> None:
    _, key = sdk_partner()
    with client(key) as api, client(key) as other:
        record = api.entries.create(new_entry(amount="10.00"))
        seen: list[int] = []

        def add_one(current: Any) -> Any:
            seen.append(current["version"])
            if len(seen) == 1:  # another writer comes first, between the read and the write
                other.entries.modify(record["id"], lambda r: {"description": "by another"})
            return {"amount": f"{float(current['amount']) + 1:.2f}"}

        done = api.entries.modify(record["id"], add_one)
    assert seen == [1, 2]
    assert (done["amount"], done["description"], done["version"]) == ("11.00", "by another", 3)


def test_webhooks_events_and_deliveries_through_the_sdk_verify_real_deliveries(
    clean: None, receiver: Receiver
) -> None:
    _, key = sdk_partner()
    with client(key) as api:
        endpoint = api.webhook_endpoints.create(
            {"url": receiver.url, "event_types": ["entries.created"], "description": "sdk"}
        )
        secret = endpoint["secret"]
        assert secret is not None
        assert secret.startswith("whsec_")
        assert [e["id"] for e in api.webhook_endpoints.list()["data"]] == [endpoint["id"]]
        assert "secret" not in api.webhook_endpoints.get(endpoint["id"])  # shown once
        created = api.entries.create(new_entry())
        headers, body = receiver.wait_for(1, WAIT_S)[0]
        hook = Webhook(secret)
        event = hook.verify(body, headers)
        assert (event["type"], event["record_id"]) == ("entries.created", created["id"])
        with pytest.raises(WebhookReplayed):
            hook.verify(body, headers)
        with pytest.raises(WebhookForged):
            Webhook(secret).verify(body.replace(b"entries.created", b"entries.deleted"), headers)
        with pytest.raises(WebhookStale):
            Webhook(secret, clock=lambda: time.time() + 3600).verify(body, headers)
        events = list(api.events.iterate(type="entries.created"))
        assert [e["id"] for e in events] == [event["id"]]
        assert api.events.get(event["id"]) == events[0]

        test_sent = api.webhook_endpoints.send_test(endpoint["id"], {})
        test_headers, test_body = receiver.wait_for(2, WAIT_S)[1]
        tested = Webhook(secret).verify(test_body, test_headers)
        assert tested["type"] == test_sent["type"] == "entries.test"
        assert tested["id"] == test_sent["event_id"]

        rotated = api.webhook_endpoints.rotate_secret(endpoint["id"], {"overlap_hours": 1})
        assert rotated["secret"] is not None
        assert rotated["secret"] != secret
        deliveries = api.webhook_deliveries.list(endpoint=endpoint["id"])["data"]
        first = next(d for d in deliveries if d["event_id"] == event["id"])
        assert api.webhook_deliveries.get(first["id"])["event_id"] == event["id"]
        api.webhook_deliveries.resend(first["id"])
        again_headers, again_body = receiver.wait_for(3, WAIT_S)[2]
        both = Webhook([rotated["secret"], secret])
        assert both.verify(again_body, again_headers)["id"] == event["id"]  # signed with each
        assert Webhook(rotated["secret"]).verify(again_body, again_headers)["id"] == event["id"]
        paused = api.webhook_endpoints.update(endpoint["id"], {"status": "disabled"})
        assert paused["status"] == "disabled"
        gone = api.webhook_endpoints.delete(endpoint["id"])
        assert gone["deleted"] is True
        with pytest.raises(NotFound):
            api.webhook_endpoints.get(endpoint["id"])


def test_the_user_agent_names_the_sdk_and_the_usage_counts_it(clean: None) -> None:
    partner_id, key = sdk_partner()
    with client(key) as api:
        assert api.transport.user_agent.startswith(f"partner-api-python/{SDK_VERSION} (python 3.")
        for _ in range(3):
            api.entries.list(limit=1)
    httpx.get(
        base_url() + "/api/v1/entries", headers={"Authorization": f"Bearer {key}"}, timeout=60
    )
    deadline = time.monotonic() + 60
    while True:
        (today,) = json.loads(cli("--json", "usage", "--partner", partner_id, "--days", "1").stdout)
        if today["calls"] >= 4 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert today["calls"] == 4
    assert today["sdks"] == {f"python/{SDK_VERSION}": 3}  # the bare call is not an SDK's
    browser = signed_in(*new_owner())
    page = browser.get(function_url(CONSOLE) + f"/partners/{partner_id}", timeout=60)
    assert page.status_code == 200, page.text
    assert f"<tr><td>python/{SDK_VERSION}</td><td>3</td></tr>" in page.text
    quiet_id, _ = sdk_partner()
    quiet = browser.get(function_url(CONSOLE) + f"/partners/{quiet_id}", timeout=60)
    assert "No calls from the partner SDKs in these days" in quiet.text


OWNER_SCRIPT = """
import json, sys
from partner_api import NotFound, PartnerApi

base, losing, key = sys.argv[1:4]
with PartnerApi(losing, api_key=key) as api:
    placed = api.endpoints.place_order({"item": "Espresso beans", "quantity": 3})
    retries = api.transport.retries
with PartnerApi(base, api_key=key) as api:
    got = api.endpoints.get_order(id=placed["id"])
    try:
        api.endpoints.get_order(id="0" * 32)
        missing = None
    except NotFound as exc:
        missing = exc.code
print(json.dumps({"placed": placed, "got": got, "retries": retries, "missing": missing}))
"""


def test_an_owner_endpoint_of_the_test_codebase_is_an_sdk_method_with_safe_retries(
    clean: None, tmp_path: Path
) -> None:
    """The SDK generated from a contract with the test codebase's endpoints: an idempotent
    endpoint (placeOrder) gets a generated Idempotency-Key, so a lost answer is retried
    and one order is placed; a read (getOrder) takes its query as keyword arguments."""
    from functions.resources import declaration

    spec = importlib.util.spec_from_file_location("owner_app_for_sdk", OWNER_APP)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        contract = openapi.build(
            declaration.load(declaration.path()), endpoints=catalog.registered()
        )
        partner_id, key = sdk_partner("orders:read,orders:write")
    finally:
        for name in ("placeOrder", "getOrder", "brokenReport"):
            catalog.unregister(name)
    copy = tmp_path / "sdk"
    shutil.copytree(ROOT / "sdk", copy, ignore=shutil.ignore_patterns("__pycache__", "build"))
    sdk.write(contract, copy)
    operations = (copy / "python/src/partner_api/_operations.py").read_text()
    assert "def place_order(" in operations
    assert "idempotency_key: str | None = None" in operations
    assert "async placeOrder(body: NewOrder" in (copy / "typescript/src/operations.ts").read_text()
    proxy = LosingProxy(base_url(), "503")
    try:
        ran = subprocess.run(
            [sys.executable, "-c", OWNER_SCRIPT, base_url(), proxy.url, key],
            env={**os.environ, "PYTHONPATH": str(copy / "python" / "src")},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        proxy.close()
    assert ran.returncode == 0, ran.stderr
    shown = json.loads(ran.stdout)
    assert shown["retries"] == 1
    assert shown["got"] == shown["placed"]
    assert shown["placed"]["partner"] == partner_id
    assert shown["missing"] == "not_found"
    (sent_key,) = proxy.forwarded
    assert (sent_key[:4], proxy.forwarded[sent_key]) == ("sdk_", 2)
    placed = (
        store.client()
        .collection("ownerOrders")
        .where(filter=FieldFilter("partner", "==", partner_id))
    )
    assert [d.id for d in placed.stream()] == [shown["placed"]["id"]]  # one order


def readme_block(language: str) -> str:
    """The README's SDK flow in `language` (the block after "The same integration three
    ways")."""
    text = (ROOT / "README.md").read_text()
    start = text.index("The same integration three ways")
    fence = f"```{language}\n"
    begin = text.index(fence, start) + len(fence)
    return text[begin : text.index("```", begin)]


def test_the_readme_python_flow_runs_as_written(clean: None, receiver: Receiver) -> None:
    partner_id, key = sdk_partner()
    with client(key) as api:
        secret = api.webhook_endpoints.create({"url": receiver.url})["secret"]
        api.entries.create(new_entry(description="before the flow"))
    headers, body = receiver.wait_for(1, WAIT_S)[0]
    scope: dict[str, Any] = {
        "BASE": base_url(),
        "KEY": key,
        "SECRET": secret,
        "request_body": body,
        "request_headers": headers,
    }
    exec(readme_block("python"), scope)  # noqa: S102 - the README's own lines
    assert scope["event"]["type"] == "entries.created"
    made = scope["made"]
    stored = {e["id"]: e for e in stored_entries(partner_id)}
    assert len(stored) == 2  # the one before, and the flow's create, once
    assert stored[made["id"]]["version"] == 2  # modified once
    with client(key) as api:
        assert api.entries.get(made["id"])["amount"] == "13.00"
