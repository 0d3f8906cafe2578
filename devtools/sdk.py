"""Write the partners' SDKs from the contract (`make sdk`, and `make generate`).

From `openapi.json` it writes the generated half of two packages: Python
(`sdk/python`, TypedDict models and a method per operation) and TypeScript
(`sdk/typescript`, interfaces and the same methods), then builds the TypeScript package
with `tsc` into `dist/` (ES modules and `.d.ts`). The other half of each package is
written by hand and never touched here: the transport (timeouts, retries with backoff and
`Retry-After`, Idempotency-Key), typed errors, pagination, the update helper and webhook
verification (`_runtime.py`, `_errors.py`, `_webhooks.py`; `runtime.ts`, `errors.ts`,
`webhooks.ts`).

Why not a generic generator: openapi-python-client (which the unit suite still runs on
the contract, as a partner might) writes attrs classes and a client of its own that
needs attrs and dateutil at run time, and no retries or pagination to put ours in;
openapi-typescript writes types only, keyed by path. Both SDKs should have the same
models and methods under the same names, so one walk of the contract writes both. The
contract is our own output and uses a known part of JSON Schema; anything outside that
part stops the generator with its location rather than becoming `Any`.

Operations become methods on a resource by their path: `/api/v1/<collection>` (list,
iterate, create), `/api/v1/<collection>/{id}` (get, get_with_etag, update, modify,
replace, delete) and `/api/v1/<collection>/{id}/<action>`; the owner's own endpoints go
to `endpoints`. The first URLs (fetchData, createEntry, updateEntry) are left out: they
are the same operations as `entries`.
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools.prerequisites import ROOT

SDK_ROOT = ROOT / "sdk"
PYTHON_PACKAGE = "partner_api"
DISTRIBUTION = "partner-api-client"
GENERATED = "Generated from openapi.json by `make sdk`; do not edit."
FIRST_URLS_TAG = "entries: first urls"
OWNER_TAG = "your endpoints"
API_PREFIX = "/api/v1/"
GENERATED_FILES = (
    f"python/src/{PYTHON_PACKAGE}/_models.py",
    f"python/src/{PYTHON_PACKAGE}/_operations.py",
    "python/pyproject.toml",
    "typescript/src/models.ts",
    "typescript/src/operations.ts",
    "typescript/package.json",
)
"""The files `make sdk` writes (and `dist/`); every other file under sdk/ is hand-written."""
TSC = ROOT / "tooling" / "node_modules" / "typescript" / "bin" / "tsc"


class ContractError(ValueError):
    """The contract uses something the generator does not write."""


# Names ----------------------------------------------------------------------------------


def snake(name: str) -> str:
    name = re.sub(r"[^0-9A-Za-z]+", "_", name)
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    name = name.strip("_").lower()
    return name + "_" if keyword.iskeyword(name) or name in {"self", "id_"} else name


def camel(name: str) -> str:
    parts = [p for p in snake(name).rstrip("_").split("_") if p]
    return parts[0] + "".join(p.title() for p in parts[1:])


def pascal(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[^0-9A-Za-z]+", name) if p)


# Types ------------------------------------------------------------------------------------


@dataclass
class Prop:
    name: str
    schema: dict[str, Any]
    required: bool
    description: str


@dataclass
class Model:
    name: str
    description: str
    props: list[Prop] | None  # None: a free map of string keys
    at: str


@dataclass
class Types:
    """Every model of the contract, named ones first, inline objects named after where
    they sit (`Parent` + field)."""

    schemas: dict[str, Any]
    models: dict[str, Model] = field(default_factory=dict)

    def collect(self) -> None:
        for name, schema in self.schemas.items():
            self.model(name, schema, f"#/components/schemas/{name}")

    def model(self, name: str, schema: dict[str, Any], at: str) -> None:
        if name in self.models:
            return
        if schema.get("type") != "object" and "properties" not in schema:
            raise ContractError(f"{at}: a named schema that is not an object")
        properties = schema.get("properties")
        required = set(schema.get("required", []))
        model = Model(name, schema.get("description", ""), None, at)
        self.models[name] = model
        if properties is None:
            return
        model.props = [
            Prop(key, value, key in required, value.get("description", ""))
            for key, value in properties.items()
        ]
        for prop in model.props:
            self.inline(prop.schema, name + pascal(prop.name), f"{at}/properties/{prop.name}")

    def inline(self, schema: dict[str, Any], name: str, at: str) -> None:
        """Name the inline objects with properties under `schema`."""
        if "$ref" in schema:
            return
        for key in ("anyOf", "oneOf"):
            for n, option in enumerate(schema.get(key, [])):
                self.inline(option, name + (str(n + 1) if n else ""), f"{at}/{key}/{n}")
        if isinstance(schema.get("items"), dict):
            self.inline(schema["items"], name + "Item", f"{at}/items")
        if "properties" in schema:
            schema["x-sdk-name"] = name
            self.model(name, schema, at)


def ref_name(ref: str) -> str:
    prefix = "#/components/schemas/"
    if not ref.startswith(prefix):
        raise ContractError(f"{ref}: only component references are written")
    return ref[len(prefix) :]


def kinds(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    return kind if isinstance(kind, list) else [kind] if kind else []


@dataclass(frozen=True)
class Spelling:
    """How a language writes the contract's types."""

    simple: dict[str, str]  # string, integer, number, boolean, null, object
    any: str
    array: str  # with {} for the item type
    literal: Callable[[list[Any]], str]


