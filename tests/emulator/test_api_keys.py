"""Partner API keys end to end: the CLI that manages them, and the gate that accepts them,
on the Firestore emulator through the real functions."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest

from functions import store as firestore
from functions.auth.api_key_auth import ApiKeyAuthenticator
from functions.core import api_keys, config
from functions.core.errors import Unauthorized
from functions.operations.keys import IssuedKey, KeyDirectory
from tests.helpers import (
    PROJECT,
    Api,
    T,
    User,
    assert_error,
    assert_nothing_passed_after,
    cli,
    create,
    entry_body,
    hammer_during,
    log_lines,
    stored_entries,
    tenant_documents,
)


@pytest.fixture(autouse=True)
def partner_records(clean: None) -> None:
    """acme and globex have records: users and keys are only given to known partners."""
    from functions import store

    for partner_id in (T.acme, T.globex):
        store.client().collection("partners").document(partner_id).set({"status": "active"})


@pytest.fixture
def keys(clean: None) -> KeyDirectory:
    return KeyDirectory(PROJECT, firestore.client())


def bearer(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


def issue(keys: KeyDirectory, partner: str | None = None, **options: Any) -> IssuedKey:
    scopes = options.pop("scopes", None)
    return keys.create(partner or T.acme, scopes, **options)


# --- the gate ------------------------------------------------------------------------------


def test_a_key_reads_and_writes_its_own_tenant_only(
    api: Api, keys: KeyDirectory, globex: User, capsys: pytest.CaptureFixture[str]
) -> None:
    issued = issue(keys)
    created = api.post("createEntry", json=entry_body(), headers=bearer(issued.key))
    assert created.status_code == 201, created.get_data(as_text=True)
    entry = created.get_json()
    assert entry["partnerId"] == T.acme
    assert entry["createdBy"] == f"key:{issued.record.key_id}"
    theirs = create(api, globex)
    listed = api.get("fetchData", headers=bearer(issued.key)).get_json()
    assert [e["id"] for e in listed["data"]] == [entry["id"]]
    assert_error(api.get(f"fetchData/{theirs['id']}", headers=bearer(issued.key)), 404)
    updated = api.patch(
        f"updateEntry/{entry['id']}",
        json={"amount": "1.00"},
        headers=bearer(issued.key, **{"If-Match": '"1"'}),
    )
    assert updated.status_code == 200
    logged, records = log_lines(capsys)
    assert issued.key not in logged
    (line,) = [
        r
        for r in records
        if r.get("request_id") == created.headers["X-Request-Id"] and "status" in r
    ]
    assert line["key_id"] == issued.record.key_id
    assert line["partner_id"] == T.acme


def test_a_read_only_key_cannot_create(api: Api, keys: KeyDirectory) -> None:
    reader = issue(keys, scopes=["entries:read"])
    assert api.get("fetchData", headers=bearer(reader.key)).status_code == 200
    response = api.post("createEntry", json=entry_body(), headers=bearer(reader.key))
    error = assert_error(response, 403, "permission_denied")
    assert error["message"] == "This API key lacks the scope(s): entries:write."  # not "user"
    assert stored_entries() == []


def _refused_keys(keys: KeyDirectory) -> dict[str, str]:
    revoked = issue(keys)
    keys.revoke(revoked.record.key_id)
    expired = issue(keys, expires_in="1s")
    rolled = issue(keys)
    keys.roll(rolled.record.key_id, overlap="1s")
    good = issue(keys).key
    body = good[:-6]
    parts = api_keys.parse(good)
    other = "pak_test_" if parts.prefix == "pak_live_" else "pak_live_"
    relabelled = api_keys.assemble(api_keys.ParsedKey(other, parts.key_id, parts.secret))
    unknown, _ = api_keys.new_key()  # well formed, never stored
    time.sleep(1.2)
    return {
        "revoked": revoked.key,
        "expired": expired.key,
        "rolled past its overlap": rolled.key,
        "malformed": "pak_test_short",
        "bad checksum": body + ("AAAAAA" if not body.endswith("AAAAAA") else "BBBBBB"),
        "truncated": good[:-1],
        "another mode's prefix": relabelled,
        "unknown": unknown,
        "wrong secret": good[:26] + "x" * 32 + good[-6:],
    }


def test_every_unusable_key_is_the_same_401(api: Api, keys: KeyDirectory) -> None:
    bodies = {}
    for case, key in _refused_keys(keys).items():
        response = api.get("fetchData", headers=bearer(key))
        error = assert_error(response, 401, "unauthenticated")
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="partner-api"')
        bodies[case] = {**error, "request_id": ""}
    assert len({json.dumps(b, sort_keys=True) for b in bodies.values()}) == 1, bodies


def test_a_rolled_key_works_until_the_overlap_ends(api: Api, keys: KeyDirectory) -> None:
    old = issue(keys, label="billing sync")
    new = keys.roll(old.record.key_id, overlap="2s")
    assert new.record.label == "billing sync"
    assert new.record.partner_id == old.record.partner_id
    assert new.record.scopes == old.record.scopes
    assert api.get("fetchData", headers=bearer(old.key)).status_code == 200
    assert api.get("fetchData", headers=bearer(new.key)).status_code == 200
    time.sleep(2.2)
    assert_error(api.get("fetchData", headers=bearer(old.key)), 401)
    assert api.get("fetchData", headers=bearer(new.key)).status_code == 200


def test_no_call_after_a_revoke_passes(keys: KeyDirectory) -> None:
    issued = issue(keys)
    authenticator = ApiKeyAuthenticator()

    def accepted() -> bool:
        try:
            authenticator.authenticate(issued.key)
        except Unauthorized:
            return False
        return True

    calls = hammer_during(lambda: keys.revoke(issued.record.key_id), accepted)
    assert_nothing_passed_after(calls, "revoke")


def test_no_secret_is_ever_stored(keys: KeyDirectory) -> None:
    issued = issue(keys)
    secret = api_keys.parse(issued.key).secret
    documents = tenant_documents(config.api_keys_collection())
    stored = json.dumps([d.to_dict() for d in documents], default=str)
    assert secret not in stored
    assert issued.key not in stored


def test_last_use_is_written_at_most_once_a_minute(api: Api, keys: KeyDirectory) -> None:
    issued = issue(keys)
    reference = (
        firestore.client().collection(config.api_keys_collection()).document(issued.record.key_id)
    )
    assert reference.get().get("lastUsedAt") is None
    assert api.get("fetchData", headers=bearer(issued.key)).status_code == 200
    first = reference.get()
    assert isinstance(first.get("lastUsedAt"), dt.datetime)
    for _ in range(5):
        assert api.get("fetchData", headers=bearer(issued.key)).status_code == 200
    assert reference.get().update_time == first.update_time, "no write on later calls"


# --- the command-line tool ------------------------------------------------------------------


def test_keys_create_list_show_revoke_roll_through_the_cli(api: Api, clean: None) -> None:
    created = cli(
        "keys",
        "create",
        "--partner",
        T.acme,
        "--scopes",
        "entries:read",
        "--expires-in",
        "90d",
        "--label",
        "ERP sync",
        "--json",
    )
    assert created.returncode == 0, created.stderr
    issued = json.loads(created.stdout)
    assert set(issued) >= {"id", "key", "partnerId", "scopes", "expiresAt", "label"}
    assert issued["partnerId"] == T.acme
    assert issued["scopes"] == ["entries:read"]
    assert issued["label"] == "ERP sync"
    assert issued["expiresAt"] is not None
    key = issued["key"]
    assert api.get("fetchData", headers=bearer(key)).status_code == 200

    listed = cli("keys", "list", "--partner", T.acme, "--json")
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row["id"] == issued["id"]
    assert row["hint"] == "…" + key[-4:]
    assert row["status"] == "active"
    assert row["lastUsedAt"] is not None
    plain = cli("keys", "list")
    secret = api_keys.parse(key).secret
    for output in (listed.stdout, plain.stdout, plain.stderr):
        assert secret not in output
        assert key not in output

    shown = cli("--json", "keys", "show", issued["id"])
    assert json.loads(shown.stdout)["label"] == "ERP sync"

    rolled = cli("keys", "roll", issued["id"], "--overlap", "1h", "--json")
    assert rolled.returncode == 0, rolled.stderr
    new = json.loads(rolled.stdout)
    assert set(new) >= {"id", "key", "partnerId", "scopes", "expiresAt", "label"}
    assert new["id"] != issued["id"]
    assert new["replaced"]["id"] == issued["id"]
    assert new["replaced"]["status"] == "rolling"
    assert api.get("fetchData", headers=bearer(new["key"])).status_code == 200
    old = json.loads(cli("keys", "show", issued["id"], "--json").stdout)
    assert (old["status"], old["replacedBy"]) == ("rolling", new["id"])
    assert (
        f"rolling until {old['expiresAt']} (replaced by {new['id']})"
        in cli("keys", "show", issued["id"]).stdout
    )
    again = cli("keys", "roll", issued["id"])
    assert again.returncode == 1
    assert again.stderr.strip() == (
        f"error: key {issued['id']!r} is already rolling: {new['id']!r} replaced it and it "
        f"stops working at {old['expiresAt']}; roll {new['id']!r} instead"
    )
    assert api.get("fetchData", headers=bearer(key)).status_code == 200  # still in its overlap
    text_roll = cli("keys", "roll", new["id"], "--overlap", "1h")
    assert text_roll.returncode == 0, text_roll.stderr
    assert f"the old key {new['id']} keeps working until " in text_roll.stderr
    new = {**new, "key": text_roll.stdout.strip()}
    new["id"] = api_keys.parse(new["key"]).key_id

    revoked = cli("keys", "revoke", new["id"], "--json", "--yes")
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout)["status"] == "revoked"
    assert_error(api.get("fetchData", headers=bearer(new["key"])), 401)


def test_create_prints_the_key_once_and_only_the_key_on_stdout(clean: None) -> None:
    created = cli("keys", "create", "--partner", T.globex)
    assert created.returncode == 0, created.stderr
    (key,) = created.stdout.split()
    assert api_keys.parse(key).key_id
    assert "only time the key is shown" in created.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("keys", "create", "--partner", "Not Valid"), "malformed"),
        (("keys", "create", "--partner", "{acme}", "--scopes", "root"), "unknown scopes"),
        (("keys", "show", "0123456789abcdef"), "no key"),
        (("keys", "revoke", "0123456789abcdef"), "no key"),
        (("keys", "roll", "0123456789abcdef"), "no key"),
    ],
)
def test_key_refusals_exit_1_with_one_line(
    clean: None, args: tuple[str, ...], message: str
) -> None:
    result = cli(*(word.format(acme=T.acme) for word in args))
    assert result.returncode == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_revoking_twice_and_rolling_a_revoked_key_are_refused(keys: KeyDirectory) -> None:
    issued = issue(keys)
    assert cli("keys", "revoke", issued.record.key_id, "--yes").returncode == 0
    again = cli("keys", "revoke", issued.record.key_id, "--yes")
    assert again.returncode == 1
    assert "already revoked" in again.stderr
    rolled = cli("keys", "roll", issued.record.key_id)
    assert rolled.returncode == 1
    assert "revoked" in rolled.stderr


@pytest.mark.parametrize(
    "args", [("keys",), ("keys", "create"), ("keys", "roll"), ("keys", "frobnicate")]
)
def test_key_usage_errors_exit_2(clean: None, args: tuple[str, ...]) -> None:
    assert cli(*args).returncode == 2


def test_json_works_before_or_after_the_subcommand(acme: User) -> None:
    for args in (
        ("--json", "show", acme.uid),
        ("show", acme.uid, "--json"),
        ("show", "--json", acme.uid),
    ):
        result = cli(*args)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["uid"] == acme.uid
    plain = cli("show", acme.uid)
    with pytest.raises(json.JSONDecodeError):
        json.loads(plain.stdout)


def test_a_damaged_key_record_refuses_its_key_and_never_fails_the_call(
    api: Api, keys: KeyDirectory
) -> None:
    issued = issue(keys)
    firestore.client().collection(config.api_keys_collection()).document(
        issued.record.key_id
    ).update({"createdAt": "yesterday"})
    response = api.get("fetchData", headers=bearer(issued.key))
    assert_error(response, 401, "unauthenticated")
    listed = cli("keys", "list", "--partner", T.acme, "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []


@pytest.mark.parametrize("duration", ["1w", "0s", "forever", "-1d", "99999999999999999d"])
def test_a_bad_duration_is_a_usage_error(clean: None, duration: str) -> None:
    result = cli("keys", "create", "--partner", T.acme, f"--expires-in={duration}")
    assert result.returncode == 2
    assert "duration" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
