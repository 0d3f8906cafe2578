"""One setting, FUNCTIONS_REGION, places every function, trigger and task queue: `make
test` runs these on its second stack, served in europe-west1 (the first serves the
default, us-central1), so an HTTPS call, a Firestore trigger's event and a Cloud Tasks
delivery all go through the other region, and nothing answers in the default one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests

from functions.core import config
from tests.corpus import VALID
from tests.emulator.test_events import owner_write
from tests.emulator.test_webhook_delivery import (
    Receiver,
    bearer,
    partner_with_endpoint,
    verified,
)
from tests.helpers import PROJECT, REGION, entry_body, function_url

pytestmark = pytest.mark.empty_database  # on the second stack, in europe-west1


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def elsewhere() -> str:
    return "europe-west1" if REGION == config.DEFAULT_REGION else config.DEFAULT_REGION


def test_the_functions_answer_in_their_region_only(clean: None) -> None:
    assert function_url("health").endswith(f"/{PROJECT}/{REGION}/health")
    assert requests.get(function_url("health"), timeout=60).status_code == 200
    other = function_url("health").replace(f"/{REGION}/", f"/{elsewhere()}/")
    assert requests.get(other, timeout=60).status_code == 404
    served = requests.get(function_url("openapi"), timeout=60).json()
    assert {s["variables"]["region"]["default"] for s in served["servers"]} == {REGION}


def test_a_trigger_and_the_task_queue_deliver_in_that_region(
    clean: None, receiver: Receiver
) -> None:
    partner_id, key, _, secret = partner_with_endpoint(receiver.url)
    created = requests.post(
        function_url("createEntry"), json=entry_body(), headers=bearer(key), timeout=60
    )
    assert created.status_code == 201, created.text
    owner_write(f"app-{uuid.uuid4().hex[:8]}", {**VALID["minimal"], "partnerId": partner_id})
    delivered = [verified(secret, d) for d in receiver.wait_for(2)]
    assert sorted((d["type"], d["writer"]) for d in delivered) == [
        ("entries.created", "api"),  # the API's event, delivered by the task queue
        ("entries.created", "app"),  # entriesChanged's event: the trigger ran there too
    ]
    assert {d["partner_id"] for d in delivered} == {partner_id}