PYTHON = Spelling(
    {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None",
     "object": "dict[str, Any]"},
    "Any",
    "list[{}]",
    lambda values: "Literal[" + ", ".join(
        json.dumps(v) if isinstance(v, str) else repr(v) for v in values
    ) + "]",
)  # fmt: skip
TYPESCRIPT = Spelling(
    {"string": "string", "integer": "number", "number": "number", "boolean": "boolean",
     "null": "null", "object": "{ [key: string]: unknown }"},
    "unknown",
    "Array<{}>",
    lambda values: " | ".join(json.dumps(v) for v in values),
)  # fmt: skip


def spell(schema: dict[str, Any], at: str, language: Spelling) -> str:
    """The type of `schema` in `language`: a reference or an inline object's name, a
    union, a literal (`const`, an `enum` of strings), or the JSON types it allows."""
    if "$ref" in schema:
        return ref_name(schema["$ref"])
    if "x-sdk-name" in schema:
        return str(schema["x-sdk-name"])
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return " | ".join(dict.fromkeys(spell(o, at, language) for o in options))
    if "const" in schema:
        return language.literal([schema["const"]])
    if "enum" in schema and all(isinstance(v, str) for v in schema["enum"]):
        return language.literal(schema["enum"])
    found = []
    for kind in kinds(schema):
        if kind == "array":
            found.append(language.array.format(spell(schema.get("items", {}), at, language)))
        elif kind in language.simple:
            found.append(language.simple[kind])
        else:
            raise ContractError(f"{at}: type {kind!r}")
    return " | ".join(dict.fromkeys(found)) if found else language.any


def python_type(schema: dict[str, Any], at: str) -> str:
    return spell(schema, at, PYTHON)


def ts_type(schema: dict[str, Any], at: str) -> str:
    return spell(schema, at, TYPESCRIPT)


# Operations -------------------------------------------------------------------------------


@dataclass
class Param:
    name: str  # as on the wire
    where: str  # path, query, header
    required: bool
    schema: dict[str, Any]
    description: str

    @property
    def python(self) -> str:
        return snake(self.name)

    @property
    def ts(self) -> str:
        return camel(self.name) if self.where == "header" else self.name


