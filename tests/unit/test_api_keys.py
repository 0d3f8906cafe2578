"""The partner API key format: prefixes and modes, checksums, hashes, lifetimes."""

from __future__ import annotations

import datetime as dt

import pytest

from functions.core import api_keys
from functions.core.api_keys import ApiKey, MalformedKey


def test_a_new_key_has_the_documented_shape_and_parses_back() -> None:
    key, parts = api_keys.new_key("test")
    assert key.startswith("pak_test_")
    assert len(key) == 9 + 16 + 1 + 32 + 6
    assert api_keys.parse(key) == parts
    live, _ = api_keys.new_key("live")
    assert live.startswith("pak_live_")
    assert api_keys.hint(key) == "…" + key[-4:]


def test_keys_are_random() -> None:
    made = {api_keys.new_key("test")[0] for _ in range(200)}
    assert len(made) == 200
    assert len({key[9:25] for key in made}) == 200, "key ids differ too"


@pytest.mark.parametrize("where", range(9, 64))
def test_any_mistyped_character_fails_the_checksum(where: int) -> None:
    key, _ = api_keys.new_key("test")
    replacement = "0" if key[where] != "0" else "1"
    if key[where] == "_":
        replacement = "x"
    typo = key[:where] + replacement + key[where + 1 :]
    with pytest.raises(MalformedKey):
        api_keys.parse(typo)


@pytest.mark.parametrize("cut", [1, 6, 20, 40])
def test_a_truncated_or_padded_key_is_refused(cut: int) -> None:
    key, _ = api_keys.new_key("test")
    for broken in (key[:-cut], key + "x" * cut, " " + key):
        with pytest.raises(MalformedKey):
            api_keys.parse(broken)


def test_the_prefix_names_the_mode_in_any_project() -> None:
    test_key, _ = api_keys.new_key("test")
    live_key, _ = api_keys.new_key("live")
    assert (api_keys.parse(test_key).mode, api_keys.parse(live_key).mode) == ("test", "live")
    assert api_keys.parse(test_key).prefix == "pak_test_"
    with pytest.raises(KeyError):
        api_keys.new_key("staging")


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
    _, parts = api_keys.new_key("test")
    record = _record(parts.secret)
    assert parts.secret not in repr(record)
    assert record.matches(parts.secret)
    other_last = "y" if parts.secret.endswith("x") else "x"  # one character off, always
    assert not record.matches(parts.secret[:-1] + other_last)
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


# --- the numbers and reasons around each verdict --------------------------------------------


def test_each_malformed_key_names_its_reason_and_message() -> None:
    key, _ = api_keys.new_key("test")
    typo = key[:-1] + ("0" if key[-1] != "0" else "1")
    cases = [
        ("pak_test_short", "key_malformed", "not a key of this API"),
        (typo, "key_checksum", "the checksum does not match"),
    ]
    for credential, reason, message in cases:
        with pytest.raises(MalformedKey) as caught:
            api_keys.parse(credential)
        assert caught.value.reason == reason
        assert str(caught.value) == message


def test_the_checksum_is_crc32_in_six_base62_digits() -> None:
    body = "pak_test_" + "a" * 16 + "_" + "B" * 32
    import binascii

    value = binascii.crc32(body.encode())
    digits = ""
    for _ in range(6):
        value, digit = divmod(value, 62)
        digits = api_keys._BASE62[digit] + digits
    assert api_keys._checksum(body) == digits
    assert api_keys._checksum("") == "000000"
    assert api_keys.parse(body + digits) == api_keys.ParsedKey("pak_test_", "a" * 16, "B" * 32)
    with pytest.raises(MalformedKey):  # the prefix is under the checksum
        api_keys.parse(body.replace("pak_test_", "pak_live_") + digits)


def test_key_ids_are_lowercase_base36_and_secrets_base62() -> None:
    ids, secrets = set(), set()
    for _ in range(300):
        _, parts = api_keys.new_key("test")
        assert api_keys.KEY_ID_PATTERN.fullmatch(parts.key_id)
        assert len(parts.secret) == 32
        ids |= set(parts.key_id)
        secrets |= set(parts.secret)
    assert ids == set("0123456789abcdefghijklmnopqrstuvwxyz")
    assert secrets == set(api_keys._BASE62)


def test_prefixes_and_what_looks_like_a_key() -> None:
    assert api_keys.PREFIXES == {"live": "pak_live_", "test": "pak_test_"}
    # a key recorded before modes kept the prefix its project gave it
    assert api_keys.legacy_mode("demo-x") == "test"
    assert api_keys.legacy_mode("acme") == "live"
    assert api_keys.legacy_mode("my-demo-x") == "live", "demo- is a prefix, not a part"
    assert api_keys.looks_like_key("pak_anything")
    assert not api_keys.looks_like_key("eyJhbGciOi.pak_")
    assert not api_keys.looks_like_key("PAK_test_")


def test_the_secret_hash_is_hmac_sha256_keyed_by_the_salt() -> None:
    import hashlib
    import hmac

    salt = "00" * 16
    assert api_keys.secret_hash("s", salt) == hmac.new(bytes(16), b"s", hashlib.sha256).hexdigest()
    assert len(api_keys.new_salt()) == 32
    assert bytes.fromhex(api_keys.new_salt())
    assert api_keys.new_salt() != api_keys.new_salt()


def test_why_a_key_is_refused_at_a_moment() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    second = dt.timedelta(seconds=1)
    assert _record("s").refusal_at(now) is None
    assert _record("s", revoked_at=now).refusal_at(now) == "key_revoked"
    assert _record("s", revoked_at=now - second).refusal_at(now) == "key_revoked"
    assert _record("s", revoked_at=now + second).refusal_at(now) is None
    assert _record("s", expires_at=now).refusal_at(now) == "key_expired"
    assert _record("s", expires_at=now + second).refusal_at(now) is None
    both = _record("s", revoked_at=now, expires_at=now)
    assert both.refusal_at(now) == "key_revoked", "a revoke is the reason that outlives expiry"


def test_duration_bounds_and_messages() -> None:
    assert api_keys.parse_duration("1s") == dt.timedelta(seconds=1)
    assert api_keys.parse_duration(" 30s ") == dt.timedelta(seconds=30)
    assert api_keys.parse_duration("3650d") == dt.timedelta(days=3650)
    assert api_keys.parse_duration("999999s") == dt.timedelta(seconds=999999)
    with pytest.raises(ValueError, match=r"^'3651d': a duration is 1s to 3650d$"):
        api_keys.parse_duration("3651d")
    with pytest.raises(ValueError, match=r"^'1w' is not a duration such as 30s, 15m, 12h or 90d$"):
        api_keys.parse_duration("1w")
    with pytest.raises(ValueError, match="not a duration"):
        api_keys.parse_duration("1000000s")


def test_scopes_are_sorted_unique_and_known() -> None:
    known = frozenset({"a:read", "b:write", "c:read"})
    assert api_keys.normalized_scopes(["c:read", "a:read", "c:read"], known) == (
        "a:read",
        "c:read",
    )
    with pytest.raises(ValueError, match="unknown scopes") as unknown:
        api_keys.normalized_scopes(["a:read", "z:x", "y:x"], known)
    assert str(unknown.value) == (
        "unknown scopes ['y:x', 'z:x']; choose from ['a:read', 'b:write', 'c:read']"
    )
    with pytest.raises(ValueError, match=r"^give at least one scope$"):
        api_keys.normalized_scopes([], known)
