"""Requests to typed values: bodies, query strings and header grammars.

Everything a client sends is parsed here, before any data is touched, into the values
the domain takes (a validated model, a list query with its position, an expected
version, an idempotency key) or refused with a 4xx that names what is wrong.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final, TypeVar

from flask import Request
from pydantic import BaseModel, ValidationError

from functions.auth import Caller
from functions.core import config, cursor
from functions.core.errors import (
    BadRequest,
    FieldIssue,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from functions.core.models import (
    EVENTS_MAX_PAGE_SIZE,
    EVENTS_PAGE_SIZE,
    IDEMPOTENCY_KEY_PATTERN,
    Bounds,
    EventsQuery,
    ListQuery,
    Position,
    Revision,
)
from functions.resources import kinds
from functions.resources.declaration import MAX_EXPAND, Resource

REQUEST_ID_HEADER = "X-Request-Id"
FORWARDED_FOR_HEADER = "X-Forwarded-For"
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
"""Set to "true" on an answer replayed for an Idempotency-Key."""
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
_SDK_AGENT = re.compile(r"partner-api-(python|typescript)/([0-9]{1,4}[.][0-9]{1,4}[.][0-9]{1,4})\b")
_PATH_ID = re.compile(r"/?([^/]*)/?")
_IF_MATCH = re.compile(r'"?(?:([0-9]{1,12})|w([0-9]{1,21}))"?')
MAX_CREDENTIAL_CHARS = 8192
_UTF8: Final = "utf-8"


def sdk_of(user_agent: str | None) -> str | None:
    """The partner SDK and version a User-Agent names (`python/1.0.0`), or None: what the
    console shows of which SDKs a partner runs. Any other agent is not counted."""
    found = _SDK_AGENT.match(user_agent or "")
    return f"{found[1]}/{found[2]}" if found else None


def request_id(request: Request) -> str:
    """The caller's X-Request-Id when well formed, or a new one."""
    incoming = request.headers.get(REQUEST_ID_HEADER)
    return (
        incoming if incoming is not None and _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    )


def forwarded_address(request: Request) -> str | None:
    """The caller's address as Google's front end saw it: the last entry it appended to
    X-Forwarded-For (entries before it are the client's own words, never trusted); None
    where no front end is in between (local runs)."""
    forwarded = request.headers.get(FORWARDED_FOR_HEADER)
    if forwarded is None:
        return None
    last = forwarded.split(",")[-1].strip()
    if last and len(last) <= 45 and all(c in _ADDRESS_CHARS for c in last):
        return last
    return None


def client_address(request: Request) -> str | None:
    """`forwarded_address`, or the socket's peer where there is no front end."""
    return forwarded_address(request) or request.remote_addr


_ADDRESS_CHARS = frozenset("0123456789abcdefABCDEF.:")


def bearer_credential(header: str | None) -> str:
    """The credential of an `Authorization: Bearer <credential>` header.

    Raises:
        Unauthorized: the header is missing, uses another scheme or is malformed.
    """
    if not header:
        raise Unauthorized(
            "Send 'Authorization: Bearer <API key or Firebase ID token>'.",
            token_given=False,
            reason="no_credential",
        )
    scheme, _, credential = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized(
            "Use the Bearer scheme with an API key or a Firebase ID token.",
            token_given=False,
            reason="not_bearer",
        )
    credential = credential.strip()
    if not credential or len(credential) > MAX_CREDENTIAL_CHARS:
        raise Unauthorized("The bearer credential is malformed.", reason="malformed_credential")
    return credential


def path_id(request: Request) -> str | None:
    """The single sub-path segment (`fetchData/<id>` arrives as path "/<id>"), if any.

    Raises:
        BadRequest: the path has more than one segment.
    """
    match = _PATH_ID.fullmatch(request.path)
    if not match:
        raise BadRequest("The path takes at most one segment: the record's id.")
    return match.group(1) or None