@dataclass
class Operation:
    resource: str  # attribute on the client, snake
    method_name: str  # snake
    http_method: str
    path: str
    summary: str
    params: list[Param]
    body: str | None  # model name
    body_required: bool
    returns: str | None  # model name; None: an untyped JSON object
    etag: bool  # the answer carries an ETag
    idempotent: bool  # takes an Idempotency-Key
    item: str | None  # a page's item type, when the operation lists with cursors

    @property
    def path_params(self) -> list[Param]:
        return [p for p in self.params if p.where == "path"]

    @property
    def query_params(self) -> list[Param]:
        return [p for p in self.params if p.where == "query"]

    @property
    def header_params(self) -> list[Param]:
        return [p for p in self.params if p.where == "header" and p.name != "Idempotency-Key"]


def _success(operation: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    for status in ("200", "201", "202", "204"):
        if status in operation["responses"]:
            answer = operation["responses"][status]
            schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
            return schema, answer.get("headers", {})
    raise ContractError(f"{operation.get('operationId')}: no success answer")


def _method_name(path: str, http_method: str) -> tuple[str, str]:
    """(resource attribute, method) of an operation under /api/v1/."""
    parts = path[len(API_PREFIX) :].split("/")
    resource = snake(parts[0])
    if len(parts) == 1:
        return resource, {"get": "list", "post": "create"}[http_method]
    if len(parts) == 2:
        names = {"get": "get", "patch": "update", "put": "replace", "delete": "delete"}
        return resource, names[http_method]
    return resource, snake(parts[2])


def operations(document: dict[str, Any]) -> list[Operation]:
    found = []
    schemas = document["components"]["schemas"]
    for path, methods in document["paths"].items():
        for http_method, operation in methods.items():
            if http_method not in {"get", "post", "put", "patch", "delete"}:
                continue
            tags = operation.get("tags", [])
            if FIRST_URLS_TAG in tags:
                continue
            if path.startswith(API_PREFIX):
                resource, name = _method_name(path, http_method)
            else:
                resource, name = "endpoints", snake(operation["operationId"])
            params = [
                Param(
                    p["name"],
                    p["in"],
                    bool(p.get("required")),
                    p.get("schema", {}),
                    p.get("description", ""),
                )
                for p in operation.get("parameters", [])
            ]
            body_schema = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema")
            )
            body = ref_name(body_schema["$ref"]) if body_schema and "$ref" in body_schema else None
            if body_schema and body is None:
                raise ContractError(f"{operation['operationId']}: an inline request body")
            answer, headers = _success(operation)
            returns = ref_name(answer["$ref"]) if "$ref" in answer else None
            item = None
            names = {p.name for p in params}
            if returns and "cursor" in names:
                page = schemas[returns]["properties"]
                if "next_cursor" in page and "data" in page:
                    item = python_type(page["data"]["items"], f"{returns}/data")
            found.append(
                Operation(
                    resource=resource,
                    method_name=name,
                    http_method=http_method.upper(),
                    path=path,
                    summary=(operation.get("summary") or operation.get("description") or "")
                    .strip()
                    .split("\n\n")[0],
                    params=params,
                    body=body,
                    body_required=bool(operation.get("requestBody", {}).get("required")),
                    returns=returns,
                    etag="ETag" in headers,
                    idempotent="Idempotency-Key" in names,
                    item=item,
                )
            )
    found.sort(key=lambda o: (o.resource, o.path, o.http_method))
    return found


def resources(ops: list[Operation]) -> dict[str, list[Operation]]:
    grouped: dict[str, list[Operation]] = {}
    for operation in ops:
        grouped.setdefault(operation.resource, []).append(operation)
    return grouped


def _ts_item(op: Operation, types: Types) -> str:
    assert op.returns is not None
    page = types.schemas[op.returns]["properties"]["data"]["items"]
    return ts_type(page, op.returns)


# Python -----------------------------------------------------------------------------------


def _doc(text: str, indent: str) -> list[str]:
    text = " ".join(text.split()).replace('"""', "'''").replace("\\", "\\\\")
    if not text:
        return []
    return [f'{indent}"""{text}"""']


