"""The partner API key format: prefixes, checksums, environments, hashes, lifetimes."""

from __future__ import annotations

import datetime as dt

import pytest

from functions import api_keys
from functions.api_keys import ApiKey, MalformedKey

DEMO = "demo-partner-api"
LIVE = "acme-accounting"


def test_a_new_key_has_the_documented_shape_and_parses_back() -> None:
    key, parts = api_keys.new_key(DEMO)
    assert key.startswith("pak_test_")
    assert len(key) == 9 + 16 + 1 + 32 + 6
    assert api_keys.parse(key, DEMO) == parts
    live, _ = api_keys.new_key(LIVE)
    assert live.startswith("pak_live_")
    assert api_keys.hint(key) == "…" + key[-4:]


def test_keys_are_random() -> None:
    made = {api_keys.new_key(DEMO)[0] for _ in range(200)}
    assert len(made) == 200
    assert len({key[9:25] for key in made}) == 200, "key ids differ too"


@pytest.mark.parametrize("where", range(9, 64))
def test_any_mistyped_character_fails_the_checksum(where: int) -> None:
    key, _ = api_keys.new_key(DEMO)
    replacement = "0" if key[where] != "0" else "1"
    if key[where] == "_":
        replacement = "x"
    typo = key[:where] + replacement + key[where + 1 :]
    with pytest.raises(MalformedKey):
        api_keys.parse(typo, DEMO)


@pytest.mark.parametrize("cut", [1, 6, 20, 40])
def test_a_truncated_or_padded_key_is_refused(cut: int) -> None:
    key, _ = api_keys.new_key(DEMO)
    for broken in (key[:-cut], key + "x" * cut, " " + key):
        with pytest.raises(MalformedKey):
            api_keys.parse(broken, DEMO)


def test_each_environment_refuses_the_others_keys() -> None:
    test_key, _ = api_keys.new_key(DEMO)
    live_key, _ = api_keys.new_key(LIVE)
    with pytest.raises(MalformedKey, match="other environment"):
        api_keys.parse(test_key, LIVE)
    with pytest.raises(MalformedKey, match="other environment"):
        api_keys.parse(live_key, DEMO)


def _record(secret: str, **changes: object) -> ApiKey:
    salt = api_keys.new_salt()
    now = dt.datetime.now(dt.UTC)
    fields: dict[str, object] = {
        "key_id": "k" * 16,
        "partner_id": "acme",
        "scopes": ("entries:read",),
        "label": None,
        "salt": salt,
        "secret_hash": api_keys.secret_hash(secret, salt),
        "created_at": now,
        "created_by": "cli:test",
        **changes,
    }
    return ApiKey(**fields)  # type: ignore[arg-type]


def test_the_record_holds_a_salted_hash_never_the_secret() -> None:
    _, parts = api_keys.new_key(DEMO)
    record = _record(parts.secret)
    assert parts.secret not in repr(record)
    assert record.matches(parts.secret)
    assert not record.matches(parts.secret[:-1] + "x")
    other = _record(parts.secret)
    assert other.secret_hash != record.secret_hash, "salts differ"


def test_a_key_is_usable_until_revoked_or_expired() -> None:
    now = dt.datetime.now(dt.UTC)
    assert _record("s").usable_at(now)
    assert not _record("s", revoked_at=now).usable_at(now)
    assert _record("s", revoked_at=now + dt.timedelta(hours=1)).usable_at(now)
    assert not _record("s", expires_at=now).usable_at(now)
    assert _record("s", expires_at=now + dt.timedelta(seconds=1)).usable_at(now)


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("15m", 900), ("12h", 43200), ("90d", 7776000)]
)
def test_durations(text: str, seconds: int) -> None:
    assert api_keys.parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "0s", "10", "1w", "-1d", "1.5h", "1000000d"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        api_keys.parse_duration(text)