def expected_revision(header: str | None, item: str = "record") -> Revision:
    """The revision an `If-Match` header bases a change on: an ETag as read (such as "3",
    or "w..." for a record without a version), or a bare version number such as 3.

    Raises:
        PreconditionRequired: no If-Match.
        PreconditionFailed: a weak ETag, which never matches.
        BadRequest: an If-Match that is neither an ETag nor a version of this API.
    """
    if header is None or not header.strip():
        raise PreconditionRequired()
    if header.strip().startswith("W/"):
        raise PreconditionFailed(
            "If-Match compares strong ETags only (RFC 9110): a weak ETag (W/...) never "
            'matches. Send the ETag as read, such as "3".'
        )
    match = _IF_MATCH.fullmatch(header.strip())
    if not match:
        raise BadRequest(
            f'If-Match must be the {item}\'s ETag as read (such as "3") or its version number.',
            details=[{"field": "If-Match", "message": "is malformed"}],
        )
    version, written = match.groups()
    if version is not None:
        return Revision(version=int(version))
    return Revision(written_ns=int(written))


def idempotency_key(header: str | None) -> str | None:
    """The Idempotency-Key, if sent.

    Raises:
        BadRequest: the key is not 1 to 255 visible ASCII characters.
    """
    if header is None:
        return None
    if not IDEMPOTENCY_KEY_PATTERN.fullmatch(header):
        raise BadRequest(
            "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            details=[{"field": "Idempotency-Key", "message": "is malformed"}],
        )
    return header


def list_query(resource: Resource, params: Mapping[str, list[str]], caller: Caller) -> ListQuery:
    """A list call's query string, with its cursor resolved to a position.

    Raises:
        BadRequest: naming each unknown, repeated or invalid parameter; or one answer for
            every unusable cursor (altered, or issued for another partner or query).
    """
    known = resource.query_params()
    issues: list[FieldIssue] = []
    values: dict[str, str] = {}
    for name, given in params.items():
        if name not in known:
            issues.append({"field": name, "message": "is not a query parameter of this list"})
        elif len(given) != 1:
            issues.append({"field": name, "message": "may be given once"})
        else:
            values[name] = given[0]
    limit = resource.page_size
    if "limit" in values:
        raw = values["limit"]
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= resource.max_page_size:
            issues.append({"field": "limit", "message": f"must be 1 to {resource.max_page_size}"})
        else:
            limit = int(raw)
    equals: list[tuple[str, object]] = []
    for name in resource.filters:
        if name in values:
            try:
                equals.append((name, kinds.query_value(resource.field(name), values[name])))
            except ValueError as exc:
                issues.append({"field": name, "message": str(exc)})
    bounds = _bounds(resource, values, issues)
    fields: frozenset[str] | None = None
    if "fields" in values:
        names = [name.strip(" ") for name in values["fields"].split(",")]
        unknown = sorted({name for name in names if name not in resource.wire_fields})
        if unknown:
            shown = ", ".join(name if name else "(empty)" for name in unknown)
            issues.append({"field": "fields", "message": f"unknown fields: {shown}"[:200]})
        fields = frozenset(names)
    if "cursor" in values and not 1 <= len(values["cursor"]) <= cursor.MAX_CHARS:
        issues.append({"field": "cursor", "message": "is not a cursor of this API"})
    expand = _expand(resource, values.get("expand"), issues)
    if issues:
        raise BadRequest("Some query parameters are invalid.", details=issues)
    query = ListQuery(
        limit=limit, equals=tuple(equals), bounds=bounds, fields=fields, expand=expand
    )
    if "cursor" not in values:
        return query
    raw_position = cursor.decode(
        values["cursor"],
        partner_id=caller.partner_id,
        query_fingerprint=query.fingerprint(resource.name),
    )
    kinds_of_keys = tuple(kind for _, kind in resource.order_keys(bounds.field if bounds else None))
    try:
        after = Position.from_values(raw_position, kinds=kinds_of_keys)
    except ValueError as exc:
        raise cursor.invalid_cursor() from exc
    return ListQuery(
        limit=query.limit,
        after=after,
        equals=query.equals,
        bounds=bounds,
        fields=fields,
        expand=expand,
    )


