"""Manage partners, their users and keys: `python -m functions.partners
grant|revoke|list|show|create`, `... keys create|list|show|revoke|roll`,
`... partner add|suspend|resume|limits|show|list`, `... audit` and `... inspect`.

Works against the Auth emulator (FIREBASE_AUTH_EMULATOR_HOST set) or a real project
(Application Default Credentials, or --credentials with a service-account file).
firebase-admin replaces custom claims wholesale, so every change reads the user's claims,
merges, checks the result and only then writes it: nothing is half-applied.

Exit codes: 0 done, 1 refused (unknown user, bad input, conflicting grant), 2 usage,
3 environment (no or unreadable credentials, an emulator or backend that does not answer).
Every expected failure is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from functions.admin.errors import (
    EXIT_ENVIRONMENT,
    EXIT_REFUSED,
    EXIT_USAGE,
    EnvironmentProblem,
    Refused,
    UsageError,
    environment_problem,
)
from functions.admin.keys import IssuedKey, KeyDirectory, key_json
from functions.admin.records import PartnerRecords, limit_overrides, partner_json
from functions.auth.callers import (
    PARTNER_CLAIMS,
    PARTNER_ID_CLAIM,
    PARTNER_ID_PATTERN,
    PARTNER_ROLE,
    ROLE_CLAIM,
    SCOPES_CLAIM,
    caller_from_claims,
    known_scopes,
)
from functions.errors import Forbidden

if TYPE_CHECKING:
    import firebase_admin
    from firebase_admin import auth as firebase_auth
    from google.cloud import firestore

MAX_CLAIMS_CHARS = 1000


REVOKE_SETTLE_S = 1.05
"""How long a revoke waits between removing the claims and revoking the sessions."""
SUSPENDED_NOTE = (
    "the API: its users and keys get 403 partner_suspended on their next call. straight on "
    "Firestore: the rules refuse its users' reads and creates on their next request, in "
    "every collection whose direct_access allows them"
)
DIRECT_ACCESS_NOTE = (
    "note: the API applies this on the user's next call; direct Firestore access (the "
    "rules) sees it only when the user's ID token refreshes, within the hour"
)


@dataclass(frozen=True)
class PartnerUser:
    uid: str
    email: str | None
    disabled: bool
    claims: Mapping[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "email": self.email,
            "disabled": self.disabled,
            "claims": dict(self.claims),
        }


@dataclass(frozen=True)
class Change:
    """A user's partner claims before a change, and the user after it."""

    before: Mapping[str, Any]
    after: PartnerUser

    def narrows(self) -> bool:
        """Whether the change takes rights away: a move, fewer scopes, or a revoke."""
        old, new = _rights(self.before), _rights(self.after.claims)
        if old is None:
            return False
        return new is None or new[0] != old[0] or not new[1] >= old[1]

    def as_json(self) -> dict[str, Any]:
        return {**self.after.as_json(), "before": dict(self.before)}


def _rights(claims: Mapping[str, Any]) -> tuple[str, frozenset[str]] | None:
    """(partner id, scopes) as the API reads them, or None for a non-partner."""
    try:
        caller = caller_from_claims({"uid": "-", **claims})
    except Forbidden:
        return None
    return caller.partner_id, caller.scopes


def merged_grant(
    existing: Mapping[str, Any], partner_id: str, scopes: Sequence[str] | None, *, move: bool
) -> dict[str, Any]:
    """The claims after granting; pure, so every rule here is unit-tested.

    Without `scopes`, a user keeps the scopes they hold (a new partner user holds all).

    Raises:
        Refused: malformed partner id or scopes, a user of another partner (without
            `move`), or claims over firebase-admin's 1000-character limit.
    """
    if not PARTNER_ID_PATTERN.fullmatch(partner_id):
        raise Refused(
            f"partner id {partner_id!r} is malformed: use 1 to 63 lowercase letters, digits "
            "and inner hyphens"
        )
    current = existing.get(PARTNER_ID_CLAIM)
    if current and current != partner_id and not move:
        raise Refused(
            f"the user already belongs to partner {current!r}; pass --move to reassign them"
        )
    claims = {k: v for k, v in existing.items() if k not in PARTNER_CLAIMS}
    claims[ROLE_CLAIM] = PARTNER_ROLE
    claims[PARTNER_ID_CLAIM] = partner_id
    if scopes is None and SCOPES_CLAIM in existing:
        claims[SCOPES_CLAIM] = existing[SCOPES_CLAIM]  # never widened without --scopes
    if scopes is not None:
        unknown = sorted(set(scopes) - known_scopes())
        if unknown or not scopes:
            raise Refused(
                f"unknown scopes {unknown}; choose from {sorted(known_scopes())}"
                if unknown
                else "give at least one scope, or omit --scopes for all"
            )
        claims[SCOPES_CLAIM] = sorted(set(scopes))
    check_size(claims)
    return claims


