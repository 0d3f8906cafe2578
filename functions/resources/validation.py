"""The validation models of each declared resource, built from its declaration.

Three models per resource: what a create may send, what a patch may send, and what a
stored document must hold for the API to serve it. All are strict (no coercion) and name
every bad, missing or unknown field without echoing client input.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from functions.core.errors import FieldIssue, ValidationFailed
from functions.core.models import Draft, FieldChanges, Record, Revision
from functions.resources import kinds
from functions.resources.declaration import Resource

_INPUT = ConfigDict(extra="forbid", strict=True, frozen=True)
_STORED = ConfigDict(extra="ignore", strict=True, frozen=True)
_SAFE_FIELD_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _refuse_null(value: Any) -> Any:
    # Stored records have no null fields (the rules refuse them too): omit instead.
    if value is None:
        raise ValueError("must not be null; omit the field instead")
    return value


@dataclass(frozen=True, slots=True)
class Models:
    create: type[BaseModel]
    patch: type[BaseModel]
    stored: type[BaseModel]


@functools.cache
def models_of(resource: Resource) -> Models:
    title = "".join(part.title() for part in resource.name.split("-"))
    creatable = [spec for spec in resource.fields if spec.creatable]
    optional = [spec.name for spec in creatable if not spec.required]
    create_fields: dict[str, Any] = {
        spec.name: (kinds.annotation(spec), ...)
        if spec.required
        else (kinds.annotation(spec) | None, None)
        for spec in creatable
    }
    validators: dict[str, Any] = {}
    if optional:
        validators["_omit_rather_than_null"] = field_validator(*optional, mode="before")(
            _refuse_null
        )
    create = create_model(
        f"{title}Create", __config__=_INPUT, __validators__=validators, **create_fields
    )
    patch_fields: dict[str, Any] = {
        spec.name: (kinds.annotation(spec) | None, None)
        for spec in resource.fields
        if spec.updatable
    }
    patch = create_model(f"{title}Patch", __config__=_INPUT, **patch_fields)
    # The bookkeeping fields are the server's: another writer (the owner's app) may have
    # left them out, which never makes a document invalid; a wrong kind still does.
    book = resource.bookkeeping
    bookkeeping: dict[str | None, Any] = {
        book.created_at: (kinds.annotation_of_time() | None, None),
        book.updated_at: (kinds.annotation_of_time() | None, None),
        book.created_by: (str | None, None),
        book.version: (int | None, Field(default=None, ge=1)),
    }
    stored_fields: dict[str, Any] = {
        "id": (str, ...),
        resource.tenant_field: (str, ...),
        **{name: spec for name, spec in bookkeeping.items() if name is not None},
    }
    for spec in resource.fields:
        if spec.readable:
            required = spec.required and not spec.server_set
            stored_fields[spec.name] = (
                (kinds.annotation(spec), ...) if required else (kinds.annotation(spec) | None, None)
            )
    stored = create_model(f"{title}Stored", __config__=_STORED, **stored_fields)
    return Models(create, patch, stored)


def parse_create(resource: Resource, body: Mapping[str, Any]) -> Draft:
    """Raises: ValidationFailed naming every bad, missing or unknown field."""
    try:
        model = models_of(resource).create.model_validate(dict(body))
    except ValidationError as exc:
        raise ValidationFailed(details=field_issues(resource, exc)) from exc
    return Draft({k: v for k, v in model.model_dump().items() if v is not None})


def parse_patch(resource: Resource, body: Mapping[str, Any]) -> FieldChanges:
    """Raises: ValidationFailed for bad or unknown fields, or an empty patch."""
    try:
        model = models_of(resource).patch.model_validate(dict(body))
    except ValidationError as exc:
        raise ValidationFailed(details=field_issues(resource, exc)) from exc
    sent = model.model_dump(exclude_unset=True)
    if not sent:
        raise ValidationFailed(
            "Send at least one field to change.",
            details=[{"field": "", "message": "no fields to update"}],
        )
    for spec in resource.fields:
        if spec.required and spec.name in sent and sent[spec.name] is None:
            raise ValidationFailed(
                details=[{"field": spec.name, "message": "is required; cannot be null"}]
            )
    sets = {k: v for k, v in sent.items() if v is not None}
    return FieldChanges(sets, tuple(k for k, v in sent.items() if v is None))


def record_from(
    resource: Resource, doc_id: str, data: Mapping[str, Any], *, written: dt.datetime
) -> Record:
    """The record a stored document holds, in wire order; `written` is when Firestore last
    wrote the document (its revision where it holds no version).

    Raises:
        InvalidStored: naming the fields that are not valid.
    """
    try:
        model = models_of(resource).stored.model_validate({**data, "id": doc_id})
    except ValidationError as exc:
        fields = sorted({str(error["loc"][0]) for error in exc.errors() if error["loc"]})
        raise InvalidStored(fields) from exc
    return _record(resource, model.model_dump(), written)


def record_from_json(resource: Resource, text: str, *, written: dt.datetime) -> Record:
    """A record kept as JSON (an idempotency record's first answer)."""
    model = models_of(resource).stored.model_validate_json(text)
    return _record(resource, model.model_dump(), written)


def _record(resource: Resource, values: Mapping[str, Any], written: dt.datetime) -> Record:
    wire = {field: values.get(field) for field in resource.wire_fields}
    return Record(values["id"], wire, revision_of(resource, values, written))


def revision_of(resource: Resource, data: Mapping[str, Any], written: dt.datetime) -> Revision:
    """A stored document's revision: its version where it holds a valid one, otherwise
    `written`, the time Firestore last wrote it."""
    name = resource.bookkeeping.version
    version = data.get(name) if name is not None else None
    if type(version) is int and version >= 1:
        return Revision(version=version)
    return Revision.of_write(written)


class InvalidStored(ValueError):
    def __init__(self, fields: list[str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


def field_issues(resource: Resource, error: ValidationError) -> list[FieldIssue]:
    """One plain message per field, naming server-set fields as such."""
    article = "an" if resource.item[0] in "aeiou" else "a"
    specs = {spec.name: spec for spec in resource.fields}
    issues: list[FieldIssue] = []
    for item in error.errors(include_url=False, include_context=False, include_input=False):
        name = ".".join(str(part) for part in item["loc"])
        if not _SAFE_FIELD_NAME.fullmatch(name):
            name = "(unknown field)"  # never reflect arbitrary client input
        spec = specs.get(name)
        kind = item["type"]
        if kind == "extra_forbidden":
            message = (
                "is set by the server and cannot be written"
                if name in resource.server_fields or (spec is not None and spec.server_set)
                else f"is not a field of {article} {resource.item}"
            )
        elif kind == "missing":
            message = "is required"
        elif kind in ("string_type", "string_sub_type"):
            message = "must be a string"
        elif kind in ("int_type", "int_from_float"):
            message = "must be a whole number"
        elif kind == "bool_type":
            message = "must be true or false"
        elif kind == "string_pattern_mismatch":
            message = kinds.pattern_message(spec) if spec else "has characters that are not allowed"
        elif kind == "string_too_short":
            message = "must not be empty"
        elif kind == "string_too_long":
            message = f"is too long (at most {spec.max_length if spec else '?'} characters)"
        elif kind == "greater_than_equal":
            message = f"must be at least {spec.minimum if spec else '?'}"
        elif kind == "less_than_equal":
            message = f"must be at most {spec.maximum if spec else '?'}"
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
        issues.append({"field": name, "message": message})
    return issues