def record_query(resource: Resource, params: Mapping[str, list[str]]) -> tuple[str, ...]:
    """What a GET of one record may ask: the fields to expand.

    Raises: BadRequest for any other parameter, or a field that cannot be expanded."""
    issues: list[FieldIssue] = []
    for name, given in params.items():
        if name != "expand" or not resource.expandable:
            raise BadRequest(
                f"Query parameters apply to lists, not to a single {resource.item}"
                + (" (but for expand)." if resource.expandable else ".")
            )
        if len(given) != 1:
            issues.append({"field": name, "message": "may be given once"})
    raw = params.get("expand", [None])[0]
    expand = _expand(resource, raw, issues)
    if issues:
        raise BadRequest("Some query parameters are invalid.", details=issues)
    return expand


def _expand(resource: Resource, raw: str | None, issues: list[FieldIssue]) -> tuple[str, ...]:
    """The fields `expand` names, each an expandable reference field, at most MAX_EXPAND."""
    if raw is None:
        return ()
    names = [name.strip(" ") for name in raw.split(",")]
    allowed = {name for name, _ in resource.expandable}
    unknown = sorted({name for name in names if name not in allowed})
    if unknown:
        shown = ", ".join(name if name else "(empty)" for name in unknown)
        issues.append({"field": "expand", "message": f"cannot expand: {shown}"[:200]})
    elif len(set(names)) > MAX_EXPAND:
        issues.append({"field": "expand", "message": f"at most {MAX_EXPAND} fields"})
    return tuple(dict.fromkeys(names))


EVENTS_QUERY_PARAMS = ("limit", "cursor", "type")


def events_query(
    params: Mapping[str, list[str]], caller: Caller, types: tuple[str, ...]
) -> EventsQuery:
    """The query string of the events list (`types`: the event types that exist).

    Raises:
        BadRequest: naming each unknown, repeated or invalid parameter; or one answer for
            every unusable cursor.
    """
    issues: list[FieldIssue] = []
    values: dict[str, str] = {}
    for name, given in params.items():
        if name not in EVENTS_QUERY_PARAMS:
            issues.append({"field": name, "message": "is not a query parameter of this list"})
        elif len(given) != 1:
            issues.append({"field": name, "message": "may be given once"})
        else:
            values[name] = given[0]
    limit = EVENTS_PAGE_SIZE
    if "limit" in values:
        raw = values["limit"]
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= EVENTS_MAX_PAGE_SIZE:
            issues.append({"field": "limit", "message": f"must be 1 to {EVENTS_MAX_PAGE_SIZE}"})
        else:
            limit = int(raw)
    event_type = values.get("type")
    if event_type is not None and event_type not in types:
        issues.append({"field": "type", "message": "is not an event type of this API"})
    if "cursor" in values and not 1 <= len(values["cursor"]) <= cursor.MAX_CHARS:
        issues.append({"field": "cursor", "message": "is not a cursor of this API"})
    if issues:
        raise BadRequest("Some query parameters are invalid.", details=issues)
    query = EventsQuery(limit=limit, event_type=event_type)
    if "cursor" not in values:
        return query
    position = cursor.decode(
        values["cursor"], partner_id=caller.partner_id, query_fingerprint=query.fingerprint()
    )
    try:
        at, event_id = position
        after = (dt.datetime.fromisoformat(at), str(event_id))
    except (TypeError, ValueError) as exc:
        raise cursor.invalid_cursor() from exc
    return EventsQuery(limit=limit, after=after, event_type=event_type)


def _bounds(
    resource: Resource, values: Mapping[str, str], issues: list[FieldIssue]
) -> Bounds | None:
    """The one range a list may bound (the list is then ordered by that field)."""
    found: list[Bounds] = []
    for name in resource.ranges:
        low_name, high_name = f"{name}From", f"{name}To"
        if low_name not in values and high_name not in values:
            continue
        spec, ends = resource.field(name), []
        for param in (low_name, high_name):
            raw = values.get(param)
            try:
                ends.append(None if raw is None else kinds.query_value(spec, raw))
            except ValueError as exc:
                issues.append({"field": param, "message": str(exc)})
                ends.append(None)
        low, high = ends
        if low is not None and high is not None and low > high:
            issues.append({"field": high_name, "message": f"must not be before {low_name}"})
        found.append(Bounds(name, low, high))
    if len(found) > 1:
        issues.append({"field": found[1].field, "message": "a list bounds one range at a time"})
    return found[0] if found else None