def merged_revoke(existing: Mapping[str, Any]) -> dict[str, Any]:
    """The claims after revoking: the partner claims removed, every other claim kept.

    Raises:
        Refused: the user is not a partner.
    """
    if existing.get(ROLE_CLAIM) != PARTNER_ROLE and PARTNER_ID_CLAIM not in existing:
        raise Refused("the user is not a partner user")
    return {k: v for k, v in existing.items() if k not in PARTNER_CLAIMS}


def check_size(claims: Mapping[str, Any]) -> None:
    """Raises: Refused when the serialized claims exceed what Firebase accepts."""
    size = len(json.dumps(claims, separators=(",", ":")))
    if size > MAX_CLAIMS_CHARS:
        raise Refused(f"the claims would be {size} characters; Firebase allows {MAX_CLAIMS_CHARS}")


class PartnerDirectory:
    """Partner users of one Firebase project, through firebase-admin."""

    def __init__(self, project: str, credentials_file: str | None = None) -> None:
        import firebase_admin  # noqa: PLC0415
        from firebase_admin import credentials  # noqa: PLC0415

        try:
            credential = credentials.Certificate(credentials_file) if credentials_file else None
        except (OSError, ValueError) as exc:
            raise EnvironmentProblem(
                f"cannot use the credentials file {credentials_file!r}: {exc}"
            ) from exc
        name = f"partners-cli:{project}"
        try:
            self.app: firebase_admin.App = firebase_admin.get_app(name)
        except ValueError:
            self.app = firebase_admin.initialize_app(
                credential, options={"projectId": project}, name=name
            )

    def _auth(self) -> Any:
        from firebase_admin import auth as firebase_auth  # noqa: PLC0415

        return firebase_auth

    def find(self, who: str) -> firebase_auth.UserRecord:
        """A user by uid or, when `who` contains '@', by email.

        Raises:
            Refused: no such user.
        """
        auth = self._auth()
        try:
            if "@" in who:
                return auth.get_user_by_email(who, app=self.app)
            return auth.get_user(who, app=self.app)
        except auth.UserNotFoundError as exc:
            raise Refused(f"no user {who!r} in this project") from exc
        except ValueError as exc:
            raise Refused(f"{who!r} is not a valid uid or email: {exc}") from exc

    def _write_claims(self, uid: str, claims: Mapping[str, Any]) -> None:
        try:
            self._auth().set_custom_user_claims(uid, dict(claims) or None, app=self.app)
        except ValueError as exc:
            raise Refused(f"Firebase refused the claims: {exc}") from exc

    def grant(
        self, who: str, partner_id: str, scopes: Sequence[str] | None, *, move: bool = False
    ) -> Change:
        user = self.find(who)
        before = dict(user.custom_claims or {})
        claims = merged_grant(before, partner_id, scopes, move=move)
        self._write_claims(user.uid, claims)
        return Change(before, self._view(self.find(user.uid)))

    def revoke(self, who: str) -> Change:
        """Remove the partner claims, then end the user's sessions (refresh tokens).

        In this order no fresh token carries partner claims: one minted after the claims
        came off has none, and every one minted before is older than the revoke. Firebase
        keeps the revoke time in whole seconds (a token of that very second stays valid),
        so the revoke waits until a second has passed since the claims came off.
        """
        user = self.find(who)
        before = dict(user.custom_claims or {})
        self._write_claims(user.uid, merged_revoke(before))
        time.sleep(REVOKE_SETTLE_S)
        self._auth().revoke_refresh_tokens(user.uid, app=self.app)
        return Change(before, self._view(self.find(user.uid)))

    def create(
        self, email: str, partner_id: str, scopes: Sequence[str] | None
    ) -> tuple[PartnerUser, str]:
        """A new partner user with a generated password (for local work and trials)."""
        merged_grant({}, partner_id, scopes, move=False)  # refuse before creating anything
        auth = self._auth()
        password = secrets.token_urlsafe(18)
        try:
            user = auth.create_user(email=email, password=password, app=self.app)
        except auth.EmailAlreadyExistsError as exc:
            raise Refused(f"a user with email {email!r} exists; use grant") from exc
        except ValueError as exc:
            raise Refused(f"cannot create {email!r}: {exc}") from exc
        try:
            return self.grant(user.uid, partner_id, scopes).after, password
        except Refused:
            auth.delete_user(user.uid, app=self.app)
            raise

    def emulator_token(self, who: str, emulator_host: str) -> str:
        """A fresh ID token of `who`, signed in on the Auth emulator with a custom token
        (which the emulator accepts unsigned): no password needed.

        Raises:
            Refused: no such user.
            EnvironmentProblem: the emulator did not answer.
        """
        user = self.find(who)
        custom = self._auth().create_custom_token(user.uid, app=self.app)
        request = urllib.request.Request(
            f"http://{emulator_host}/identitytoolkit.googleapis.com/v1/"
            "accounts:signInWithCustomToken?key=emulator",
            data=json.dumps({"token": custom.decode(), "returnSecureToken": True}).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 - emulator
                return str(json.loads(reply.read())["idToken"])
        except OSError as exc:
            raise EnvironmentProblem(
                f"the Auth emulator at {emulator_host} did not sign the user in ({exc})"
            ) from exc

    def users(self, partner_id: str | None = None) -> Iterator[PartnerUser]:
        """Every partner user, or those of one partner."""
        for user in self._auth().list_users(app=self.app).iterate_all():
            claims = user.custom_claims or {}
            if claims.get(ROLE_CLAIM) != PARTNER_ROLE:
                continue
            if partner_id is None or claims.get(PARTNER_ID_CLAIM) == partner_id:
                yield self._view(user)

    def show(self, who: str) -> PartnerUser:
        return self._view(self.find(who))

    @staticmethod
    def _view(user: firebase_auth.UserRecord) -> PartnerUser:
        return PartnerUser(
            uid=user.uid,
            email=user.email,
            disabled=bool(user.disabled),
            claims=dict(user.custom_claims or {}),
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
    commands = parser.add_subparsers(dest="command", required=True)
    # --json is accepted after any subcommand too (it only ever turns JSON on).
    json_flag = argparse.ArgumentParser(add_help=False)
    json_flag.add_argument("--json", action="store_true", default=argparse.SUPPRESS)

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

    create = command(commands, "create", "create a partner user with a new password")
    create.add_argument("email")
    create.add_argument("--partner", required=True, dest="partner_id")
    create.add_argument("--scopes", help=scopes_help)
    create.add_argument("--create-partner", action="store_true", help=create_help)

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

    _partner_commands(commands, command)
    return parser


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
    inspect.add_argument("resource", help="a resource resources.toml declares")
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
    """Exit codes: 0 done, 1 refused, 2 usage, 3 environment (see `functions.admin.errors`)."""
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
    }.get(args.command, _users_command)
    try:
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


PROBE_TIMEOUT_S = 2.0
EMULATORS = (("FIRESTORE_EMULATOR_HOST", "Firestore"), ("FIREBASE_AUTH_EMULATOR_HOST", "Auth"))


def probe_emulators(timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Fail at once, not after the SDKs' minutes of retries, when an emulator the
    environment names does not answer.

    Raises: EnvironmentProblem, saying what to start.
    """
    import socket  # noqa: PLC0415

    for variable, name in EMULATORS:
        host = os.environ.get(variable, "").strip()
        if not host:
            continue
        address, _, port = host.rpartition(":")
        try:
            with socket.create_connection((address.strip("[]"), int(port)), timeout=timeout_s):
                pass
        except (OSError, ValueError):
            raise EnvironmentProblem(
                f"the {name} emulator at {host} ({variable}) does not answer: start the "
                "emulators (`make serve`, or `firebase emulators:start`), or unset "
                f"{variable} to use the real project"
            ) from None


def _token_command(args: argparse.Namespace) -> int:
    """A fresh ID token of a user, for local work: the Auth emulator only.

    Raises: Refused (not on the emulator, unknown user).
    """
    host = os.environ.get("FIREBASE_AUTH_EMULATOR_HOST")
    if not host:
        raise Refused("`token` works only against the Auth emulator (FIREBASE_AUTH_EMULATOR_HOST)")
    directory = PartnerDirectory(args.project, args.credentials)
    token = directory.emulator_token(args.user, host)
    print(json.dumps({"idToken": token, "expiresIn": 3600}) if args.json else token)
    return 0


def _users_command(args: argparse.Namespace) -> int:
    """Raises: Refused."""
    directory = PartnerDirectory(args.project, args.credentials)
    if args.command in ("grant", "create"):
        records = PartnerRecords(_firestore(args.project, args.credentials))
        records.require(args.partner_id, create=args.create_partner)
    if args.command in ("list", "create", "show"):
        _print_users(directory, args)
        return 0
    if args.command == "grant":
        change = directory.grant(args.user, args.partner_id, _scopes(args.scopes), move=args.move)
    else:
        merged_revoke(directory.show(args.user).claims)  # refused before anyone is asked
        _confirm(args, f"revoke {args.user}'s partner claims and end their sessions")
        change = directory.revoke(args.user)
    if args.json:
        print(json.dumps(change.as_json(), indent=2))
    else:
        before = json.dumps(dict(change.before), sort_keys=True)
        print(f"before\t{before}\nafter\t{_describe(change.after)}")
    if change.narrows():
        print(DIRECT_ACCESS_NOTE, file=sys.stderr)
    return 0


def _print_users(directory: PartnerDirectory, args: argparse.Namespace) -> None:
    """`list`, `create` and `show`. Raises: Refused."""
    if args.command == "list":
        found = list(directory.users(args.partner_id))
        if args.json:
            print(json.dumps([u.as_json() for u in found], indent=2))
        else:
            rows = [_describe(u) for u in found]
            print("\n".join([USERS_HEADER, *rows]) if rows else "no partner users")
    elif args.command == "create":
        user, password = directory.create(args.email, args.partner_id, _scopes(args.scopes))
        output = {**user.as_json(), "password": password}
        shown = f"{USERS_HEADER}\n{_describe(user)}\npassword: {password}"
        print(json.dumps(output, indent=2) if args.json else shown)
    else:
        user = directory.show(args.user)
        print(json.dumps(user.as_json(), indent=2) if args.json else _describe(user))


def _keys_command(args: argparse.Namespace) -> int:
    """Raises: Refused."""
    keys = KeyDirectory(args.project, _firestore(args.project, args.credentials))
    if args.keys_command == "list":
        found = keys.list(args.partner_id)
        if args.json:
            print(json.dumps([key_json(k) for k in found], indent=2))
        else:
            rows = [_describe_key(key_json(k)) for k in found]
            print("\n".join([KEYS_HEADER, *rows]) if rows else "no keys")
        return 0
    if args.keys_command in ("show", "revoke"):
        revoking = args.keys_command == "revoke"
        if revoking:
            keys.find(args.key_id)  # an unknown key is refused before anyone is asked
            _confirm(args, f"revoke key {args.key_id} (its next call gets 401)")
        shown = key_json(keys.revoke(args.key_id) if revoking else keys.find(args.key_id))
        print(json.dumps(shown, indent=2) if args.json else _describe_key(shown))
        return 0
    if args.keys_command == "create":
        records = PartnerRecords(_firestore(args.project, args.credentials))
        records.require(args.partner_id, create=args.create_partner)
        issued = keys.create(
            args.partner_id, _scopes(args.scopes), expires_in=args.expires_in, label=args.label
        )
    else:
        issued = keys.roll(args.key_id, args.overlap)
        old = key_json(keys.find(args.key_id))
        if args.json:
            print(json.dumps({**issued.as_json(), "replaced": old}, indent=2))
            return 0
        _print_issued(issued, as_json=False)
        print(f"the old key {old['id']} keeps working until {old['expiresAt']}", file=sys.stderr)
        return 0
    _print_issued(issued, as_json=args.json)
    return 0


def _partner_command(args: argparse.Namespace) -> int:
    """Raises: Refused."""
    command = args.partner_command
    overrides = {}
    if command in ("add", "limits"):  # the flags' own words first, before any connection
        overrides = limit_overrides(args.rate, args.burst, args.daily_creates)
    records = PartnerRecords(_firestore(args.project, args.credentials))
    if command == "list":
        found = [partner_json(record, snapshot) for record, snapshot in records.every()]
        if args.json:
            print(json.dumps(found, indent=2))
        else:
            rows = [_describe_partner(p) for p in found]
            print("\n".join([PARTNERS_HEADER, *rows]) if rows else "no partner records")
        return 0
    if command == "add":
        records.add(args.partner_id, args.name or args.partner_id, overrides)
    elif command == "suspend":
        records.recorded(args.partner_id)  # an unknown partner is refused before anyone is asked
        _confirm(args, f"suspend {args.partner_id} (its users and keys get 403 at once)")
        records.change(args.partner_id, {"status": "suspended"})
    elif command == "resume":
        records.change(args.partner_id, {"status": "active"})
    elif command == "limits":
        if not overrides:
            raise Refused("give at least one of --rate, --burst, --daily-creates")
        records.set_limits(args.partner_id, overrides)
    shown = partner_json(*records.get(args.partner_id))
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
    """Raises: Refused."""
    since = None
    if args.since is not None:
        try:
            day = dt.date.fromisoformat(args.since)
        except ValueError as exc:
            raise UsageError(f"--since {args.since!r} is not a day such as 2026-11-01") from exc
        since = dt.datetime.combine(day, dt.time(), dt.UTC)
    records = PartnerRecords(_firestore(args.project, args.credentials))
    found = records.audit(args.partner_id, since, args.record_id)
    unknown = not found and not records.get(args.partner_id)[0].exists
    if unknown and not records.audit(args.partner_id, None, None):
        raise Refused(f"no partner {args.partner_id!r}: no record and no audit records")
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
                f"v{entry.get('versionBefore') or '-'} -> v{entry.get('versionAfter')}",
                ",".join(entry.get("fields") or []) or "-",
                entry.get("actor"),
                entry.get("requestId"),
            )
        )
        for entry in found
    ]
    print("\n".join([AUDIT_HEADER, *lines]) if lines else "no audit records")
    return 0


def _inspect_command(args: argparse.Namespace) -> int:
    """Raises: Refused (a resource the declaration does not name)."""
    from functions.admin import inspection  # noqa: PLC0415
    from functions.resources import declaration  # noqa: PLC0415
    from functions.store import records as record_store  # noqa: PLC0415

    try:
        declared = declaration.current()
    except declaration.DeclarationError as exc:
        raise Refused(exc.message) from exc
    resource = declared.get(args.resource)
    if resource is None:
        names = ", ".join(r.name for r in declared.resources)
        raise Refused(f"{declared.source} declares no resource {args.resource!r} (it has {names})")
    database = _firestore(args.project, args.credentials)
    documents = record_store.scan(resource, database, partner_id=args.partner_id)
    found = inspection.inspect(
        resource, _with_progress(documents), partner_id=args.partner_id, sample=args.sample
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


def _firestore(project: str, credentials_file: str | None) -> firestore.Client:
    """A Firestore client for the tool: the emulator when FIRESTORE_EMULATOR_HOST is set,
    else the service-account file, else Application Default Credentials."""
    from google.cloud import firestore  # noqa: PLC0415

    if credentials_file and not os.environ.get("FIRESTORE_EMULATOR_HOST"):
        from google.oauth2 import service_account  # noqa: PLC0415

        load = service_account.Credentials.from_service_account_file
        try:
            credentials = load(credentials_file)  # type: ignore[no-untyped-call]
        except (OSError, ValueError) as exc:
            raise EnvironmentProblem(
                f"cannot use the credentials file {credentials_file!r}: {exc}"
            ) from exc
        return firestore.Client(project=project, credentials=credentials)
    return firestore.Client(project=project)


if __name__ == "__main__":
    sys.exit(main())
