"""Partner API keys: a long-lived, scoped, revocable credential for partners' servers.

    pak_live_3f9k2m7q1x8w4z6c_Zq8...32 characters...k2P9xQ
    ^prefix  ^key id (public)  ^secret (190 bits)  ^checksum (CRC32, 6 characters)

The prefix is fixed and documented so that secret scanners can match it, and names the
key's mode: `pak_live_` reaches the live database, `pak_test_` test mode's (a key's
record keeps its mode, so a live key relabelled `pak_test_` is refused). The key id
names the key's record; the checksum lets a mistyped or truncated key be refused before
any lookup. The record keeps an HMAC of the secret under a salt of
its own, never the secret: the secret is 190 random bits, so even a leaked record cannot
be turned back into a key, and the command-line tool that creates keys needs no server
secret to do it.
"""

from __future__ import annotations

import binascii
import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

LIVE_PREFIX = "pak_live_"
TEST_PREFIX = "pak_test_"
KEY_PREFIXES = (LIVE_PREFIX, TEST_PREFIX)
PREFIXES = {"live": LIVE_PREFIX, "test": TEST_PREFIX}
"""Each mode's prefix."""
KEY_ID_CHARS = 16
SECRET_CHARS = 32
CHECKSUM_CHARS = 6
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_KEY_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_KEY = re.compile(
    r"(pak_(?:live|test)_)"
    rf"([0-9a-z]{{{KEY_ID_CHARS}}})_"
    rf"([0-9A-Za-z]{{{SECRET_CHARS}}})"
    rf"([0-9A-Za-z]{{{CHECKSUM_CHARS}}})"
)
KEY_ID_PATTERN = re.compile(rf"[0-9a-z]{{{KEY_ID_CHARS}}}")


class MalformedKey(ValueError):
    """Not a key of this API: wrong shape or wrong checksum.

    `reason` names which (`key_malformed`, `key_checksum`)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ParsedKey:
    prefix: str
    key_id: str
    secret: str

    @property
    def mode(self) -> str:
        """`live` or `test`, as the prefix says."""
        return "test" if self.prefix == TEST_PREFIX else "live"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key's record: everything about it except the secret."""

    key_id: str
    partner_id: str
    scopes: tuple[str, ...]
    label: str | None
    salt: str
    secret_hash: str
    created_at: dt.datetime
    created_by: str
    hint: str = ""
    expires_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None
    replaced_by: str | None = None
    """The key that replaced this one (`keys roll`): it works until `expires_at`."""
    mode: str = "live"
    """`live` or `test`: the database its calls reach (the prefix it was issued with)."""

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.secret_hash, secret_hash(secret, self.salt))

    def usable_at(self, moment: dt.datetime) -> bool:
        """Neither revoked nor expired at `moment`."""
        return self.refusal_at(moment) is None

    def refusal_at(self, moment: dt.datetime) -> str | None:
        """Why the key is refused at `moment` (`key_revoked`, `key_expired`), or None."""
        if self.revoked_at is not None and self.revoked_at <= moment:
            return "key_revoked"
        if self.expires_at is not None and moment >= self.expires_at:
            return "key_expired"
        return None


def legacy_mode(project_id: str) -> str:
    """The mode of a key recorded before modes: its prefix then followed the project
    (`pak_test_` in `demo-` projects, `pak_live_` in real ones)."""
    return "test" if project_id.startswith("demo-") else "live"


def looks_like_key(credential: str) -> bool:
    """Whether a credential claims to be a key (by its prefix alone, before any check)."""
    return credential.startswith("pak_")


def parse(credential: str) -> ParsedKey:
    """The parts of a key, checked without any lookup.

    Raises:
        MalformedKey: the shape or checksum is wrong.
    """
    match = _KEY.fullmatch(credential)
    if match is None:
        raise MalformedKey("not a key of this API", "key_malformed")
    prefix, key_id, secret, checksum = match.groups()
    if not hmac.compare_digest(checksum, _checksum(prefix + key_id + "_" + secret)):
        raise MalformedKey("the checksum does not match", "key_checksum")
    return ParsedKey(prefix, key_id, secret)


def new_key(mode: str = "live") -> tuple[str, ParsedKey]:
    """A fresh key of `mode` (shown once) and its parts."""
    prefix = PREFIXES[mode]
    key_id = "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(KEY_ID_CHARS))
    secret = "".join(secrets.choice(_BASE62) for _ in range(SECRET_CHARS))
    parts = ParsedKey(prefix, key_id, secret)
    return assemble(parts), parts


def assemble(parts: ParsedKey) -> str:
    """The key of these parts, checksum included (the checksum catches typing errors,
    not forgeries: anyone can compute it)."""
    body = parts.prefix + parts.key_id + "_" + parts.secret
    return body + _checksum(body)


def new_salt() -> str:
    return secrets.token_hex(16)


def secret_hash(secret: str, salt: str) -> str:
    return hmac.new(bytes.fromhex(salt), secret.encode(), hashlib.sha256).hexdigest()


def hint(key: str) -> str:
    """What may be shown of a key after it was created: its last four characters."""
    return "…" + key[-4:]


def _checksum(body: str) -> str:
    value = binascii.crc32(body.encode())
    digits = []
    for _ in range(CHECKSUM_CHARS):
        value, digit = divmod(value, 62)
        digits.append(_BASE62[digit])
    return "".join(reversed(digits))


DURATION = re.compile(r"([1-9][0-9]{0,5})([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


MAX_DURATION_S = 3650 * 86400


def parse_duration(text: str) -> dt.timedelta:
    """`30s`, `15m`, `12h`, `90d`.

    Raises:
        ValueError: anything else.
    """
    match = DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as 30s, 15m, 12h or 90d")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if not 1 <= seconds <= MAX_DURATION_S:
        raise ValueError(f"{text!r}: a duration is 1s to 3650d")
    return dt.timedelta(seconds=seconds)


def normalized_scopes(scopes: Sequence[str], known: frozenset[str]) -> tuple[str, ...]:
    """Sorted, unique scopes.

    Raises:
        ValueError: an unknown scope, or none.
    """
    unknown = sorted(set(scopes) - known)
    if unknown:
        raise ValueError(f"unknown scopes {unknown}; choose from {sorted(known)}")
    if not scopes:
        raise ValueError("give at least one scope")
    return tuple(sorted(set(scopes)))