def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, read within the size limit.

    Raises:
        UnsupportedMediaType: the body is not declared as UTF-8 JSON.
        PayloadTooLarge: the body exceeds the configured limit.
        BadRequest: the body is not one well-formed JSON object without duplicate keys.
    """
    charset = request.mimetype_params.get("charset")
    if request.mimetype.lower() != "application/json" or (
        charset is not None and charset.lower() not in ("utf-8", "utf8")
    ):
        raise UnsupportedMediaType()
    limit = config.max_body_bytes()
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"The body may be at most {limit} bytes.")
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise PayloadTooLarge(f"The body may be at most {limit} bytes.")
    return parse_json_object(raw)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Strict JSON: UTF-8, no duplicate keys, no NaN or Infinity, an object at the top.

    Raises:
        BadRequest: any of the above does not hold.
    """
    try:
        text = raw.decode(_UTF8)
    except UnicodeDecodeError as exc:
        raise BadRequest("The body is not valid UTF-8.") from exc
    if not text.strip():
        raise BadRequest("The body is empty; send a JSON object.")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_reject_duplicate_keys,
            parse_constant=_reject_constant,
            parse_float=Decimal,
        )
    except _DuplicateKey as exc:
        raise BadRequest(f"The body repeats the key {exc.args[0]!r}.") from exc
    except _Constant as exc:
        raise BadRequest(f"The body holds {exc.args[0]}, which JSON does not allow.") from exc
    except RecursionError as exc:
        raise BadRequest("The body is nested too deeply.") from exc
    except ValueError as exc:
        raise BadRequest("The body is not valid JSON.") from exc
    if not isinstance(value, dict):
        raise BadRequest("The body must be a JSON object.")
    return value


class _DuplicateKey(ValueError):
    pass


class _Constant(ValueError):
    """NaN, Infinity or -Infinity: Python's json reads them, JSON has none."""


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise _Constant(name)


# --- input of an owner's endpoint: a pydantic model of its own --------------------------

_MODEL_FIELD = re.compile(r"[A-Za-z0-9_.-]{1,64}")
ModelT = TypeVar("ModelT", bound=BaseModel)


def model_input(model: type[ModelT], values: Mapping[str, Any], where: str) -> ModelT:
    """`values` checked by an owner's model: every unknown name (unless the model allows
    extra ones) and every invalid value named in one 422. `where` says what they are
    ("query parameter", "field") in the messages.

    Raises: ValidationFailed.
    """
    extras_allowed = model.model_config.get("extra") == "allow"
    accepted = {info.alias or name for name, info in model.model_fields.items()}
    issues: list[FieldIssue] = [
        {"field": shown(name), "message": f"is not a {where} of this endpoint"}
        for name in values
        if not extras_allowed and name not in accepted
    ]
    try:
        parsed = model.model_validate(dict(values))
    except ValidationError as exc:
        issues += [
            {"field": shown(".".join(str(p) for p in item["loc"])), "message": _said(item)}
            for item in exc.errors()
            if item["type"] != "extra_forbidden"  # named above
        ]
        if not issues:  # pragma: no cover - a model forbidding extras lists them above
            issues.append({"field": "(unknown field)", "message": "is not valid"})
        raise ValidationFailed(details=issues) from None
    if issues:
        raise ValidationFailed(details=issues)
    return parsed


def query_values(args: Mapping[str, list[str]]) -> dict[str, str]:
    """One value per query parameter; a repeated one is a 422 naming it.

    Raises: ValidationFailed.
    """
    repeated = sorted(name for name, values in args.items() if len(values) > 1)
    if repeated:
        raise ValidationFailed(
            details=[{"field": shown(n), "message": "is given more than once"} for n in repeated]
        )
    return {name: values[0] for name, values in args.items()}


def shown(name: str) -> str:
    """A field name as the client sent it, unless it could carry anything else."""
    return name if _MODEL_FIELD.fullmatch(name) else "(unknown field)"


def _said(item: Any) -> str:
    if item["type"] == "missing":
        return "is required"
    message = str(item["msg"]).removeprefix("Value error, ")
    return message[:1].lower() + message[1:]
