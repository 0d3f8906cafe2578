"""The Firestore rules block of the declared resources, and its place in a rules file.

The block sits between two marker lines inside `match /databases/{database}/documents`;
everything outside the markers is the owner's and is never touched. Rules combine with
OR, so the block only ever allows what each resource's `direct_access` declares:
tenant-isolated reads of collections without hidden fields, and creates that pass the same
checks as the API, both for active partners only. Clients never update or delete.
"""

from __future__ import annotations

import re

from functions.core import config
from functions.core.models import ENTRY_ID_CHARS
from functions.resources import kinds
from functions.resources.declaration import OPERATIONS, RULES_WORDS, Declaration, Resource

BEGIN = "// BEGIN partner-api: generated from resources.toml by `make generate`; do not edit"
END = "// END partner-api"
BEGIN_PREFIX = "// BEGIN partner-api"
PARTNER_ID_RE2 = "^[A-Za-z0-9_-]{1,128}$"
RESERVED_ID_RE2 = "^__.*__$"
"""With PARTNER_ID_RE2, the callers' PARTNER_ID_PATTERN (RE2 has no lookahead)."""
PARTNERS_COLLECTION = config.DEFAULT_PARTNERS_COLLECTION
"""Where the rules read a partner's status: the functions' default (PARTNERS_COLLECTION)."""
PARTNER_USERS_COLLECTION = config.DEFAULT_PARTNER_USERS_COLLECTION
"""Where the rules read a user's current access: the default (PARTNER_USERS_COLLECTION)."""


_DOCUMENTS_MATCH = re.compile(r"match\s+/databases/\{(\w+)\}/documents")


class RulesFileError(ValueError):
    """A rules file whose partner block cannot be placed; the message says why."""


def block(declaration: Declaration, indent: str = "    ") -> str:
    """The generated block, marker lines included, indented for its place."""
    partner = (
        f"/databases/$(database)/documents/{PARTNERS_COLLECTION}/$(request.auth.token.partnerId)"
    )
    user = f"/databases/$(database)/documents/{PARTNER_USERS_COLLECTION}/$(request.auth.uid)"
    body = [
        BEGIN,
        '// Partners are Firebase Auth users whose custom claims carry role "partner" and a',
        "// partnerId; they reach only their own tenant's records of these collections.",
        "",
        "function partnerApiIsPartner() {",
        "  return request.auth != null",
        "    && request.auth.token.role == 'partner'",
        "    && request.auth.token.partnerId is string",
        f"    && request.auth.token.partnerId.matches({kinds.rules_string(PARTNER_ID_RE2)})",
        f"    && !request.auth.token.partnerId.matches({kinds.rules_string(RESERVED_ID_RE2)})",
        "    && partnerApiInMode();",
        "}",
        "",
        '// Test users (claim mode "test") reach test mode\'s database (sandbox) only, the',
        "// others the live one only: the same rules serve both databases.",
        "function partnerApiInMode() {",
        f"  return (database == '{config.TEST_DATABASE}')",
        "    == (request.auth.token.get('mode', 'live') == 'test');",
        "}",
        "",
        "// A partner user without a scopes claim holds every scope.",
        "function partnerApiHasScope(scope) {",
        "  return !('scopes' in request.auth.token)",
        "    || (request.auth.token.scopes is list && scope in request.auth.token.scopes);",
        "}",
        "",
        "// The API's own rules for suspension and for revoked, moved or disabled users, on",
        "// this door too. A partner without a record is active; a record whose status is",
        "// anything but 'active' shuts the partner out. A user without an access record is",
        "// judged by the token; a record written by a revoke, a move or a disable refuses",
        "// a token of another tenant, of a disabled user, or signed in before its",
        "// validAfter (whole seconds: a sign-in in the revoke's own second is refused).",
        "// (get() of a missing document fails the rule, hence exists() first.) Made only",
        "// where direct access is declared, after every cheaper check has passed.",
        "function partnerApiIsActive() {",
        f"  return (!exists({partner})",
        f"      || get({partner}).data.get('status', '') == 'active')",
        f"    && (!exists({user}) || partnerApiAdmits(get({user}).data));",
        "}",
        "",
        "function partnerApiAdmits(access) {",
        "  return access.get('partnerId', null) == request.auth.token.partnerId",
        "    && access.get('disabled', true) == false",
        "    && access.get('validAfter', null) is timestamp",
        "    && request.auth.token.auth_time * 1000 > access.validAfter.toMillis();",
        "}",
        "",
        "// The ids the API assigns and reads.",
        "function partnerApiIsId(id) {",
        f"  return id.matches('^{ENTRY_ID_CHARS}$');",
        "}",
        "",
        *_dedent(kinds.RULES_HELPERS),
    ]
    for resource in declaration.resources:
        body += ["", *_resource(resource, declaration)]
    body.append(END)
    return "\n".join(indent + line if line else "" for line in body) + "\n"


