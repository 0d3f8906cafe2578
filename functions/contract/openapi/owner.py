"""The owner's own endpoints (`partner_endpoint`): each at `/<function name>`, with its
models as schemas, its scopes and every status it can answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic.json_schema import models_json_schema

from functions.contract.catalog import BODY_METHODS, OwnerEndpoint
from functions.contract.openapi import parts
from functions.core.errors import (
    ApiError,
    BadRequest,
    ConfigurationError,
    Conflict,
    NotFound,
    PayloadTooLarge,
    QuotaExceeded,
    UnsupportedMediaType,
    ValidationFailed,
)

OWNER_TAG_DESCRIPTION = "Operations of this app's own, behind the same gate as the rest."


def owner_paths(
    endpoints: Sequence[OwnerEndpoint], schemas: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The owner's endpoints at `/<function name>`, their models added to `schemas`.

    Raises: ConfigurationError when a model's name is taken by another schema.
    """
    wanted: list[tuple[Any, Any]] = []
    for endpoint in endpoints:
        wanted.append((endpoint.response, "serialization"))
        if endpoint.body is not None:
            wanted.append((endpoint.body, "validation"))
    if not wanted:
        return {}
    refs, definitions = models_json_schema(wanted, ref_template=parts.REF)
    for name, schema in definitions.get("$defs", {}).items():
        if name in schemas:
            raise ConfigurationError(
                f"the model name {name!r} is taken by the declaration's schemas; rename it"
            )
        schemas[name] = schema
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        operations = paths.setdefault(f"/{endpoint.name}", {})
        for method in endpoint.methods:
            operations[method.lower()] = _owner_operation(endpoint, method, refs)
    return paths


def _owner_operation(
    endpoint: OwnerEndpoint, method: str, refs: dict[tuple[Any, Any], Any]
) -> dict[str, Any]:
    scopes = sorted(endpoint.scopes)
    needs = ", ".join(f"`{scope}`" for scope in scopes)
    description = f"{endpoint.description}\n\nNeeds the scope(s) {needs}.".strip()
    errors: list[type[ApiError]] = [BadRequest, NotFound, ValidationFailed]
    parameters = parts.query_parameters(endpoint.query)
    operation: dict[str, Any] = {
        "operationId": endpoint.name
        if len(endpoint.methods) == 1
        else f"{endpoint.name}{method.title()}",
        "summary": endpoint.summary or endpoint.name,
        "description": description,
        "tags": [endpoint.tag],
        "security": [{"partnerApiKey": scopes}, {"firebaseIdToken": scopes}],
    }
    changes = method in BODY_METHODS
    if endpoint.body is not None and changes:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(endpoint.body, "validation")]}},
        }
        errors += [PayloadTooLarge, UnsupportedMediaType]
    headers: dict[str, Any] = {}
    if endpoint.idempotent and changes:
        parameters.append(parts.idempotency_key())
        headers["Idempotent-Replayed"] = {
            "description": "`true` when the answer is a replay of the key's first one.",
            "schema": {"type": "string", "enum": ["true"]},
        }
        errors.append(Conflict)
    if endpoint.creates:
        errors.append(QuotaExceeded)
    if parameters:
        operation["parameters"] = parameters
    answer = refs[(endpoint.response, "serialization")]
    operation["responses"] = {
        str(endpoint.status): {
            "description": endpoint.summary or "The answer.",
            "headers": {**parts.REQUEST_ID, **parts.RATE_LIMIT, **headers},
            "content": {"application/json": {"schema": answer}},
        },
        **parts.errors(*dict.fromkeys([*errors, *endpoint.errors])),
    }
    return operation
