"""Partners serve their own webhooks through the API (scope webhooks:write): rotate an
endpoint's secret with an overlap, send it a signed test event, resend a delivery. Real
deliveries from the Cloud Tasks emulator to a receiver on loopback, verified with
Standard Webhooks (PyPI `standardwebhooks`)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from standardwebhooks import Webhook, WebhookVerificationError

from tests.emulator.test_webhook_delivery import Receiver, bearer, partner_with_endpoint, verified
from tests.helpers import api_key, entry_body, function_url

WAIT_S = 120.0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def post(key: str, path: str, body: Any = None, *, raw: bytes | None = None) -> requests.Response:
    return requests.post(
        function_url("api") + path,
        json=body if raw is None else None,
        data=raw,
        headers=bearer(key),
        timeout=60,
    )


def deliveries(key: str, endpoint_id: str) -> list[dict[str, Any]]:
    found = requests.get(
        function_url("api") + f"/v1/webhook_deliveries?endpoint={endpoint_id}",
        headers=bearer(key),
        timeout=60,
    )
    assert found.status_code == 200, found.text
    return list(found.json()["data"])


def recorded(key: str, endpoint_id: str, delivery_id: str, attempts: int) -> dict[str, Any]:
    """The delivery once its record holds `attempts` attempts (the record is written after
    the receiver answered, so it may trail the delivery a moment)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        found = {d["id"]: d for d in deliveries(key, endpoint_id)}.get(delivery_id)
        if found is not None and len(found["attempts"]) >= attempts:
            return found
        assert time.monotonic() < deadline, f"{delivery_id}: {found}"
        time.sleep(0.5)


# --- refusals first ------------------------------------------------------------------------


def test_the_actions_need_the_scope_and_an_endpoint_of_ones_own(clean: None) -> None:
    partner_id, key, endpoint_id, _ = partner_with_endpoint("http://127.0.0.1:9/hook")
    reader = api_key(partner_id, "entries:read")
    for action in ("rotate_secret", "send_test"):
        refused = post(reader, f"/v1/webhook_endpoints/{endpoint_id}/{action}", {})
        assert refused.status_code == 403, refused.text
        assert "webhooks:write" in refused.json()["error"]["message"]
    _, _other, theirs, _ = partner_with_endpoint("http://127.0.0.1:9/hook")
    for path in ("rotate_secret", "send_test"):
        missing = post(key, f"/v1/webhook_endpoints/{theirs}/{path}", {})
        assert missing.status_code == 404, missing.text
    gone = post(key, "/v1/webhook_deliveries/dlv_" + "0" * 32 + "/resend")
    assert gone.status_code == 404, gone.text
    entries_action = post(key, "/v1/entries/x/resend")
    assert entries_action.status_code == 404  # an action only webhook records have
    wrong_method = requests.get(
        function_url("api") + f"/v1/webhook_endpoints/{endpoint_id}/rotate_secret",
        headers=bearer(key),
        timeout=60,
    )
    assert (wrong_method.status_code, wrong_method.headers["Allow"]) == (405, "POST")


@pytest.mark.parametrize(
    ("action", "body", "field", "said"),
    [
        ("rotate_secret", {"overlap_hours": 169}, "overlap_hours", "less than or equal to 168"),
        ("rotate_secret", {"overlap_hours": -1}, "overlap_hours", "greater than or equal to 0"),
        ("rotate_secret", {"overlap": 1}, "overlap", "is not a field"),
        ("send_test", {"resource": "ledgers"}, "resource", "choose a resource: entries"),
    ],
)
def test_a_bad_action_body_is_one_422_naming_the_field(
    clean: None, action: str, body: dict[str, Any], field: str, said: str
) -> None:
    _, key, endpoint_id, _ = partner_with_endpoint("http://127.0.0.1:9/hook")
    response = post(key, f"/v1/webhook_endpoints/{endpoint_id}/{action}", body)
    assert response.status_code == 422, response.text
    details = {d["field"]: d["message"] for d in response.json()["error"]["details"]}
    assert said in details[field]