def python_models(types: Types) -> str:
    lines = [
        f'"""The contract\'s models. {GENERATED}"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any, Literal, NotRequired, TypedDict",
        "",
        "__all__ = [",
        *(f'    "{name}",' for name in sorted(types.models)),
        "]",
        "",
    ]
    for model in types.models.values():
        lines.append("")
        if model.props is None:
            lines.append(f"{model.name} = dict[str, Any]")
            lines.extend(f"# {line}" for line in _doc(model.description, "")[:1])
            continue
        fields = [
            (
                p.name,
                python_type(p.schema, f"{model.at}/{p.name}")
                if p.required
                else f"NotRequired[{python_type(p.schema, f'{model.at}/{p.name}')}]",
            )
            for p in model.props
        ]
        if all(n.isidentifier() and not keyword.iskeyword(n) for n, _ in fields):
            lines.append(f"class {model.name}(TypedDict):")
            lines.extend(_doc(model.description, "    "))
            lines.extend(f"    {n}: {t}" for n, t in fields)
            if not fields and not model.description:
                lines.append("    pass")
        else:
            lines.append(f'{model.name} = TypedDict("{model.name}", {{')
            lines.extend(f'    "{n}": "{t}",' for n, t in fields)  # forward references
            lines.append("})")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _python_signature(op: Operation, *, with_body: bool = True) -> list[str]:
    args = ["self"] + [f"{p.python}: str" for p in op.path_params]
    if op.body and with_body:
        args.append(f"body: {op.body}" if op.body_required else f"body: {op.body} | None = None")
    keyword_args = []
    for p in op.query_params + op.header_params:
        kind = python_type(p.schema, p.name)
        if p.required:
            keyword_args.append(f"{p.python}: {kind}")
        else:
            keyword_args.append(f"{p.python}: {kind} | None = None")
    if op.idempotent:
        keyword_args.append("idempotency_key: str | None = None")
    keyword_args.append("timeout: float | None = None")
    return [*args, "*", *keyword_args]


def _python_send(
    op: Operation, *, body: str = "body", method: str = "send", skip: tuple[str, ...] = ()
) -> str:
    path = op.path
    for p in op.path_params:
        path = path.replace("{" + p.name + "}", "{segment(" + p.python + ")}")
    query = ", ".join(f'"{p.name}": {p.python}' for p in op.query_params if p.name not in skip)
    headers = ", ".join(f'"{p.name}": {p.python}' for p in op.header_params)
    parts = [f'"{op.http_method}"', f'f"{path}"' if op.path_params else f'"{path}"']
    if query:
        parts.append(f"query={{{query}}}")
    if op.body:
        parts.append(f"body={body}")
    if headers:
        parts.append(f"headers={{{headers}}}")
    if op.idempotent:
        parts.append("idempotency_key=idempotency_key, idempotent=True")
    parts.append("timeout=timeout")
    return f"self._transport.{method}(" + ", ".join(parts) + ")"


