"""The validation models of each declared resource, built from its declaration.

Three models per resource: what a create may send, what a patch may send, and what a
stored document must hold for the API to serve it. All are strict (no coercion) and name
every bad, missing or unknown field without echoing client input.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model

from functions.core.errors import FieldIssue, ValidationFailed
from functions.core.models import Draft, FieldChanges, Record, Revision
from functions.resources import kinds
from functions.resources.declaration import FieldSpec, Resource

_INPUT = ConfigDict(extra="forbid", strict=True, frozen=True)
_STORED = ConfigDict(extra="ignore", strict=True, frozen=True)
_SAFE_FIELD_NAME = re.compile(r"[A-Za-z0-9_.-]{1,200}")


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


def _model(title: str, config: ConfigDict, fields: dict[str, tuple[Any, Any]]) -> type[BaseModel]:
    """A model whose fields are named as declared (`photo_url`, `my-field`, a word such as
    `in`): each is the alias of a plain Python name."""
    named: dict[str, Any] = {
        f"f{index}": (kind, Field(default, alias=name))
        for index, (name, (kind, default)) in enumerate(fields.items())
    }
    model: type[BaseModel] = create_model(title, __config__=config, **named)
    return model


def _optional(kind: Any) -> Any:
    return Annotated[kind | None, BeforeValidator(_refuse_null)]


def _models_of(resource: Resource) -> Models:
    title = "".join(part.title() for part in resource.name.split("-"))
    creatable = [spec for spec in resource.fields if spec.creatable]
    create = _model(
        f"{title}Create",
        _INPUT,
        {
            spec.name: (kinds.annotation(spec), ...)
            if spec.required
            else (_optional(kinds.annotation(spec)), None)
            for spec in creatable
        },
    )
    patch = _model(
        f"{title}Patch",
        _INPUT,
        {
            spec.name: (kinds.annotation(spec) | None, None)
            for spec in resource.fields
            if spec.updatable
        },
    )
    # The bookkeeping fields are the server's: another writer (the owner's app) may have
    # left them out, which never makes a document invalid; a wrong kind still does.
    book = resource.bookkeeping
    bookkeeping: dict[str | None, Any] = {
        book.created_at: (kinds.annotation_of_time() | None, None),
        book.updated_at: (kinds.annotation_of_time() | None, None),
        book.created_by: (str | None, None),
        book.version: (Annotated[int, Field(ge=1)] | None, None),
    }
    tenant = tenant_spec(resource)
    stored_fields: dict[str, Any] = {
        "id": (str, ...),
        resource.tenant_field: (str if tenant is None else kinds.stored_annotation(tenant), ...),
        **{name: spec for name, spec in bookkeeping.items() if name is not None},
    }
    for spec in resource.fields:
        if spec.readable:
            required = spec.required and not spec.server_set
            kind = kinds.stored_annotation(spec)
            stored_fields[spec.name] = (kind, ...) if required else (kind | None, None)
    stored = _model(f"{title}Stored", _STORED, stored_fields)
    return Models(create, patch, stored)


models_of = kinds.PerObject(_models_of)
"""The models of a resource, made on first use."""


def _values(model: BaseModel, *, sent_only: bool = False) -> dict[str, Any]:
    """A validated model's values by declared name (its maps are dicts already)."""
    names = kinds.aliases(type(model))
    fields = model.model_fields_set if sent_only else names
    return {names[name]: getattr(model, name) for name in fields}


def parse_create(resource: Resource, body: Mapping[str, Any]) -> Draft:
    """Raises: ValidationFailed naming every bad, missing or unknown field."""
    try:
        model = models_of(resource).create.model_validate(dict(body))
    except ValidationError as exc:
        raise ValidationFailed(details=field_issues(resource, exc)) from exc
    return Draft({k: v for k, v in _values(model).items() if v is not None})