def _dedent(text: str) -> list[str]:
    return [line.removeprefix("    ") for line in text.rstrip("\n").split("\n")]


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def member(name: str) -> str:
    """How the rules read a field of a map: `.name`, or `['my-field']` for a name that
    is not an identifier of the rules language (or is one of its words)."""
    if _IDENTIFIER.fullmatch(name) and name not in RULES_WORDS:
        return f".{name}"
    return f"[{kinds.rules_string(name)}]"


def _resource(resource: Resource, declaration: Declaration) -> list[str]:
    name = resource.name.replace("-", "_")
    valid = f"partnerApiValid_{name}"
    # Where the tenant is in the path, the match's {tenant} is the caller's, and the
    # records hold no tenant field.
    owns = f"{member(resource.tenant_field)} == {_tenant_value(resource)}"
    stored, created = f"resource.data{owns}", f"request.resource.data{owns}"
    if resource.tenant_in_path:
        stored = created = "tenant == request.auth.token.partnerId"
    direct = resource.direct_access
    lines = [
        f"// {resource.name}: {', '.join(o for o in OPERATIONS if o in resource.operations)}"
        f"; straight on Firestore: {', '.join(sorted(direct)) or 'nothing (API only)'}",
    ]
    if "create" in direct:
        checks = _create_checks(resource, declaration)
        lines += [
            f"function {valid}(data) {{",
            f"  return {checks[0]}",
            *(f"    && {check}" for check in checks[1:-1]),
            f"    && {checks[-1]};",
            "}",
            "",
        ]
    lines.append(f"match /{resource.collection}/{{docId}} {{")
    if resource.hidden:
        lines.append(
            f"  // Hidden from partners: {', '.join(resource.hidden)}. Rules cannot hide a "
            "field, so partners read through the API only."
        )
    if resource.api_only and "create" in direct:
        lines.append(
            f"  // Through the API only: {', '.join(resource.api_only)} (beyond what the rules "
            "can check; a direct create may not hold them)."
        )
    return [*lines, *_allows(resource, stored, created, valid), "}"]


def _allows(resource: Resource, stored: str, created: str, valid: str) -> list[str]:
    """The allow statements of a resource's match: what `direct_access` opens, the cheap
    checks first (the status read is made only for a partner who passes them: rules stop
    at the first false term)."""
    direct = resource.direct_access
    read = f"partnerApiIsPartner() && partnerApiHasScope('{resource.read_scope}')"
    write = f"partnerApiIsPartner() && partnerApiHasScope('{resource.write_scope}')"
    lines = []
    if "read" in direct and "get" in resource.operations:
        lines += [f"  allow get: if {read}", f"    && {stored}", "    && partnerApiIsActive();"]
    if "read" in direct and "list" in resource.operations:
        lines += [
            "  // A list must be filtered to the caller's tenant and fetch at most "
            f"{resource.max_page_size} documents.",
            f"  allow list: if {read}",
            f"    && {stored}",
            f"    && request.query.limit <= {resource.max_page_size}",
            "    && partnerApiIsActive();",
        ]
    if "create" in direct:
        lines += [
            f"  allow create: if {write}",
            "    && partnerApiIsId(docId)",
            f"    && {created}",
            f"    && {valid}(request.resource.data)",
            "    && partnerApiIsActive();",
        ]
    if "delete" in direct:
        remove = f"partnerApiIsPartner() && partnerApiHasScope('{resource.scope_of_delete}')"
        lines += [
            f"  allow delete: if {remove}",
            f"    && {stored}",
            "    && partnerApiIsActive();",
        ]
    closed = "update" if "delete" in direct else "update, delete"
    return [
        *lines,
        "  // Partners change records through the API only (versions, If-Match).",
        f"  allow {closed}: if false;" if direct else "  allow read, write: if false;",
    ]