def python_operations(document: dict[str, Any], ops: list[Operation]) -> str:
    version = document["info"]["version"]
    grouped = resources(ops)
    models = sorted(
        {o.body for o in ops if o.body}
        | {o.returns for o in ops if o.returns}
        | {name for o in ops if o.item for name in re.findall(r"\w+", o.item)}
    )
    lines = [
        f'"""A method per operation of the contract. {GENERATED}"""',
        "",
        "from __future__ import annotations",
        "",
        "from collections.abc import Callable, Iterator",
        "from typing import Any, Literal, cast",
        "",
        f"from .{'_models'} import {', '.join(models)}" if models else "",
        "from ._runtime import Tagged, Transport, modify_record, segment",
        "",
        f'VERSION = "{version}"',
        '"""The contract this SDK was generated from (its `info.version`)."""',
        f"TITLE = {json.dumps(document['info']['title'])}",
        "",
    ]
    for resource, members in grouped.items():
        lines += ["", f"class {pascal(resource)}:"]
        tag_description = _resource_description(document, members)
        lines.extend(_doc(tag_description, "    "))
        lines += [
            "",
            "    def __init__(self, transport: Transport) -> None:",
            "        self._transport = transport",
        ]
        by_name = {o.method_name: o for o in members}
        for op in members:
            returns = op.returns or "dict[str, Any]"
            lines += ["", f"    def {op.method_name}("]
            lines += [f"        {a}," for a in _python_signature(op)]
            lines += [f"    ) -> {returns}:"]
            lines.extend(_doc(f"{op.http_method} {op.path}. {op.summary}", "        "))
            lines.append(f"        return cast({returns}, {_python_send(op)}.data)")
            if op.item:
                signature = [
                    a for a in _python_signature(op) if not a.startswith(("cursor", "timeout"))
                ]
                lines += ["", "    def iterate("]
                lines += [f"        {a}," for a in signature]
                lines += ["        timeout: float | None = None,"]
                lines += [f"    ) -> Iterator[{op.item}]:"]
                lines.extend(
                    _doc(
                        "Every record of the list, page after page (follows next_cursor).",
                        "        ",
                    )
                )
                send = _python_send(op, method="pages", skip=("cursor",))
                lines.append(f"        return cast(Iterator[{op.item}], {send})")
            if op.method_name == "get" and op.etag:
                lines += ["", "    def get_with_etag("]
                lines += [f"        {a}," for a in _python_signature(op)]
                lines += [f"    ) -> Tagged[{returns}]:"]
                lines.extend(_doc("The record and its ETag, for If-Match.", "        "))
                lines.append(f"        answer = {_python_send(op)}")
                lines.append(
                    "        return Tagged(cast("
                    + returns
                    + ', answer.data), answer.headers.get("etag", ""))'
                )
            if (
                op.method_name == "update"
                and "get" in by_name
                and any(p.name == "If-Match" for p in op.params)
            ):
                record = by_name["get"].returns or "dict[str, Any]"
                ids = ", ".join(p.python for p in op.path_params)
                lines += [
                    "",
                    "    def modify(",
                    "        self,",
                    *(f"        {p.python}: str," for p in op.path_params),
                    f"        change: Callable[[{record}], {op.body} | None],",
                    "        *,",
                    "        attempts: int = 5,",
                    "        timeout: float | None = None,",
                    f"    ) -> {returns}:",
                    *_doc(
                        "Read the record, ask `change` for a patch, and send it with the "
                        "record's ETag; when another writer came first (412), read again "
                        "and ask again, up to `attempts` times. `change` returning None "
                        "sends nothing and returns the record as read.",
                        "        ",
                    ),
                    "        return modify_record(",
                    f"            lambda: self.get_with_etag({ids}, timeout=timeout),",
                    f"            lambda patch, etag: self.update({ids}, patch, "
                    "if_match=etag, timeout=timeout),",
                    "            change,",
                    "            attempts,",
                    "        )",
                ]
    lines += ["", "", "class Operations:"]
    lines.extend(_doc("The resources of the contract, one attribute each.", "    "))
    lines.append("")
    for resource in grouped:
        lines.append(f"    {resource}: {pascal(resource)}")
    lines += ["", "    def __init__(self, transport: Transport) -> None:"]
    lines += [f"        self.{r} = {pascal(r)}(transport)" for r in grouped]
    lines += ["", "", f"RESOURCES = {json.dumps(sorted(grouped))}"]
    text = "\n".join(lines) + "\n"
    return text


def _resource_description(document: dict[str, Any], members: list[Operation]) -> str:
    if members[0].resource == "endpoints":
        return "The app's own endpoints, behind the same gate as the rest."
    tags = {t["name"]: t.get("description", "") for t in document.get("tags", [])}
    operation = document["paths"][members[0].path][members[0].http_method.lower()]
    return str(tags.get((operation.get("tags") or [""])[0], ""))


# TypeScript -------------------------------------------------------------------------------


def _ts_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_$][\w$]*", name) else json.dumps(name)


def _ts_doc(text: str, indent: str) -> list[str]:
    text = " ".join(text.split()).replace("*/", "* /")
    return [f"{indent}/** {text} */"] if text else []


