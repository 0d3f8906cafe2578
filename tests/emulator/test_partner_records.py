"""Partners as records: suspension, rate limits and daily quotas (shared by serving
processes, with their failure rule), and the audit trail of every write."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from devtools.functions_server import serve_function
from functions import store
from functions.core.limits import Gate
from functions.edge import wiring
from functions.operations.keys import KeyDirectory
from functions.store.limits import FirestoreLeases
from tests.emulator.rest import create_doc, get_doc
from tests.helpers import (
    OWNER_OPERATION,
    PROJECT,
    Api,
    Blackhole,
    T,
    User,
    UserFactory,
    assert_error,
    cli,
    create,
    entry_body,
    log_lines,
    tenant_documents,
)


def set_partner(partner_id: str, **fields: Any) -> None:
    store.client().collection("partners").document(partner_id).set(
        {"status": "active", **fields}, merge=True
    )


def audit_records(partner_id: str | None = None) -> list[dict[str, Any]]:
    """API audit records (the owner's actions are `test_console`'s)."""
    found = [d.to_dict() or {} for d in tenant_documents("partnerAudit")]
    return [
        r
        for r in found
        if (partner_id is None or r["partnerId"] == partner_id)
        and not r["operation"].startswith(OWNER_OPERATION)
    ]


@pytest.fixture(autouse=True)
def fresh_limits(clean: None) -> Iterator[None]:
    """Each test starts with no leased tokens in this process (the store was wiped)."""
    wiring.limits_gate.cache_clear()
    yield
    wiring.limits_gate.cache_clear()


@pytest.fixture
def acme_key(clean: None) -> str:
    return KeyDirectory(PROJECT, store.client()).create(T.acme, None).key


# --- suspension --------------------------------------------------------------------------------


def test_a_suspended_partners_users_and_keys_get_403_on_the_next_call(
    api: Api, acme: User, acme_key: str, globex: User
) -> None:
    set_partner(T.acme)
    key = {"Authorization": f"Bearer {acme_key}"}
    assert api.get("fetchData", headers=acme.headers()).status_code == 200
    assert api.get("fetchData", headers=key).status_code == 200
    suspended = cli("partner", "suspend", T.acme, "--yes")
    assert suspended.returncode == 0, suspended.stderr
    for headers in (acme.headers(), key):
        error = assert_error(api.get("fetchData", headers=headers), 403, "partner_suspended")
        assert "suspended" in error["message"]
    assert api.get("fetchData", headers=globex.headers()).status_code == 200
    assert cli("partner", "resume", T.acme).returncode == 0
    assert api.get("fetchData", headers=acme.headers()).status_code == 200
    assert api.get("fetchData", headers=key).status_code == 200


def test_a_partner_without_a_record_is_active_and_a_garbled_one_is_suspended(
    api: Api, acme: User
) -> None:
    assert api.get("fetchData", headers=acme.headers()).status_code == 200  # no record
    store.client().collection("partners").document(T.acme).set({"status": "on holiday"})
    assert_error(api.get("fetchData", headers=acme.headers()), 403, "partner_suspended")


def test_clients_never_read_or_write_partner_limit_or_audit_documents(api: Api, acme: User) -> None:
    set_partner(T.acme)
    create(api, acme)
    for collection in ("partners", "partnerAudit", "partnerLimits"):
        documents = [  # this test's: named after its tenant, or holding it
            d
            for d in store.client().collection(collection).stream()
            if T.acme in d.id or (d.to_dict() or {}).get("partnerId") == T.acme
        ]
        assert documents, collection
        path = f"{collection}/{documents[0].id}"
        assert get_doc(acme.token, path).status_code == 403
        assert get_doc(None, path).status_code == 403
        written = create_doc(acme.token, "mine", {"partnerId": T.acme}, collection=collection)
        assert written.status_code == 403, collection


# --- rate limits and quotas --------------------------------------------------------------------


def test_over_its_rate_a_partner_gets_429_with_retry_after_and_ratelimit_headers(
    api: Api, acme: User, globex: User
) -> None:
    set_partner(T.acme, limits={"ratePerSecond": 1, "burst": 4})
    answers = [api.get("fetchData", headers=acme.headers()) for _ in range(8)]
    statuses = [a.status_code for a in answers]
    assert statuses.count(200) <= 5  # the burst, and at most one refill
    refused = next(a for a in answers if a.status_code == 429)
    assert_error(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 3
    for answer in (answers[0], refused):
        assert answer.headers["RateLimit-Policy"] == '"partner";q=4;w=4'
        assert answer.headers["RateLimit"].startswith('"partner";r=')
    assert refused.headers["RateLimit"].startswith('"partner";r=0;')
    assert api.get("fetchData", headers=globex.headers()).status_code == 200
    time.sleep(int(refused.headers["Retry-After"]))
    assert api.get("fetchData", headers=acme.headers()).status_code == 200


def test_the_daily_quota_counts_created_records_only(api: Api, acme: User) -> None:
    set_partner(T.acme, limits={"dailyCreates": 2})
    key = {"Idempotency-Key": "first"}
    first = api.post("createEntry", json=entry_body(), headers=acme.headers(**key))
    assert first.status_code == 201
    assert '"creates";q=2;w=86400' in first.headers["RateLimit-Policy"]
    replay = api.post("createEntry", json=entry_body(), headers=acme.headers(**key))
    assert replay.status_code == 201  # a replay creates nothing: no permit spent
    invalid = api.post("createEntry", json=entry_body(amount="x"), headers=acme.headers())
    assert invalid.status_code == 422  # nothing created: no permit spent
    assert api.post("createEntry", json=entry_body(), headers=acme.headers()).status_code == 201
    over = api.post("createEntry", json=entry_body(), headers=acme.headers())
    assert_error(over, 429, "quota_exceeded")
    midnight = dt.datetime.combine(dt.datetime.now(dt.UTC).date(), dt.time(), dt.UTC)
    until = (midnight + dt.timedelta(days=1) - dt.datetime.now(dt.UTC)).total_seconds()
    assert abs(int(over.headers["Retry-After"]) - until) < 5
    assert api.get("fetchData", headers=acme.headers()).status_code == 200  # reads go on


@pytest.mark.parametrize(
    "limits",
    [
        {"ratePerSecond": 1e-320},
        {"ratePerSecond": float("-inf")},
        {"ratePerSecond": float("nan"), "burst": 10**18},
        {"burst": "many", "dailyCreates": -5},
        {"dailyCreates": 1e300},
        "not a map",
    ],
)
def test_limits_out_of_range_in_a_record_are_ignored_never_a_500(
    api: Api, acme: User, capsys: pytest.CaptureFixture[str], limits: Any
) -> None:
    set_partner(T.acme, limits=limits)
    read = api.get("fetchData", headers=acme.headers())
    assert read.status_code == 200, read.get_data(as_text=True)
    assert read.headers["RateLimit-Policy"] == '"partner";q=100;w=4'  # the defaults
    assert api.post("createEntry", json=entry_body(), headers=acme.headers()).status_code == 201
    if isinstance(limits, dict):
        logged, _ = log_lines(capsys)
        assert "partner_limits_invalid" in logged


def test_a_poisoned_bucket_document_delays_by_one_refill_and_is_read_again(
    api: Api, acme: User
) -> None:
    set_partner(T.acme, limits={"ratePerSecond": 2, "burst": 4})
    buckets = store.client().collection("partnerLimits")
    buckets.document(f"rate:{T.acme}").set({"tokens": -1e308, "at": dt.datetime.now(dt.UTC)})
    refused = api.get("fetchData", headers=acme.headers())
    assert_error(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 2  # the bucket's refill time: 4 / 2 s
    buckets.document(f"rate:{T.acme}").set({"tokens": 4, "at": dt.datetime.now(dt.UTC)})
    time.sleep(int(refused.headers["Retry-After"]))
    assert api.get("fetchData", headers=acme.headers()).status_code == 200


@pytest.mark.parametrize("edit", ["delete", -3, 2.5, "seven"])
def test_an_edited_quota_document_is_rebuilt_from_the_audit_trail(
    api: Api, acme: User, edit: Any
) -> None:
    set_partner(T.acme, limits={"dailyCreates": 4})
    for _ in range(2):
        assert api.post("createEntry", json=entry_body(), headers=acme.headers()).status_code == 201
    day = dt.datetime.now(dt.UTC).date().isoformat()
    quota = store.client().collection("partnerLimits").document(f"quota:{T.acme}:{day}")
    assert quota.get().exists
    if edit == "delete":
        quota.delete()
    else:
        quota.set({"used": edit}, merge=True)
    wiring.limits_gate.cache_clear()  # another instance, with no permits in hand
    statuses = [
        api.post("createEntry", json=entry_body(), headers=acme.headers()).status_code
        for _ in range(3)
    ]
    assert statuses == [201, 201, 429]  # 2 before + 2 after = the quota of 4, never more
    assert (quota.get().to_dict() or {})["used"] == 4


def test_two_serving_processes_share_one_partners_limit(acme: User) -> None:
    set_partner(T.acme, limits={"ratePerSecond": 5, "burst": 10})
    with serve_function("fetchData") as first, serve_function("fetchData") as second:
        started = time.monotonic()

        def call(index: int) -> int:
            url = first if index % 2 else second
            return requests.get(url, headers=acme.headers(), timeout=30).status_code

        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(call, range(60)))
        elapsed = time.monotonic() - started
    assert set(statuses) <= {200, 429}
    assert statuses.count(429) > 0
    assert statuses.count(200) <= 10 + 5 * elapsed + 1


def test_when_the_limits_cannot_be_read_leased_tokens_serve_then_503(
    api: Api, acme: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_partner(T.acme, limits={"ratePerSecond": 100, "burst": 100})
    leases = FirestoreLeases()
    gate = Gate.over(leases)
    monkeypatch.setattr(wiring, "limits_gate", lambda *_: gate)
    assert api.get("fetchData", headers=acme.headers()).status_code == 200  # leases a chunk
    with Blackhole() as blackhole:
        monkeypatch.setenv("FIRESTORE_TIMEOUT_S", "0.5")
        monkeypatch.setattr(leases, "_database", _client_at(blackhole.host, monkeypatch))
        statuses = [api.get("fetchData", headers=acme.headers()).status_code for _ in range(12)]
    assert statuses[:9] == [200] * 9  # the rest of the first lease (a chunk of 10)
    started = time.monotonic()
    with Blackhole() as blackhole:
        monkeypatch.setattr(leases, "_database", _client_at(blackhole.host, monkeypatch))
        refused = api.get("fetchData", headers=acme.headers())
    assert time.monotonic() - started < 5
    error = assert_error(refused, 503, "unavailable")
    assert "limits" in error["message"]
    assert refused.headers["Retry-After"]


def _client_at(host: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    from google.cloud import firestore

    real = os.environ["FIRESTORE_EMULATOR_HOST"]
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", host)
    database = firestore.Client(project=PROJECT)
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", real)
    return database


# --- the audit trail ---------------------------------------------------------------------------


def test_every_write_has_one_audit_record_and_refused_writes_none(
    api: Api, acme: User, acme_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    key = {"Authorization": f"Bearer {acme_key}"}
    created = api.post(
        "createEntry",
        json=entry_body(category="food"),
        headers=acme.headers(**{"Idempotency-Key": "k1"}),
    ).get_json()
    api.post(
        "createEntry",
        json=entry_body(category="food"),
        headers=acme.headers(**{"Idempotency-Key": "k1"}),
    )
    changed = api.patch(
        f"updateEntry/{created['id']}",
        json={"amount": "9.99", "reference": None},
        headers={**key, "If-Match": '"1"'},
    )
    assert changed.status_code == 200
    capsys.readouterr()
    refusals = [
        api.post("createEntry", json=entry_body(amount="x"), headers=acme.headers()),
        api.patch(
            f"updateEntry/{created['id']}", json={"amount": "1"}, headers={**key, "If-Match": '"1"'}
        ),
        api.post(
            "createEntry",
            json=entry_body(date="2026-12-12"),
            headers=acme.headers(**{"Idempotency-Key": "k1"}),
        ),
    ]
    assert [r.status_code for r in refusals] == [422, 412, 409]
    _, lines = log_lines(capsys)
    requests_logged = [line for line in lines if line.get("httpRequest")]
    assert [line["status"] for line in requests_logged] == [422, 412, 409]
    assert all(line["outcome"] == "rejected" for line in requests_logged)

    trail = sorted(audit_records(T.acme), key=lambda r: r["at"])
    assert [r["operation"] for r in trail] == ["create", "replay", "update"]
    made, replayed, update = trail
    assert made["actor"] == acme.uid
    assert made["credential"] == "user"
    assert (made["recordId"], made["versionBefore"], made["versionAfter"]) == (
        created["id"],
        None,
        1,
    )
    assert made["fields"] == ["amount", "category", "currency", "date", "description"]
    assert replayed["recordId"] == created["id"]
    assert update["actor"].startswith("key:")
    assert update["credential"] == "key"
    assert (update["versionBefore"], update["versionAfter"]) == (1, 2)
    assert update["fields"] == ["amount", "reference"]
    assert update["requestId"] == changed.headers["X-Request-Id"]
    retention = update["expiresAt"] - update["at"]
    assert retention == dt.timedelta(days=400)


def test_the_audit_command_prints_the_trail(api: Api, acme: User) -> None:
    set_partner(T.acme)
    first = create(api, acme)
    create(api, acme)
    listed = cli("--json", "audit", "--partner", T.acme)
    assert listed.returncode == 0, listed.stderr
    records = json.loads(listed.stdout)
    assert [r["operation"] for r in records] == ["create", "create"]
    one = json.loads(cli("audit", "--partner", T.acme, "--entry", first["id"], "--json").stdout)
    assert [r["recordId"] for r in one] == [first["id"]]
    tomorrow = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
    assert json.loads(cli("--json", "audit", "--partner", T.acme, "--since", tomorrow).stdout) == []
    text = cli("audit", "--partner", T.acme).stdout.splitlines()
    assert len(text) == 3
    assert text[0] == "AT\tOPERATION\tRECORD\tVERSIONS\tFIELDS\tACTOR\tREQUEST"
    assert "entries/" in text[1]
    bad = cli("audit", "--partner", T.acme, "--since", "yesterday")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "error: --since 'yesterday' is not a day such as 2026-11-01"
    ]


# --- the partner commands ----------------------------------------------------------------------


@pytest.mark.empty_database  # `partner list` lists every partner
def test_partner_commands_and_their_errors(make_user: UserFactory) -> None:
    added = cli("--json", "partner", "add", T.acme, "--name", "Acme Foods", "--rate", "5")
    assert added.returncode == 0, added.stderr
    shown = json.loads(added.stdout)
    assert (shown["id"], shown["status"], shown["displayName"]) == (T.acme, "active", "Acme Foods")
    assert shown["limits"]["ratePerSecond"] == 5
    assert shown["overrides"] == {"ratePerSecond": 5.0}
    again = cli("partner", "add", T.acme)
    assert (again.returncode, again.stderr.strip()) == (
        1,
        f"error: partner '{T.acme}' already exists",
    )
    limits = json.loads(cli("--json", "partner", "limits", T.acme, "--daily-creates", "7").stdout)
    assert limits["overrides"] == {"ratePerSecond": 5.0, "dailyCreates": 7}
    assert (
        json.loads(cli("--json", "partner", "suspend", T.acme, "--yes").stdout)["status"]
        == "suspended"
    )
    listed = json.loads(cli("--json", "partner", "list").stdout)
    assert [(p["id"], p["status"]) for p in listed] == [(T.acme, "suspended")]
    user = make_user({})
    refused = cli("grant", user.uid, "--partner", T.globex)
    assert refused.returncode == 1
    assert f"no partner '{T.globex}'" in refused.stderr
    assert "--create-partner" in refused.stderr
    assert cli("keys", "create", "--partner", T.globex).returncode == 1
    assert cli("grant", user.uid, "--partner", T.globex, "--create-partner").returncode == 0
    assert json.loads(cli("--json", "partner", "show", T.globex).stdout)["status"] == "active"
    for args, message, code in (
        (("partner", "suspend", "nobody"), "no partner 'nobody'", 1),
        (("partner", "add", "Bad Id"), "malformed", 1),
        (("partner", "limits", T.acme, "--rate", "0"), "--rate must be 0.01 to 10000", 2),
        (("partner", "limits", T.acme, "--rate", "1e-320"), "--rate must be 0.01 to 10000", 2),
        (("partner", "limits", T.acme), "give at least one of", 1),
    ):
        result = cli(*args)
        assert result.returncode == code, args
        assert message in result.stderr, (args, result.stderr)


def test_leases_that_conflict_are_retried_until_the_deadline_never_given_up(
    emulator_hosts: dict[str, str],
) -> None:
    from functions.core.limits import LimitsUnavailable

    leases = FirestoreLeases()
    outcomes: list[str] = []

    def lease(_: int) -> None:
        try:
            taken = leases.lease_tokens("contended", 1, 1000.0, 100_000, 1)[0]
            outcomes.append("taken" if taken else "empty")
        except LimitsUnavailable:
            outcomes.append("unavailable")

    with ThreadPoolExecutor(4) as pool:  # four instances leasing one bucket back to back
        list(pool.map(lease, range(120)))
    assert outcomes.count("unavailable") == 0  # was 4 attempts, then a 503 while healthy
    assert outcomes.count("taken") == 120


def test_a_replay_is_never_refused_by_a_spent_quota(api: Api, acme: User) -> None:
    set_partner(T.acme, limits={"dailyCreates": 1})
    key = {"Idempotency-Key": "only-one"}
    first = api.post("createEntry", json=entry_body(), headers=acme.headers(**key))
    assert first.status_code == 201
    assert_error(api.post("createEntry", json=entry_body(), headers=acme.headers()), 429)
    other_key = {"Idempotency-Key": "a-new-one"}
    fresh = api.post("createEntry", json=entry_body(), headers=acme.headers(**other_key))
    assert_error(fresh, 429, "quota_exceeded")  # a new key would create: refused
    replay = api.post("createEntry", json=entry_body(), headers=acme.headers(**key))
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == first.get_json()
    assert len(tenant_documents("entries")) == 1
