"""The partners command-line tool: `python -m functions.partners
grant|revoke|list|show|create|token`, `... keys create|list|show|revoke|roll`,
`... partner add|suspend|resume|limits|show|list`, `... audit` and `... inspect`.

This module only parses arguments, asks for confirmations and prints; every action is a
method of `functions.operations.operator.Operator`, which a console calls just the same.
Works against the emulators (FIRESTORE_EMULATOR_HOST, FIREBASE_AUTH_EMULATOR_HOST) or a
real project (Application Default Credentials, or --credentials with a service-account
file).

Exit codes: 0 done, 1 refused (unknown user, bad input, conflicting grant), 2 usage,
3 environment (no or unreadable credentials, an emulator or backend that does not answer).
Every expected failure is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NoReturn

from functions.contract import catalog
from functions.contract.webhook_models import WebhookDeliveryJson
from functions.core.models import DayUsage, UserAccess, WebhookEndpoint
from functions.operations.clients import probe_emulators
from functions.operations.errors import (
    EXIT_ENVIRONMENT,
    EXIT_REFUSED,
    EXIT_USAGE,
    EnvironmentProblem,
    Refused,
    UsageError,
    environment_problem,
)
from functions.operations.keys import IssuedKey, duration, key_json
from functions.operations.operator import DIRECT_ACCESS_NOTE, SUSPENDED_NOTE, Operator
from functions.operations.records import partner_json
from functions.operations.users import PartnerUser

MODES = ("live", "test")
MODE_HELP = (
    "live (default) or test: test mode's keys (pak_test_) and users, and the records, "
    "audit trail, usage and webhooks of its database (sandbox)"
)
EXAMPLES = """examples (against the emulators of `make serve`):
  python -m functions.partners partner add acme --name "Acme Foods" --rate 50
  python -m functions.partners create buyer@acme.example --partner acme
  python -m functions.partners grant buyer@acme.example --partner acme --scopes entries:read
  python -m functions.partners keys create --partner acme --expires-in 90d --label "ERP sync"
  python -m functions.partners keys roll KEY_ID --overlap 24h
  python -m functions.partners partner suspend acme --yes
  python -m functions.partners audit --partner acme --since 2026-11-01
  python -m functions.partners inspect entries --partner acme