def ts_models(types: Types) -> str:
    lines = [f"// The contract's models. {GENERATED}", ""]
    for model in types.models.values():
        lines.extend(_ts_doc(model.description, ""))
        if model.props is None:
            lines.append(f"export type {model.name} = {{ [key: string]: unknown }};")
            lines.append("")
            continue
        lines.append(f"export interface {model.name} {{")
        for p in model.props:
            lines.extend(_ts_doc(p.description, "  "))
            optional = "" if p.required else "?"
            lines.append(f"  {_ts_key(p.name)}{optional}: {ts_type(p.schema, model.at)};")
        lines.append("}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _ts_params(op: Operation, *, skip: tuple[str, ...] = ()) -> tuple[list[str], str | None]:
    """Positional arguments, and the options object's type (None: none asked)."""
    args = [f"{camel(p.name)}: string" for p in op.path_params]
    if op.body:
        args.append(f"body: {op.body}" if op.body_required else f"body?: {op.body}")
    options = []
    for p in op.query_params + op.header_params:
        if p.name in skip:
            continue
        mark = "" if p.required else "?"
        options.append(f"{_ts_key(p.ts)}{mark}: {ts_type(p.schema, p.name)}")
    if op.idempotent:
        options.append("idempotencyKey?: string")
    options.append("timeoutMs?: number")
    required = any(p.required for p in op.query_params + op.header_params if p.name not in skip)
    return args, "{ " + "; ".join(options) + " }" + ("" if required else " = {}")


def _ts_send(op: Operation, *, method: str = "send", skip: tuple[str, ...] = ()) -> str:
    path = op.path
    for p in op.path_params:
        path = path.replace("{" + p.name + "}", "${segment(" + camel(p.name) + ")}")
    query = ", ".join(
        f"{_ts_key(p.name)}: options[{json.dumps(p.ts)}]"
        for p in op.query_params
        if p.name not in skip
    )
    headers = ", ".join(f'"{p.name}": options.{p.ts}' for p in op.header_params)
    parts = [f'method: "{op.http_method}"', f"path: `{path}`"]
    if query:
        parts.append(f"query: {{ {query} }}")
    if op.body:
        parts.append("body")
    if headers:
        parts.append(f"headers: {{ {headers} }}")
    if op.idempotent:
        parts.append("idempotent: true, idempotencyKey: options.idempotencyKey")
    parts.append("timeoutMs: options.timeoutMs")
    return f"this.transport.{method}({{ " + ", ".join(parts) + " })"


def _ts_methods(op: Operation, by_name: dict[str, Operation], types: Types) -> list[str]:
    """The methods of one operation: itself, and its iterate, getWithEtag or modify."""
    lines: list[str] = []
    returns = op.returns or "{ [key: string]: unknown }"
    args, options = _ts_params(op)
    lines.append("")
    lines.extend(_ts_doc(f"{op.http_method} {op.path}. {op.summary}", "  "))
    signature = ", ".join([*args, f"options: {options}"])
    lines.append(f"  async {camel(op.method_name)}({signature}): Promise<{returns}> {{")
    lines.append(f"    return (await {_ts_send(op)}).data as {returns};")
    lines.append("  }")
    if op.item:
        item = _ts_item(op, types)
        args, options = _ts_params(op, skip=("cursor",))
        signature = ", ".join([*args, f"options: {options}"])
        lines.append("")
        lines.extend(_ts_doc("Every record of the list, page after page.", "  "))
        lines.append(f"  iterate({signature}): AsyncGenerator<{item}> {{")
        send = _ts_send(op, method="pages", skip=("cursor",))
        lines.append(f"    return {send} as AsyncGenerator<{item}>;")
        lines.append("  }")
    if op.method_name == "get" and op.etag:
        lines.append("")
        lines.extend(_ts_doc("The record and its ETag, for If-Match.", "  "))
        signature = ", ".join([*args, f"options: {options}"])
        lines.append(f"  async getWithEtag({signature}): Promise<Tagged<{returns}>> {{")
        lines.append(f"    const answer = await {_ts_send(op)};")
        etag = 'answer.headers.get("etag") ?? ""'
        lines.append(f"    return {{ record: answer.data as {returns}, etag: {etag} }};")
        lines.append("  }")
    if (
        op.method_name == "update"
        and "get" in by_name
        and any(p.name == "If-Match" for p in op.params)
    ):
        record = by_name["get"].returns or "{ [key: string]: unknown }"
        ids = [camel(p.name) for p in op.path_params]
        lines.append("")
        lines.extend(
            _ts_doc(
                "Read the record, ask `change` for a patch, send it with the record's "
                "ETag; on 412 read and ask again, up to `attempts` times.",
                "  ",
            )
        )
        lines.append(
            f"  async modify({', '.join(i + ': string' for i in ids)}, change: "
            f"(record: {record}) => {op.body} | null | Promise<{op.body} | null>, "
            "options: { attempts?: number; timeoutMs?: number } = {}): "
            f"Promise<{returns}> {{"
        )
        lines.append("    return modifyRecord(")
        lines.append(
            f"      () => this.getWithEtag({', '.join(ids)}, {{ timeoutMs: options.timeoutMs }}),"
        )
        lines.append(
            f"      (patch, etag) => this.update({', '.join(ids)}, patch, "
            "{ ifMatch: etag, timeoutMs: options.timeoutMs }),"
        )
        lines.append("      change,")
        lines.append("      options.attempts ?? 5,")
        lines.append("    );")
        lines.append("  }")
    return lines


def ts_operations(document: dict[str, Any], ops: list[Operation], types: Types) -> str:
    grouped = resources(ops)
    names = sorted({n for o in ops for n in (o.body, o.returns) if n})
    item_names = {n for o in ops if o.item for n in re.findall(r"\w+", _ts_item(o, types))}
    lines = [
        f"// A method per operation of the contract. {GENERATED}",
        "",
        "import type { " + ", ".join(sorted(set(names) | item_names)) + ' } from "./models.js";',
        'import { modifyRecord, segment, type Tagged, type Transport } from "./runtime.js";',
        "",
        f'export const VERSION = "{document["info"]["version"]}";',
        f"export const TITLE = {json.dumps(document['info']['title'])};",
        "",
    ]
    for resource, members in grouped.items():
        lines.extend(_ts_doc(_resource_description(document, members), ""))
        lines.append(f"export class {pascal(resource)} {{")
        lines.append("  constructor(private readonly transport: Transport) {}")
        by_name = {o.method_name: o for o in members}
        for op in members:
            lines += _ts_methods(op, by_name, types)
        lines.append("}")
        lines.append("")
    lines.extend(_ts_doc("The resources of the contract, one property each.", ""))
    lines.append("export class Operations {")
    for resource in grouped:
        lines.append(f"  readonly {camel(resource)}: {pascal(resource)};")
    lines.append("")
    lines.append("  constructor(transport: Transport) {")
    for resource in grouped:
        lines.append(f"    this.{camel(resource)} = new {pascal(resource)}(transport);")
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


# Package files ----------------------------------------------------------------------------


def python_project(document: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"# {GENERATED}",
            "[build-system]",
            'requires = ["setuptools>=70.1"]',
            'build-backend = "setuptools.build_meta"',
            "",
            "[project]",
            f'name = "{DISTRIBUTION}"',
            f'version = "{document["info"]["version"]}"',
            f"description = {json.dumps('Typed client of ' + document['info']['title'])}",
            'readme = "README.md"',
            'requires-python = ">=3.11"',
            'dependencies = ["httpx>=0.25,<1"]',
            "",
            "[tool.setuptools.package-data]",
            f'{PYTHON_PACKAGE} = ["py.typed"]',
            "",
        ]
    )