def _create_checks(resource: Resource, declaration: Declaration) -> list[str]:
    """What a direct create's document must be: the API's checks, in the rules."""
    tenant = [] if resource.tenant_in_path else [resource.tenant_field]
    book = resource.bookkeeping
    required = [*tenant, *book.fields] + [
        spec.name for spec in resource.fields if spec.required or spec.server_set
    ]
    allowed = (
        tenant
        + [spec.name for spec in resource.fields if spec.creatable or spec.server_set]
        + list(book.fields)
    )
    checks = [
        f"data.keys().hasAll({_list(required)})",
        f"data.keys().hasOnly({_list(allowed)})",
    ]
    for spec in resource.fields:
        value = f"data{member(spec.name)}"
        if spec.server_set:
            checks.append(f"{value} == request.time")
        elif spec.name in resource.api_only:
            checks.append(f"!({kinds.rules_string(spec.name)} in data)")
        elif spec.creatable:
            check = kinds.rules_check(spec, value)
            target = declaration.at(spec.to) if spec.kind == "reference" else None
            if target is not None:  # a reference to a tenant's record: the caller's only
                tenant_of = f"get({value}).data{member(target.tenant_field)}"
                check += f" && {tenant_of} == {_tenant_value(target)}"
            quoted = kinds.rules_string(spec.name)
            checks.append(check if spec.required else f"(!({quoted} in data) || {check})")
    checks += [
        f"data{member(field)} == request.time"
        for field in (book.created_at, book.updated_at)
        if field
    ]
    if book.created_by is not None:
        checks.append(f"data{member(book.created_by)} == request.auth.uid")
    if book.version is not None:
        checks.append(f"data{member(book.version)} == 1")
    return checks


def _tenant_value(resource: Resource) -> str:
    """What the caller's records hold in the tenant field: the partner id, or a reference
    to the tenant's document."""
    if resource.tenant_reference:
        return (
            f"/databases/$(database)/documents/{resource.tenant_reference}"
            "/$(request.auth.token.partnerId)"
        )
    return "request.auth.token.partnerId"


def _list(names: list[str]) -> str:
    return "[" + ", ".join(kinds.rules_string(name) for name in names) + "]"


def place(rules: str, generated: str) -> str:
    """`rules` with its partner block replaced by `generated` (or added, at the end of the
    documents match, when it has none); every other line is kept byte for byte.

    Raises:
        RulesFileError: unbalanced markers, or no `match /databases/{database}/documents`.
    """
    lines = rules.splitlines(keepends=True)
    begins = [i for i, line in enumerate(lines) if line.strip().startswith(BEGIN_PREFIX)]
    ends = [i for i, line in enumerate(lines) if line.strip() == END]
    if len(begins) > 1 or len(ends) > 1 or len(begins) != len(ends):
        raise RulesFileError("the partner-api markers are unbalanced; fix them by hand")
    database = _DOCUMENTS_MATCH.search(rules)
    if database is not None and database.group(1) != "database":  # the owner's own name
        generated = generated.replace("$(database)", f"$({database.group(1)})")
    if begins:
        start, stop = begins[0], ends[0]
        if stop < start:
            raise RulesFileError("the partner-api END marker comes before BEGIN")
        return "".join(lines[:start]) + generated + "".join(lines[stop + 1 :])
    close = _documents_match_end(lines)
    return "".join(lines[:close]) + "\n" + generated + "".join(lines[close:])


def _documents_match_end(lines: list[str]) -> int:
    """The line index of the `}` closing `match /databases/{database}/documents`."""
    depth, opened = 0, None
    for index, line in enumerate(lines):
        code = line.split("//", 1)[0]
        if opened is None and "match /databases/" in code and "/documents" in code:
            opened = depth
        depth += code.count("{") - code.count("}")
        if opened is not None and depth <= opened and "}" in code:
            return index
    raise RulesFileError("no `match /databases/{database}/documents { ... }` block found")
