"""Webhook endpoints through the API (scope webhooks:write) and the owner's tool: the
signing secret shown once, URLs that could reach us refused, another tenant's endpoint
not found, changes, deletion and the rotation that keeps the old secret signing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests

from functions.domain.webhooks import endpoints as webhooks
from tests.helpers import api_key, cli, function_url

HOOK = "http://127.0.0.1:8765/hook"  # loopback over http: allowed in a demo project only


def tenant() -> str:
    return f"wh-{uuid.uuid4().hex[:10]}"


def key_for(partner_id: str, scopes: str = "webhooks:write") -> str:
    return api_key(partner_id, scopes)


def call(method: str, secret: str, path: str = "", body: Any = None) -> requests.Response:
    return requests.request(
        method,
        function_url("api") + "/v1/webhook_endpoints" + path,
        json=body,
        headers={"Authorization": f"Bearer {secret}"},
        timeout=60,
    )


# --- refusals first ------------------------------------------------------------------------


def test_webhook_endpoints_need_their_scope(clean: None) -> None:
    reader = key_for(tenant(), "entries:read,events:read")
    response = call("POST", reader, body={"url": HOOK})
    assert response.status_code == 403, response.text
    assert "webhooks:write" in response.json()["error"]["message"]
    assert call("GET", reader).status_code == 403


@pytest.mark.parametrize(
    ("body", "field", "said"),
    [
        ({"url": "https://10.0.0.7/hook"}, "url", "not public"),
        ({"url": "https://169.254.169.254/latest"}, "url", "not public"),
        ({"url": "http://93.184.216.34/hook"}, "url", "must be https"),
        ({"url": "https://no-such-host.invalid/hook"}, "url", "does not resolve"),
        ({"url": "https://user:pw@partner.example.com/"}, "url", "user name or password"),
        ({"url": "https://partner.example.com:0/hook"}, "url", "port is not a number"),
        ({"url": "https://partner.example.com/hook#x"}, "url", "fragment"),
        ({"url": "https://[::7f00:1]/hook"}, "url", "not public"),
        ({"url": "https://[::ffff:0:a9fe:a9fe]/hook"}, "url", "not public"),
        ({"url": HOOK, "event_types": ["entries.exploded"]}, "event_types", "unknown event"),
        ({"url": HOOK, "event_types": []}, "event_types", "at least 1"),
        ({"url": HOOK, "colour": "red"}, "colour", "is not a field"),
        ({}, "url", "is required"),
    ],
)
def test_a_bad_endpoint_is_one_422_naming_the_field(
    clean: None, body: dict[str, Any], field: str, said: str
) -> None:
    response = call("POST", key_for(tenant()), body=body)
    assert response.status_code == 422, response.text
    details = {d["field"]: d["message"] for d in response.json()["error"]["details"]}
    assert field in details
    assert said in details[field]


def test_another_tenants_endpoint_is_not_found(clean: None) -> None:
    mine = key_for(tenant())
    made = call("POST", mine, body={"url": HOOK}).json()
    theirs = key_for(tenant())
    for method, body in (("GET", None), ("PATCH", {"status": "disabled"}), ("DELETE", None)):
        response = call(method, theirs, f"/{made['id']}", body)
        assert response.status_code == 404, (method, response.text)
        assert response.json()["error"]["message"] == "No such webhook endpoint."
    assert call("GET", theirs).json() == {"data": []}
    assert call("GET", mine, f"/{made['id']}").json()["status"] == "enabled"


def deliveries(secret: str, path: str = "", **params: Any) -> requests.Response:
    return requests.get(
        function_url("api") + "/v1/webhook_deliveries" + path,
        params=params,
        headers={"Authorization": f"Bearer {secret}"},
        timeout=60,
    )


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("", {"endpoint": "is required"}),
        ("?endpoint=we_x&limit=0", {"limit": "input should be greater than or equal to 1"}),
        ("?endpoint=we_x&limit=101", {"limit": "input should be less than or equal to 100"}),
        ("?endpoint=we_x&endpoint=we_y", {"endpoint": "is given more than once"}),
        ("?endpoint=a%2Fb", {"endpoint": "string should match pattern '^[A-Za-z0-9_-]{1,64}$'"}),
        ("?endpoint=we_x&state=failed", {"state": "is not a query parameter of this endpoint"}),
    ],
)
def test_a_bad_deliveries_query_is_one_422_naming_each_parameter(
    clean: None, query: str, said: dict[str, str]
) -> None:
    response = requests.get(
        function_url("api") + "/v1/webhook_deliveries" + query,
        headers={"Authorization": f"Bearer {key_for(tenant())}"},
        timeout=60,
    )
    assert response.status_code == 422, response.text
    assert {d["field"]: d["message"] for d in response.json()["error"]["details"]} == said


def test_deliveries_need_the_scope_and_an_endpoint_of_ones_own(clean: None) -> None:
    reader = key_for(tenant(), "entries:read,events:read")
    refused = deliveries(reader, endpoint="we_x")
    assert refused.status_code == 403, refused.text
    assert "webhooks:write" in refused.json()["error"]["message"]
    mine = key_for(tenant())
    made = call("POST", mine, body={"url": HOOK}).json()
    assert deliveries(mine, endpoint=made["id"]).json() == {"data": []}
    theirs = deliveries(key_for(tenant()), endpoint=made["id"])
    assert (theirs.status_code, theirs.json()["error"]["message"]) == (
        404, "No such webhook endpoint.",
    )  # fmt: skip
    single = deliveries(mine, "/dlv_0123", limit="2")
    assert single.status_code == 400, single.text


@pytest.mark.parametrize("doc_id", ["__reserved__", "..", "dlv_nosuch"])
def test_ids_firestore_cannot_hold_are_not_found_rather_than_failures(
    clean: None, doc_id: str
) -> None:
    """`__x__`, `.` and `..` are not document ids: asking for them is a plain 404."""
    secret = key_for(tenant(), "webhooks:write,events:read")
    for collection in ("webhook_endpoints", "webhook_deliveries", "events"):
        response = requests.get(
            f"{function_url('api')}/v1/{collection}/{doc_id}",
            headers={"Authorization": f"Bearer {secret}"},
            timeout=60,
        )
        assert response.status_code == 404, (collection, response.text)
    listed = deliveries(secret, endpoint="__reserved__")
    assert listed.status_code == 404, listed.text


def test_a_partner_keeps_at_most_sixteen_endpoints(clean: None) -> None:
    secret = key_for(tenant())
    for _ in range(16):
        assert call("POST", secret, body={"url": HOOK}).status_code == 201
    refused = call("POST", secret, body={"url": HOOK})
    assert refused.status_code == 409, refused.text
    assert "at most 16" in refused.json()["error"]["message"]


# --- the endpoint's life ------------------------------------------------------------------------


def test_create_list_change_and_delete_with_the_secret_shown_once(clean: None) -> None:
    secret = key_for(tenant())
    made = call("POST", secret, body={"url": HOOK, "event_types": ["entries.created"],
                                      "description": "accounting sync"})  # fmt: skip
    assert made.status_code == 201, made.text
    endpoint = made.json()
    assert endpoint["secret"].startswith("whsec_")
    assert (endpoint["url"], endpoint["event_types"], endpoint["status"]) == (
        HOOK, ["entries.created"], "enabled",
    )  # fmt: skip
    assert endpoint["id"].startswith("we_")
    listed = call("GET", secret).json()["data"]
    assert [e["id"] for e in listed] == [endpoint["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in call("GET", secret, f"/{endpoint['id']}").json()
    changed = call("PATCH", secret, f"/{endpoint['id']}",
                   {"event_types": ["*"], "status": "disabled"})  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert (changed.json()["event_types"], changed.json()["status"]) == (["*"], "disabled")
    assert changed.json()["disabled_reason"] == "disabled by the partner"
    enabled = call("PATCH", secret, f"/{endpoint['id']}", {"status": "enabled"}).json()
    assert (enabled["status"], enabled["disabled_reason"]) == ("enabled", None)
    assert call("PATCH", secret, f"/{endpoint['id']}", {}).status_code == 400
    deleted = call("DELETE", secret, f"/{endpoint['id']}")
    assert deleted.json() == {"id": endpoint["id"], "deleted": True}
    assert call("GET", secret, f"/{endpoint['id']}").status_code == 404


def test_the_owner_manages_any_partners_endpoints_from_the_tool(clean: None) -> None:
    partner_id = tenant()
    assert cli("partner", "add", partner_id).returncode == 0
    added = cli("--json", "webhooks", "add", "--partner", partner_id, "--url", HOOK,
                "--events", "entries.created,entries.updated")  # fmt: skip
    assert added.returncode == 0, added.stderr
    endpoint = json.loads(added.stdout)
    assert endpoint["secret"].startswith("whsec_")
    shown = json.loads(cli("--json", "webhooks", "show", endpoint["id"]).stdout)
    assert "secret" not in shown
    assert shown["event_types"] == ["entries.created", "entries.updated"]
    listed = json.loads(cli("--json", "webhooks", "list", "--partner", partner_id).stdout)
    assert [e["id"] for e in listed] == [endpoint["id"]]
    disabled = cli("--json", "webhooks", "disable", endpoint["id"], "--reason", "receiver moved")
    assert json.loads(disabled.stdout)["disabled_reason"] == "receiver moved"
    enabled = cli("--json", "webhooks", "enable", endpoint["id"])
    assert json.loads(enabled.stdout)["status"] == "enabled"
    rotated = json.loads(cli("--json", "webhooks", "rotate-secret", endpoint["id"]).stdout)
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != endpoint["secret"]
    stored = webhooks.endpoint(endpoint["id"])
    now = stored.updated_at
    assert stored.signing_secrets(now) == (rotated["secret"], endpoint["secret"])
    later = now + webhooks.ROTATION_OVERLAP
    assert stored.signing_secrets(later) == (rotated["secret"],)
    refused = cli("webhooks", "add", "--partner", partner_id, "--url", "https://10.1.1.1/")
    assert refused.returncode == 1
    assert "not public" in refused.stderr
    missing = cli("webhooks", "show", "we_nosuch")
    assert (missing.returncode, missing.stderr.strip()) == (1, "error: No such webhook endpoint.")
    removed = cli("webhooks", "delete", endpoint["id"], "--yes")
    assert removed.returncode == 0, removed.stderr
    assert json.loads(cli("--json", "webhooks", "list", "--partner", partner_id).stdout) == []