against a real project: --project ID, and --credentials FILE or Application Default
Credentials. Exit codes: 0 done, 1 refused, 2 usage, 3 environment. Every command takes
--json (errors then come as JSON on stderr too)."""


YES_HELP = "do it without asking (needed where there is no terminal to ask on)"


class _Parser(argparse.ArgumentParser):
    """argparse, whose usage errors come as JSON on stderr when --json was asked for
    (subcommand parsers are made as this class too, and share the flag)."""

    json_errors = False

    def error(self, message: str) -> NoReturn:
        if self.json_errors:
            _print_error("usage", message, EXIT_USAGE, as_json=True)
            raise SystemExit(EXIT_USAGE)
        super().error(message)


def _parser(*, json_errors: bool = False) -> argparse.ArgumentParser:
    _Parser.json_errors = json_errors
    parser = _Parser(
        prog="python -m functions.partners",
        description=(
            "Run a Firebase app's partners: their records, limits and suspension, their "
            "users (custom claims) and API keys, the audit trail, and what partners would "
            "see of a declared collection (inspect)."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--project",
        default=os.environ.get("GCLOUD_PROJECT") or os.environ.get("GOOGLE_CLOUD_PROJECT"),
        help="Firebase project id (default: $GCLOUD_PROJECT)",
    )
    parser.add_argument("--credentials", help="service-account JSON file (default: ADC)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--mode", choices=MODES, default="live", help=MODE_HELP)
    commands = parser.add_subparsers(dest="command", required=True)
    # --json and --mode are accepted after any subcommand too.
    json_flag = argparse.ArgumentParser(add_help=False)
    json_flag.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    json_flag.add_argument("--mode", choices=MODES, default=argparse.SUPPRESS, help=MODE_HELP)

    def command(group: Any, name: str, text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = group.add_parser(
            name, help=text, description=text, parents=[json_flag]
        )
        return parser

    scopes_help = "comma-separated scopes (default: every scope resources.toml declares)"
    create_help = "add the partner's record if it has none (otherwise refused)"
    grant = command(commands, "grant", "make a user a partner user of PARTNER_ID")
    grant.add_argument("user", help="uid or email")
    grant.add_argument("--partner", required=True, dest="partner_id")
    grant.add_argument("--scopes", help=scopes_help)
    grant.add_argument("--move", action="store_true", help="reassign from another partner")
    grant.add_argument("--create-partner", action="store_true", help=create_help)

    revoke = command(commands, "revoke", "remove partner claims and end sessions")
    revoke.add_argument("user", help="uid or email")
    revoke.add_argument("--yes", action="store_true", help=YES_HELP)

    listing = command(commands, "list", "list partner users")
    listing.add_argument("--partner", dest="partner_id", help="only this partner's users")

    show = command(commands, "show", "show one user's claims")
    show.add_argument("user", help="uid or email")

    token = command(commands, "token", "print a fresh ID token of a user (Auth emulator only)")
    token.add_argument("user", help="uid or email")

    for verb, text in (
        ("disable", "disable a user's account: both doors refuse them on their next call"),
        ("enable", "enable a disabled user's account again"),
    ):
        toggle = command(commands, verb, text)
        toggle.add_argument("user", help="uid or email")
    command(
        commands,
        "sync-users",
        "align every user's access record (what the rules check) with Firebase Auth: for "
        "users disabled, deleted, revoked or moved outside this tool",
    )

    create = command(commands, "create", "create a partner user with a new password")
    create.add_argument("email")
    create.add_argument("--partner", required=True, dest="partner_id")
    create.add_argument("--scopes", help=scopes_help)
    create.add_argument("--create-partner", action="store_true", help=create_help)

    _key_commands(commands, command, scopes_help, create_help)
    _partner_commands(commands, command)
    _webhook_commands(commands, command)
    _console_commands(commands, command)
    return parser


def _key_commands(
    commands: Any,
    command: Callable[..., argparse.ArgumentParser],
    scopes_help: str,
    create_help: str,
) -> None:
    keys = command(commands, "keys", "manage partner API keys").add_subparsers(
        dest="keys_command", required=True
    )
    key_create = command(keys, "create", "create a key (printed once)")
    key_create.add_argument("--partner", required=True, dest="partner_id")
    key_create.add_argument("--scopes", help=scopes_help)
    key_create.add_argument("--expires-in", help="lifetime: 30s, 15m, 12h or 90d (default: none)")
    key_create.add_argument("--label", help="what the key is for")
    key_create.add_argument("--create-partner", action="store_true", help=create_help)
    key_list = command(keys, "list", "list keys (never their secrets)")
    key_list.add_argument("--partner", dest="partner_id", help="only this partner's keys")
    command(keys, "show", "show one key").add_argument("key_id")
    key_revoke = command(keys, "revoke", "revoke a key at once")
    key_revoke.add_argument("key_id")
    key_revoke.add_argument("--yes", action="store_true", help=YES_HELP)
    key_roll = command(keys, "roll", "replace a key; the old one works for the overlap")
    key_roll.add_argument("key_id")
    key_roll.add_argument("--overlap", default="24h", help="how long the old key keeps working")


def _console_commands(commands: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    """`owners add|remove|list` (who may use the console) and `usage`."""
    owners = command(commands, "owners", "manage who may sign in to the console")
    verbs = owners.add_subparsers(dest="owners_command", required=True)
    add = command(verbs, "add", "give a user the owner claim")
    add.add_argument("email")
    add.add_argument(
        "--create", action="store_true", help="create the user (a new password, printed once)"
    )
    remove = command(verbs, "remove", "take the owner claim away and end their sessions")
    remove.add_argument("email", help="email or uid")
    command(verbs, "list", "list the owners")
    usage = command(commands, "usage", "a partner's calls per day")
    usage.add_argument("--partner", required=True, dest="partner_id")
    usage.add_argument("--days", type=int, default=30, help="how many days, today last (1-90)")


def _webhook_commands(commands: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    hooks = command(commands, "webhooks", "manage partners' webhook endpoints").add_subparsers(
        dest="webhooks_command", required=True
    )
    add = command(hooks, "add", "add an endpoint for a partner (its secret printed once)")
    add.add_argument("--partner", required=True, dest="partner_id")
    add.add_argument("--url", required=True, help="https URL the events are POSTed to")
    add.add_argument("--events", default="*", help="comma-separated event types (default: *)")
    add.add_argument("--description", help="what the endpoint is for")
    listing = command(hooks, "list", "list endpoints (never their secrets)")
    listing.add_argument("--partner", dest="partner_id", help="only this partner's endpoints")
    command(hooks, "show", "show one endpoint").add_argument("endpoint_id")
    disable = command(hooks, "disable", "stop deliveries to an endpoint")
    disable.add_argument("endpoint_id")
    disable.add_argument("--reason", default="disabled by the owner", help="shown with it")
    command(hooks, "enable", "deliver to an endpoint again").add_argument("endpoint_id")
    rotate = command(hooks, "rotate-secret", "a new signing secret; the old one keeps signing")
    rotate.add_argument("endpoint_id")
    rotate.add_argument("--overlap", default="24h", help="how long the old secret signs too")
    attempts = command(hooks, "deliveries", "an endpoint's latest deliveries and attempts")
    attempts.add_argument("endpoint_id")
    replay = command(hooks, "replay", "deliver an event to an endpoint once more")
    replay.add_argument("event_id")
    replay.add_argument("--endpoint", required=True, dest="endpoint_id")
    delete = command(hooks, "delete", "delete an endpoint")
    delete.add_argument("endpoint_id")
    delete.add_argument("--yes", action="store_true", help=YES_HELP)


def _partner_commands(commands: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    """`partner add|suspend|resume|show|list|limits` and `audit`."""
    partner = command(commands, "partner", "manage partner records").add_subparsers(
        dest="partner_command", required=True
    )
    add = command(partner, "add", "add a partner (active)")
    add.add_argument("partner_id")
    add.add_argument("--name", help="display name (default: the id)")
    for name, text in (
        ("suspend", "suspend a partner: its users and keys get 403 on their next call"),
        ("resume", "resume a suspended partner"),
        ("show", "show a partner's record and the limits that apply"),
    ):
        target = command(partner, name, text)
        target.add_argument("partner_id")
        if name == "suspend":
            target.add_argument("--yes", action="store_true", help=YES_HELP)
    command(partner, "list", "list partner records")
    limits = command(partner, "limits", "override a partner's limits (others keep defaults)")
    limits.add_argument("partner_id")
    for target in (add, limits):
        target.add_argument("--rate", type=float, help="calls a second, sustained")
        target.add_argument("--burst", type=int, help="calls at once")
        target.add_argument("--daily-creates", type=int, help="records created a UTC day")

    inspect = command(
        commands, "inspect", "what partners would see of a declared collection (read only)"
    )
    inspect.add_argument(
        "resource", nargs="?", help="a resource resources.toml declares (or --collection)"
    )
    inspect.add_argument(
        "--collection",
        help="with --propose: a collection not yet declared (menus, or restaurants/*/orders)",
    )
    inspect.add_argument(
        "--propose",
        action="store_true",
        help=f"print a resources.toml block for --collection, from at most {PROPOSAL_SAMPLE} "
        "documents",
    )
    inspect.add_argument("--partner", dest="partner_id", help="only this partner's documents")
    inspect.add_argument(
        "--sample",
        type=_sample_size,
        default=DEFAULT_SAMPLE,
        help=f"read at most N documents, in id order (default {DEFAULT_SAMPLE})",
    )

    audit = command(commands, "audit", "print a partner's audit trail, oldest first")
    audit.add_argument("--partner", required=True, dest="partner_id")
    audit.add_argument("--since", help="only records from this day on (YYYY-MM-DD, UTC)")
    audit.add_argument("--entry", dest="record_id", help="only the records of this entry")


DEFAULT_SAMPLE = 10_000
PROPOSAL_SAMPLE = 500
"""Documents a proposal reads, at most."""
MAX_SAMPLE = 10_000_000


def _sample_size(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_SAMPLE:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_SAMPLE}")
    return value


def _scopes(raw: str | None) -> list[str] | None:
    return None if raw is None else [s.strip() for s in raw.split(",") if s.strip()]


USERS_HEADER = "UID\tEMAIL\tCLAIMS"
KEYS_HEADER = "ID\tPARTNER\tSCOPES\tSTATUS\tLABEL\tCREATED\tEXPIRES\tLAST USED\tREVOKED\tHINT"
PARTNERS_HEADER = "ID\tSTATUS\tNAME\tRATE\tDAILY CREATES"
AUDIT_HEADER = "AT\tOPERATION\tRECORD\tVERSIONS\tFIELDS\tACTOR\tREQUEST"


def _describe(user: PartnerUser) -> str:
    claims = json.dumps(dict(user.claims), sort_keys=True)
    state = " (disabled)" if user.disabled else ""
    return f"{user.uid}\t{user.email or '-'}\t{claims}{state}"


def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: 0 done, 1 refused, 2 usage, 3 environment (see `functions.operations.errors`)."""
    words = sys.argv[1:] if argv is None else argv
    args = _parser(json_errors="--json" in words).parse_args(argv)
    args.json = getattr(args, "json", False)
    if not args.project:
        _print_error(
            "usage",
            "no project: pass --project or set GCLOUD_PROJECT",
            EXIT_USAGE,
            as_json=args.json,
        )
        return EXIT_USAGE
    try:
        probe_emulators()
    except EnvironmentProblem as exc:
        _print_error("environment", str(exc), EXIT_ENVIRONMENT, as_json=args.json)
        return EXIT_ENVIRONMENT
    run = {
        "keys": _keys_command,
        "partner": _partner_command,
        "audit": _audit_command,
        "inspect": _inspect_command,
        "token": _token_command,
        "webhooks": _webhooks_command,
        "owners": _owners_command,
        "usage": _usage_command,
    }.get(args.command, _users_command)
    try:
        catalog.discover()  # the scopes of the owner's endpoints are known scopes too
        return run(args)
    except UsageError as exc:
        _print_error("usage", str(exc), EXIT_USAGE, as_json=args.json)
        return EXIT_USAGE
    except Refused as exc:
        _print_error("refused", str(exc), EXIT_REFUSED, as_json=args.json)
        return EXIT_REFUSED
    except Exception as exc:
        problem = environment_problem(exc)
        if problem is None:
            raise
        _print_error("environment", problem, EXIT_ENVIRONMENT, as_json=args.json)
        return EXIT_ENVIRONMENT