def ts_package(document: dict[str, Any]) -> str:
    package = {
        "name": DISTRIBUTION,
        "version": document["info"]["version"],
        "description": f"Typed client of {document['info']['title']}",
        "type": "module",
        "main": "dist/index.js",
        "types": "dist/index.d.ts",
        "exports": {".": {"types": "./dist/index.d.ts", "default": "./dist/index.js"}},
        "files": ["dist", "src"],
        "engines": {"node": ">=20"},
        "scripts": {"build": "tsc -p tsconfig.json"},
        "comment": GENERATED,
    }
    return json.dumps(package, indent=2) + "\n"


def sources(document: dict[str, Any]) -> dict[str, str]:
    """The generated sources, by path under sdk/."""
    document = json.loads(json.dumps(document))  # inline names are marked on a copy
    types = Types(document["components"]["schemas"])
    types.collect()
    ops = operations(document)
    texts = (
        python_models(types),
        python_operations(document, ops),
        python_project(document),
        ts_models(types),
        ts_operations(document, ops, types),
        ts_package(document),
    )
    return dict(zip(GENERATED_FILES, texts, strict=True))


def build_typescript(root: Path, out: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`tsc --strict` of the TypeScript package under `root` into `out` (its dist/)."""
    command = ["node", str(TSC), "-p", str(root / "typescript" / "tsconfig.json")]
    if out is not None:
        command += ["--outDir", str(out)]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=300, check=False, cwd=root
    )


def format_python(paths: list[Path]) -> None:
    """ruff's format, as the repository's own files have it."""
    ruff = Path(sys.executable).parent / "ruff"
    subprocess.run([str(ruff), "format", "--quiet", *map(str, paths)], check=True)
    subprocess.run(
        [str(ruff), "check", "--quiet", "--fix", "--select", "I,F401", *map(str, paths)],
        check=False,
    )


def write(document: dict[str, Any], root: Path = SDK_ROOT) -> list[str]:
    """Write the generated sources under `root` (sdk/, or a copy of it with the
    hand-written files), format them and build the TypeScript package; returns what
    changed."""
    outputs = sources(document)
    dist = root / "typescript" / "dist"
    before = _snapshot(root, outputs, dist)
    for relative, text in outputs.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    format_python([root / r for r in outputs if r.endswith(".py")])
    shutil.rmtree(dist, ignore_errors=True)
    built = build_typescript(root)
    if built.returncode != 0:
        raise ContractError("tsc failed:\n" + built.stdout + built.stderr)
    after = _snapshot(root, outputs, dist)
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )


def _snapshot(root: Path, outputs: dict[str, str], dist: Path) -> dict[str, bytes]:
    found = {r: (root / r).read_bytes() for r in outputs if (root / r).is_file()}
    found |= {str(p.relative_to(root)): p.read_bytes() for p in _files(dist)}
    return found


def _files(folder: Path) -> Iterator[Path]:
    return (p for p in sorted(folder.rglob("*")) if p.is_file()) if folder.is_dir() else iter(())


def prepare(into: Path) -> None:
    """A copy of the hand-written half of the SDKs at `into` (an adopted app's
    `owner/sdk`), refreshed from the package's on every run."""
    for source in _files(SDK_ROOT):
        relative = source.relative_to(SDK_ROOT)
        if relative.parts[:2] == ("typescript", "dist") or str(relative) in GENERATED_FILES:
            continue
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def main(argv: list[str] | None = None) -> int:
    from functions.core import config  # noqa: PLC0415 - the tooling's imports stay light
    from functions.resources import declaration  # noqa: PLC0415

    owner = declaration.path() == declaration.OWNER_PATH
    parser = argparse.ArgumentParser(prog="make sdk", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--contract",
        type=Path,
        default=config.OWNER_FOLDER / "openapi.json" if owner else ROOT / "openapi.json",
    )
    parser.add_argument(
        "--into", type=Path, default=config.OWNER_FOLDER / "sdk" if owner else SDK_ROOT
    )
    args = parser.parse_args(argv)
    into = args.into.resolve()
    if into != SDK_ROOT:
        prepare(into)
    try:
        changed = write(json.loads(args.contract.read_text()), into)
    except ContractError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"sdk: {', '.join(changed) or 'nothing changed'} ({into})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