def test_a_disabled_endpoint_gets_no_test_and_a_resend_takes_no_body(clean: None) -> None:
    _, key, endpoint_id, _ = partner_with_endpoint("http://127.0.0.1:9/hook")
    disabled = requests.patch(
        function_url("api") + f"/v1/webhook_endpoints/{endpoint_id}",
        json={"status": "disabled"},
        headers=bearer(key),
        timeout=60,
    )
    assert disabled.status_code == 200, disabled.text
    refused = post(key, f"/v1/webhook_endpoints/{endpoint_id}/send_test", {})
    assert refused.status_code == 409, refused.text
    with_body = post(key, "/v1/webhook_deliveries/dlv_" + "0" * 32 + "/resend", raw=b"{}")
    assert with_body.status_code == 400


# --- what they do ----------------------------------------------------------------------------


def test_a_test_event_arrives_signed_is_listed_as_a_delivery_and_cannot_be_resent(
    clean: None, receiver: Receiver
) -> None:
    _, key, endpoint_id, secret = partner_with_endpoint(receiver.url, events="entries.created")
    sent = post(key, f"/v1/webhook_endpoints/{endpoint_id}/send_test", {})
    assert sent.status_code == 202, sent.text
    answer = sent.json()
    assert answer["type"] == "entries.test"  # whatever types the endpoint takes
    (delivered,) = receiver.wait_for(1, WAIT_S)
    event = verified(secret, delivered)
    assert (event["id"], event["type"], event["data"], event["writer"]) == (
        answer["event_id"], "entries.test", {}, "test",
    )  # fmt: skip
    listed = recorded(key, endpoint_id, answer["delivery_id"], attempts=1)
    assert (listed["state"], listed["event_id"]) == ("delivered", answer["event_id"])
    events = requests.get(function_url("api") + "/v1/events", headers=bearer(key), timeout=60)
    assert answer["event_id"] not in [e["id"] for e in events.json()["data"]]
    again = post(key, f"/v1/webhook_deliveries/{answer['delivery_id']}/resend")
    assert again.status_code == 409, again.text


def test_a_resend_delivers_the_same_event_again_in_the_same_delivery(
    clean: None, receiver: Receiver
) -> None:
    _, key, endpoint_id, secret = partner_with_endpoint(receiver.url)
    created = requests.post(
        function_url("createEntry"), json=entry_body(), headers=bearer(key), timeout=60
    )
    assert created.status_code == 201, created.text
    first = verified(secret, receiver.wait_for(1, WAIT_S)[0])
    (listed,) = deliveries(key, endpoint_id)
    delivery = recorded(key, endpoint_id, listed["id"], attempts=1)
    resent = post(key, f"/v1/webhook_deliveries/{delivery['id']}/resend")
    assert (resent.status_code, resent.json()) == (202, {"id": delivery["id"], "resent": True})
    second = verified(secret, receiver.wait_for(2, WAIT_S)[1])
    assert second == first  # the same event, the same id: a receiver deduplicates it
    record = recorded(key, endpoint_id, delivery["id"], attempts=2)
    assert [a["status"] for a in record["attempts"]] == [204, 204]


def test_a_rotation_signs_with_both_secrets_for_the_overlap_then_the_new_one_only(
    clean: None, receiver: Receiver
) -> None:
    _, key, endpoint_id, old = partner_with_endpoint(receiver.url)
    rotated = post(key, f"/v1/webhook_endpoints/{endpoint_id}/rotate_secret", {})
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new.startswith("whsec_")
    assert new != old
    assert (
        "secret"
        not in requests.get(
            function_url("api") + f"/v1/webhook_endpoints/{endpoint_id}",
            headers=bearer(key),
            timeout=60,
        ).json()
    )  # shown in the rotation's answer only
    post(key, f"/v1/webhook_endpoints/{endpoint_id}/send_test", {})
    during = receiver.wait_for(1, WAIT_S)[0]
    assert verified(new, during)["type"] == "entries.test"
    assert verified(old, during)["type"] == "entries.test"  # the overlap: both sign
    at_once = post(key, f"/v1/webhook_endpoints/{endpoint_id}/rotate_secret", {"overlap_hours": 0})
    newest = at_once.json()["secret"]
    post(key, f"/v1/webhook_endpoints/{endpoint_id}/send_test", {})
    after = receiver.wait_for(2, WAIT_S)[1]
    assert verified(newest, after)["type"] == "entries.test"
    for retired in (old, new):
        headers, body = after
        with pytest.raises(WebhookVerificationError):
            Webhook(retired).verify(body, headers)
    assert json.loads(after[1])["id"] != json.loads(during[1])["id"]