def _print_error(kind: str, message: str, code: int, *, as_json: bool) -> None:
    """One line on stderr: `error: ...`, or with --json `{"error": {...}}`."""
    text = " ".join(message.split())
    if as_json:
        print(json.dumps({"error": {"kind": kind, "message": text, "exit": code}}), file=sys.stderr)
    else:
        print(f"error: {text}", file=sys.stderr)


def _confirm(args: argparse.Namespace, question: str) -> None:
    """Ask on a terminal, unless --yes; refuse where there is none to ask on.

    Raises: UsageError (no terminal, no --yes), Refused (the answer was not yes).
    """
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{question}: pass --yes to confirm (there is no terminal to ask on)")
    answer = input(f"{question}? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise Refused("not confirmed; nothing changed")


def _token_command(args: argparse.Namespace) -> int:
    """A fresh ID token of a user, for local work. Raises: Refused."""
    operator = Operator(args.project, args.credentials, mode=args.mode)
    token = operator.emulator_token(args.user, os.environ.get("FIREBASE_AUTH_EMULATOR_HOST"))
    print(json.dumps({"idToken": token, "expiresIn": 3600}) if args.json else token)
    return 0


def access_json(access: UserAccess) -> dict[str, Any]:
    return {
        "uid": access.uid,
        "partnerId": access.partner_id,
        "validAfter": _iso(access.valid_after),
        "disabled": access.disabled,
    }


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _users_command(args: argparse.Namespace) -> int:
    """Raises: Refused."""
    operator = Operator(args.project, args.credentials, mode=args.mode)
    if args.command == "list":
        found = operator.partner_users(args.partner_id)
        if args.json:
            print(json.dumps([u.as_json() for u in found], indent=2))
        else:
            rows = [_describe(u) for u in found]
            print("\n".join([USERS_HEADER, *rows]) if rows else "no partner users")
        return 0
    if args.command == "show":
        user = operator.user(args.user)
        print(json.dumps(user.as_json(), indent=2) if args.json else _describe(user))
        return 0
    if args.command in ("disable", "enable"):
        user = operator.set_disabled(args.user, args.command == "disable")
        print(json.dumps(user.as_json(), indent=2) if args.json else _describe(user))
        return 0
    if args.command == "sync-users":
        changed = operator.sync_access()
        if args.json:
            print(json.dumps([access_json(access) for access in changed], indent=2))
        else:
            rows = [
                f"{a.uid}\t{a.partner_id or '-'}\t{_iso(a.valid_after)}\t"
                f"{'disabled' if a.disabled else 'enabled'}"
                for a in changed
            ]
            print(
                "\n".join(["uid\tpartner\tvalid after\taccount", *rows])
                if rows
                else "every access record agrees with Firebase Auth"
            )
        return 0
    if args.command == "create":
        user, password = operator.create_user(
            args.email, args.partner_id, _scopes(args.scopes), create_partner=args.create_partner
        )
        output = {**user.as_json(), "password": password}
        shown = f"{USERS_HEADER}\n{_describe(user)}\npassword: {password}"
        print(json.dumps(output, indent=2) if args.json else shown)
        return 0
    if args.command == "grant":
        change = operator.grant(
            args.user,
            args.partner_id,
            _scopes(args.scopes),
            move=args.move,
            create_partner=args.create_partner,
        )
    else:
        operator.check_revoke(args.user)  # refused before anyone is asked
        _confirm(args, f"revoke {args.user}'s partner claims and end their sessions")
        change = operator.revoke(args.user)
    if args.json:
        print(json.dumps(change.as_json(), indent=2))
    else:
        before = json.dumps(dict(change.before), sort_keys=True)
        print(f"before\t{before}\nafter\t{_describe(change.after)}")
    if change.narrows():
        print(DIRECT_ACCESS_NOTE, file=sys.stderr)
    return 0


def _keys_command(args: argparse.Namespace) -> int:
    """Raises: Refused."""
    operator = Operator(args.project, args.credentials, mode=args.mode)
    command = args.keys_command
    if command == "list":
        found = operator.key_list(args.partner_id)
        if args.json:
            print(json.dumps([key_json(k) for k in found], indent=2))
        else:
            rows = [_describe_key(key_json(k)) for k in found]
            print("\n".join([KEYS_HEADER, *rows]) if rows else "no keys")
        return 0
    if command in ("show", "revoke"):
        if command == "revoke":
            operator.key(args.key_id)  # an unknown key is refused before anyone is asked
            _confirm(args, f"revoke key {args.key_id} (its next call gets 401)")
            shown = key_json(operator.revoke_key(args.key_id))
        else:
            shown = key_json(operator.key(args.key_id))
        print(json.dumps(shown, indent=2) if args.json else _describe_key(shown))
        return 0
    if command == "create":
        issued = operator.create_key(
            args.partner_id,
            _scopes(args.scopes),
            expires_in=args.expires_in,
            label=args.label,
            create_partner=args.create_partner,
        )
        _print_issued(issued, as_json=args.json)
        return 0
    issued, replaced = operator.roll_key(args.key_id, args.overlap)
    old = key_json(replaced)
    if args.json:
        print(json.dumps({**issued.as_json(), "replaced": old}, indent=2))
        return 0
    _print_issued(issued, as_json=False)
    print(f"the old key {old['id']} keeps working until {old['expiresAt']}", file=sys.stderr)
    return 0


WEBHOOKS_HEADER = "ID\tPARTNER\tSTATUS\tEVENTS\tURL\tDESCRIPTION"


def _webhooks_command(args: argparse.Namespace) -> int:
    """Raises: Refused, UsageError."""
    operator = Operator(args.project, args.credentials, mode=args.mode)
    command = args.webhooks_command
    if command == "list":
        found = operator.webhook_list(args.partner_id)
        if args.json:
            print(json.dumps([_webhook_json(e) for e in found], indent=2))
        else:
            rows = [_describe_webhook(e) for e in found]
            print("\n".join([WEBHOOKS_HEADER, *rows]) if rows else "no webhook endpoints")
        return 0
    if command == "deliveries":
        records = [
            WebhookDeliveryJson.of(d).model_dump()
            for d in operator.webhook_deliveries(args.endpoint_id)
        ]
        if args.json:
            print(json.dumps(records, indent=2))
        else:
            rows = [_describe_delivery(d) for d in records]
            print("\n".join([DELIVERIES_HEADER, *rows]) if rows else "no deliveries")
        return 0
    if command == "replay":
        task = operator.replay_delivery(args.event_id, args.endpoint_id)
        print(json.dumps({"task": task}) if args.json else f"enqueued {task}")
        return 0
    secret = None
    if command == "add":
        events = [e.strip() for e in args.events.split(",") if e.strip()]
        endpoint, secret = operator.add_webhook(args.partner_id, args.url, events, args.description)
    elif command == "show":
        endpoint = operator.webhook(args.endpoint_id)
    elif command in ("disable", "enable"):
        status = "disabled" if command == "disable" else "enabled"
        reason = args.reason if command == "disable" else None
        endpoint = operator.set_webhook_status(args.endpoint_id, status, reason)
    elif command == "rotate-secret":
        endpoint, secret = operator.rotate_webhook_secret(args.endpoint_id, duration(args.overlap))
    else:
        operator.webhook(args.endpoint_id)  # an unknown endpoint is refused before asking
        _confirm(args, f"delete webhook endpoint {args.endpoint_id}")
        endpoint = operator.delete_webhook(args.endpoint_id)
    shown = _webhook_json(endpoint, secret)
    print(json.dumps(shown, indent=2) if args.json else _describe_webhook(endpoint, secret))
    return 0


def _owners_command(args: argparse.Namespace) -> int:
    """Raises: Refused."""
    operator = Operator(args.project, args.credentials, mode=args.mode)
    if args.owners_command == "list":
        found = [
            {"uid": o.uid, "email": o.email, "disabled": o.disabled} for o in operator.owners()
        ]
        if args.json:
            print(json.dumps(found, indent=2))
        else:
            rows = [f"{o['uid']}\t{o['email'] or '-'}" for o in found]
            print("\n".join(["UID\tEMAIL", *rows]) if rows else "no owners")
        return 0
    if args.owners_command == "add":
        user, password = operator.add_owner(args.email, create=args.create)
        shown = {"uid": user.uid, "email": user.email, "owner": True, "password": password}
        if not args.json:
            said = f"{user.email} ({user.uid}) is an owner"
            print(said + (f"\npassword (shown once): {password}" if password else ""))
            return 0
        print(json.dumps({k: v for k, v in shown.items() if v is not None}, indent=2))
        return 0
    user = operator.remove_owner(args.email)
    shown = {"uid": user.uid, "email": user.email, "owner": False}
    print(json.dumps(shown, indent=2) if args.json else f"{user.email} is no longer an owner")
    return 0


USAGE_HEADER = "DAY\tCALLS\tOK\t4XX\t429\t5XX\tCREATES"


def _usage_command(args: argparse.Namespace) -> int:
    """Raises: UsageError, Refused."""
    operator = Operator(args.project, args.credentials, mode=args.mode)
    rows = operator.usage([args.partner_id], args.days)
    if args.json:
        print(json.dumps([usage_json(r) for r in rows], indent=2))
        return 0
    lines = [
        f"{r.day}\t{r.calls}\t{r.ok}\t{r.client_errors}\t{r.limited}\t{r.errors}\t{r.creates}"
        for r in rows
    ]
    print("\n".join([USAGE_HEADER, *lines]))
    return 0


def usage_json(row: DayUsage) -> dict[str, Any]:
    """A day of a partner's usage, as `usage --json` prints it."""
    return {
        "partner_id": row.partner_id,
        "day": row.day.isoformat(),
        "calls": row.calls,
        "ok": row.ok,
        "client_errors": row.client_errors,
        "limited": row.limited,
        "errors": row.errors,
        "creates": row.creates,
        "sdks": dict(row.sdks),
    }


DELIVERIES_HEADER = "DELIVERY\tEVENT\tSTATE\tATTEMPTS\tLAST STATUS\tLAST ERROR\tUPDATED"


def _describe_delivery(shown: Mapping[str, Any]) -> str:
    last = shown["attempts"][-1] if shown["attempts"] else {}
    return (
        f"{shown['id']}\t{shown['event_id']}\t{shown['state']}\t{len(shown['attempts'])}"
        f"\t{last.get('status') or '-'}\t{last.get('error') or '-'}\t{shown['updated_at']}"
    )


def _webhook_json(endpoint: WebhookEndpoint, secret: str | None = None) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": endpoint.id,
        "partnerId": endpoint.partner_id,
        "url": endpoint.url,
        "event_types": list(endpoint.event_types),
        "status": endpoint.status,
        "disabled_reason": endpoint.disabled_reason,
        "description": endpoint.description,
        "created_at": endpoint.created_at.isoformat(),
        "updated_at": endpoint.updated_at.isoformat(),
    }
    if secret is not None:
        shown["secret"] = secret
    return shown