def parse_patch(resource: Resource, body: Mapping[str, Any]) -> FieldChanges:
    """Raises: ValidationFailed for bad or unknown fields, or an empty patch."""
    try:
        model = models_of(resource).patch.model_validate(dict(body))
    except ValidationError as exc:
        raise ValidationFailed(details=field_issues(resource, exc)) from exc
    sent = _values(model, sent_only=True)
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
    return _record(resource, _values(model), written)


def record_from_json(resource: Resource, text: str, *, written: dt.datetime) -> Record:
    """A record kept as JSON (an idempotency record's first answer)."""
    model = models_of(resource).stored.model_validate_json(text, context={kinds.KEPT: True})
    return _record(resource, _values(model), written)


def _record(resource: Resource, values: Mapping[str, Any], written: dt.datetime) -> Record:
    """The wire values of a checked document (hidden fields left out)."""
    wire = {name: values.get(name) for name in resource.wire_fields}
    for name, convert in _converters(resource):
        if wire[name] is not None:
            wire[name] = convert(wire[name])
    return Record(values["id"], wire, revision_of(resource, values, written))


def _wire_converters(resource: Resource) -> tuple[tuple[str, kinds.Converter], ...]:
    """The readable fields whose wire form is not their stored one, with the converter
    (a tenant kept as a reference is answered as the tenant's id)."""
    tenant = tenant_spec(resource)
    specs = [spec for spec in resource.fields if spec.readable]
    found = ((spec.name, kinds.wire_converter(spec)) for spec in (*specs, *filter(None, [tenant])))
    return tuple((name, convert) for name, convert in found if convert is not None)


def _tenant_spec(resource: Resource) -> FieldSpec | None:
    if not resource.tenant_reference:
        return None
    return FieldSpec(resource.tenant_field, "reference", to=resource.tenant_reference)


tenant_spec = kinds.PerObject(_tenant_spec)
"""The tenant field as a reference field, where it holds one; None where it holds the id."""


_converters = kinds.PerObject(_wire_converters)


def revision_of(resource: Resource, data: Mapping[str, Any], written: dt.datetime) -> Revision:
    """A stored document's revision: its version where it holds a valid one, otherwise
    `written`, the time Firestore last wrote it."""
    name = resource.bookkeeping.version
    version = data.get(name) if name is not None else None
    if type(version) is int and version >= 1:
        return Revision(version=version)
    return Revision.of_write(written)


def _spec_at(specs: tuple[FieldSpec, ...], loc: tuple[int | str, ...]) -> FieldSpec | None:
    """The declared field (or list item, or map field) an error's location names."""
    found: FieldSpec | None = None
    for part in loc:
        if found is not None and found.kind == "list" and isinstance(part, int):
            found = found.of
            continue
        if found is not None:
            specs = found.fields
        found = next((spec for spec in specs if spec.name == part), None)
        if found is None:
            return None
    return found


class InvalidStored(ValueError):
    def __init__(self, fields: list[str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


def field_issues(resource: Resource, error: ValidationError) -> list[FieldIssue]:
    """One plain message per field, naming server-set fields as such."""
    article = "an" if resource.item[0] in "aeiou" else "a"
    issues: list[FieldIssue] = []
    for item in error.errors(include_url=False, include_context=False, include_input=False):
        name = ".".join(str(part) for part in item["loc"])
        if not _SAFE_FIELD_NAME.fullmatch(name):
            name = "(unknown field)"  # never reflect arbitrary client input
        spec = _spec_at(resource.fields, item["loc"])
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
        elif kind == "too_short":
            message = f"must hold at least {spec.min_items if spec else '?'} items"
        elif kind == "too_long":
            message = f"must hold at most {spec.max_items if spec else '?'} items"
        elif kind in ("list_type", "model_type", "dict_type", "model_attributes_type"):
            message = kinds.pattern_message(spec) if spec else "has the wrong type"
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
        issues.append({"field": name, "message": message})
    return issues