def _describe_webhook(endpoint: WebhookEndpoint, secret: str | None = None) -> str:
    status = endpoint.status + (
        f" ({endpoint.disabled_reason})" if endpoint.disabled_reason else ""
    )
    line = (
        f"{endpoint.id}\t{endpoint.partner_id}\t{status}\t{','.join(endpoint.event_types)}"
        f"\t{endpoint.url}\t{endpoint.description or '-'}"
    )
    if secret is not None:
        line += f"\nsigning secret (shown once; store it now): {secret}"
    return line


def _partner_command(args: argparse.Namespace) -> int:
    """Raises: Refused, UsageError."""
    command = args.partner_command
    operator = Operator(args.project, args.credentials, mode=args.mode)
    overrides = {}
    if command in ("add", "limits"):  # the flags' own words first, before any connection
        overrides = operator.limit_overrides(args.rate, args.burst, args.daily_creates)
    if command == "list":
        found = [partner_json(record, snapshot) for record, snapshot in operator.partner_records()]
        if args.json:
            print(json.dumps(found, indent=2))
        else:
            rows = [_describe_partner(p) for p in found]
            print("\n".join([PARTNERS_HEADER, *rows]) if rows else "no partner records")
        return 0
    if command == "add":
        operator.add_partner(args.partner_id, args.name, overrides)
    elif command == "suspend":
        operator.check_suspend(args.partner_id)  # refused before anyone is asked
        _confirm(args, f"suspend {args.partner_id} (its users and keys get 403 at once)")
        operator.suspend(args.partner_id)
    elif command == "resume":
        operator.resume(args.partner_id)
    elif command == "limits":
        operator.set_limits(args.partner_id, overrides)
    shown = partner_json(*operator.partner(args.partner_id))
    print(json.dumps(shown, indent=2) if args.json else _describe_partner(shown))
    if command == "suspend":
        print(SUSPENDED_NOTE, file=sys.stderr)
    return 0


def _describe_partner(partner: Mapping[str, Any]) -> str:
    limits = partner["limits"]
    return "\t".join(
        (
            partner["id"],
            partner["status"],
            partner["displayName"] or "-",
            f"{limits['ratePerSecond']:g}/s burst {limits['burst']}",
            f"{limits['dailyCreates']} creates a day",
        )
    )


def _audit_command(args: argparse.Namespace) -> int:
    """Raises: Refused, UsageError."""
    operator = Operator(args.project, args.credentials, mode=args.mode)
    found = operator.audit(args.partner_id, args.since, args.record_id)
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    lines = [
        "\t".join(
            str(v)
            for v in (
                entry.get("at"),
                entry.get("operation"),
                f"{entry.get('resource')}/{entry.get('recordId')}",
                _versions(entry.get("versionBefore"), entry.get("versionAfter")),
                ",".join(entry.get("fields") or []) or "-",
                entry.get("actor"),
                entry.get("requestId") or "-",
            )
        )
        for entry in found
    ]
    print("\n".join([AUDIT_HEADER, *lines]) if lines else "no audit records")
    return 0


def _versions(before: Any, after: Any) -> str:
    """`v1 -> v2`, `v- -> v1` for a create; `-` for an owner's action (no record version)."""
    if before is None and after is None:
        return "-"
    return f"v{before or '-'} -> v{after}"


def _inspect_command(args: argparse.Namespace) -> int:
    """Raises: Refused (a resource the declaration does not name); UsageError (neither a
    resource nor --collection --propose)."""
    from functions.operations import inspection  # noqa: PLC0415

    if args.propose or args.collection:
        if not (args.propose and args.collection) or args.resource or args.partner_id:
            raise UsageError("inspect --collection PATH --propose takes no resource or --partner")
        operator = Operator(args.project, args.credentials, mode=args.mode)
        proposed = operator.propose(args.collection, sample=min(args.sample, PROPOSAL_SAMPLE))
        print(json.dumps(proposed.as_json(), indent=2) if args.json else proposed.render(), end="")
        return 0
    if not args.resource:
        raise UsageError("inspect: name a resource, or --collection PATH --propose")
    operator = Operator(args.project, args.credentials, mode=args.mode)
    found = operator.inspect(
        args.resource, partner_id=args.partner_id, sample=args.sample, progress=_with_progress
    )
    print(json.dumps(found.as_json(), indent=2) if args.json else inspection.render(found))
    return 0


def _with_progress(documents: Iterator[Any], every: int = 500) -> Iterator[Any]:
    """The documents, counted on stderr as they stream when it is a terminal."""
    shown = sys.stderr.isatty()
    count = 0
    for document in documents:
        count += 1
        if shown and count % every == 0:
            print(f"\rscanned {count} documents ...", end="", file=sys.stderr, flush=True)
        yield document
    if shown and count >= every:
        print("\r" + " " * 40 + "\r", end="", file=sys.stderr, flush=True)


def _print_issued(issued: IssuedKey, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(issued.as_json(), indent=2))
        return
    print(issued.key)
    print(f"{_describe_key(key_json(issued.record))}", file=sys.stderr)
    print("this is the only time the key is shown; store it in a secret manager", file=sys.stderr)


def _describe_key(key: Mapping[str, Any]) -> str:
    state = key["status"]
    if state == "rolling":
        state = f"rolling until {key['expiresAt']} (replaced by {key['replacedBy']})"
    return "\t".join(
        str(v)
        for v in (
            key["id"],
            key["partnerId"],
            ",".join(key["scopes"]),
            state,
            key["label"] or "-",
            f"created {key['createdAt']}",
            f"expires {key['expiresAt'] or 'never'}",
            f"last used {key['lastUsedAt'] or 'never'}",
            f"revoked {key['revokedAt'] or '-'}",
            key["hint"],
        )
    )


if __name__ == "__main__":
    sys.exit(main())
