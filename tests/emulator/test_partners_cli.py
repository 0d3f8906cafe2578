"""The partner claims tool, run as partners' operators run it, against the Auth emulator."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from firebase_admin import auth as firebase_auth

from devtools import emulators
from functions.operations.keys import operator_name
from functions.outside.firebase_app import admin_app
from tests.helpers import Api, T, User, UserFactory, assert_error, cli, cli_process

pytestmark = (
    pytest.mark.empty_database
)  # the tool's lists and sync-users read every user and partner


@pytest.fixture(autouse=True)
def partner_records(clean: None) -> None:
    """acme and globex have records: users and keys are only given to known partners."""
    from functions import store

    for partner_id in (T.acme, T.globex):
        store.client().collection("partners").document(partner_id).set({"status": "active"})


def claims_of(uid: str) -> dict[str, Any]:
    return dict(firebase_auth.get_user(uid, app=admin_app()).custom_claims or {})


# --- the command on the emulator -----------------------------------------------------------


def test_grant_show_list_revoke_round_trip(make_user: UserFactory, api: Api) -> None:
    user = make_user({"tier": "gold"})

    granted = cli("--json", "grant", user.email, "--partner", T.acme)
    assert granted.returncode == 0, granted.stderr
    assert json.loads(granted.stdout)["claims"] == {
        "tier": "gold",
        "role": "partner",
        "partnerId": T.acme,
    }
    assert claims_of(user.uid) == {"tier": "gold", "role": "partner", "partnerId": T.acme}

    shown = cli("--json", "show", user.uid)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["email"] == user.email

    other = make_user()
    assert cli("grant", other.uid, "--partner", T.globex).returncode == 0
    listed = cli("--json", "list", "--partner", T.acme)
    assert listed.returncode == 0, listed.stderr
    assert [u["uid"] for u in json.loads(listed.stdout)] == [user.uid]
    everyone = json.loads(cli("--json", "list").stdout)
    assert {u["uid"] for u in everyone} == {user.uid, other.uid}

    token = emulators.sign_in(user.email, "test-password-1")
    assert api.get("fetchData", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    revoked = cli("--json", "revoke", user.email, "--yes")
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout)["before"]["partnerId"] == T.acme
    assert "straight on Firestore, the rules refuse every token signed in before" in revoked.stderr
    assert claims_of(user.uid) == {"tier": "gold"}
    response = api.get("fetchData", headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 401, "unauthenticated")


def test_grant_with_scopes_and_move(make_user: UserFactory) -> None:
    user = make_user()
    assert cli("grant", user.uid, "--partner", T.acme, "--scopes", "entries:read").returncode == 0
    assert claims_of(user.uid)["scopes"] == ["entries:read"]

    refused = cli("grant", user.uid, "--partner", T.globex)
    assert refused.returncode == 1
    assert "--move" in refused.stderr
    assert claims_of(user.uid)["partnerId"] == T.acme

    moved = cli("grant", user.uid, "--partner", T.globex, "--move")
    assert moved.returncode == 0, moved.stderr
    assert claims_of(user.uid) == {
        "role": "partner",
        "partnerId": T.globex,
        "scopes": ["entries:read"],
    }, "a move keeps the scopes the user held"
    assert "straight on Firestore, the rules refuse every token signed in before" in moved.stderr


def test_grant_never_widens_silently_and_prints_before_and_after(make_user: UserFactory) -> None:
    user = make_user({"role": "partner", "partnerId": T.acme, "scopes": ["entries:read"]})
    again = cli("grant", user.uid, "--partner", T.acme)
    assert again.returncode == 0, again.stderr
    assert claims_of(user.uid)["scopes"] == ["entries:read"]
    lines = again.stdout.splitlines()
    assert lines[0].startswith("before\t")
    assert '"scopes": ["entries:read"]' in lines[0]
    assert lines[1].startswith("after\t")
    assert "straight on Firestore" not in again.stderr, "nothing was taken away"

    widened = cli(
        "--json", "grant", user.uid, "--partner", T.acme, "--scopes", "entries:read,entries:write"
    )
    assert widened.returncode == 0, widened.stderr
    result = json.loads(widened.stdout)
    assert result["before"]["scopes"] == ["entries:read"]
    assert result["claims"]["scopes"] == ["entries:read", "entries:write"]

    narrowed = cli("grant", user.uid, "--partner", T.acme, "--scopes", "entries:read")
    assert narrowed.returncode == 0, narrowed.stderr
    assert "both doors apply this on the user's next call" in narrowed.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("grant", "no-such-uid", "--partner", "{acme}"), "no user"),
        (("grant", "nobody@example.test", "--partner", "{acme}"), "no user"),
        (("grant", "{uid}", "--partner", "Not Valid"), "malformed"),
        (("grant", "{uid}", "--partner", "{acme}", "--scopes", "root"), "unknown scopes"),
        (("revoke", "{uid}"), "not a partner"),
        (("show", "no-such-uid"), "no user"),
    ],
)
def test_errors_exit_1_and_change_nothing(
    make_user: UserFactory, args: tuple[str, ...], message: str
) -> None:
    user = make_user({"tier": "gold"})
    result = cli(*(a.format(uid=user.uid, acme=T.acme) for a in args))
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert claims_of(user.uid) == {"tier": "gold"}


def test_claims_over_the_limit_are_refused_before_writing(make_user: UserFactory) -> None:
    user = make_user({"notes": "x" * 980})
    result = cli("grant", user.uid, "--partner", T.acme)
    assert result.returncode == 1
    assert "1000" in result.stderr
    assert claims_of(user.uid) == {"notes": "x" * 980}


def test_create_makes_a_partner_user_that_can_sign_in(clean: None) -> None:
    result = cli("--json", "create", "new@globex.example", "--partner", T.globex)
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["claims"] == {"role": "partner", "partnerId": T.globex}
    token = emulators.sign_in("new@globex.example", created["password"])
    assert token.count(".") == 2
    again = cli("create", "new@globex.example", "--partner", T.globex)
    assert again.returncode == 1
    assert "exists" in again.stderr


def test_create_with_a_bad_partner_id_creates_no_user(clean: None) -> None:
    result = cli("create", "x@globex.example", "--partner", "__BAD__")
    assert result.returncode == 1
    with pytest.raises(firebase_auth.UserNotFoundError):
        firebase_auth.get_user_by_email("x@globex.example", app=admin_app())


def test_without_a_project_it_exits_2(acme: User) -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in ("GCLOUD_PROJECT", "GOOGLE_CLOUD_PROJECT")
    }
    result = cli("list", env=env)
    assert result.returncode == 2
    assert "project" in result.stderr


def test_as_a_process_of_its_own_it_answers_with_exit_codes_and_one_line(
    make_user: UserFactory,
) -> None:
    """The other tests run the tool in the test's process; here as operators run it."""
    user = make_user()
    done = cli_process("--json", "grant", user.email, "--partner", T.acme)
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout)["claims"]["partnerId"] == T.acme
    refused = cli_process("grant", "nobody@example.test", "--partner", T.acme)
    assert refused.returncode == 1
    assert refused.stderr == "error: no user 'nobody@example.test' in this project\n"
    assert refused.stdout == ""
    usage = cli_process("--json", "grant", user.email)
    assert usage.returncode == 2
    (line,) = usage.stderr.strip().splitlines()
    assert json.loads(line)["error"]["kind"] == "usage"


# --- the environment: one line, exit 3, never a traceback --------------------------------


def _environment(**changes: str | None) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@pytest.mark.parametrize(
    ("args", "changes", "message"),
    [
        (("list",), {"FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:1"}, "does not answer"),
        (("show", "x@y.test"), {"FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:1"}, "does not answer"),
        (
            ("keys", "list"),
            {"FIRESTORE_EMULATOR_HOST": "127.0.0.1:1", "FIRESTORE_TIMEOUT_S": "1"},
            "does not answer",
        ),
        (
            ("--credentials", "/nonexistent/key.json", "list"),
            {"FIREBASE_AUTH_EMULATOR_HOST": None, "GCLOUD_PROJECT": "acme-accounting"},
            "cannot use the credentials file",
        ),
        (
            ("--credentials", "{bad}", "keys", "list"),
            {"FIRESTORE_EMULATOR_HOST": None, "GCLOUD_PROJECT": "acme-accounting"},
            "cannot use the credentials file",
        ),
        (
            ("list",),
            {
                "FIREBASE_AUTH_EMULATOR_HOST": None,
                "GOOGLE_APPLICATION_CREDENTIALS": None,
                "GCLOUD_PROJECT": "acme-accounting",
                "HOME": "{home}",
                "CLOUDSDK_CONFIG": "{home}",
            },
            "no credentials",
        ),
    ],
)
def test_environment_failures_exit_3_with_one_line(
    tmp_path: Any, args: tuple[str, ...], changes: dict[str, str | None], message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "service_account"}')
    values = {
        k: (v.format(home=tmp_path, bad=bad) if v is not None else None) for k, v in changes.items()
    }
    result = cli(*(a.format(bad=bad) for a in args), env=_environment(**values))
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_token_prints_a_fresh_id_token_on_the_emulator_only(api: Api, acme: User) -> None:
    result = cli("token", acme.email)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert api.get("fetchData", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    as_json = json.loads(cli("token", acme.uid, "--json").stdout)
    assert as_json["expiresIn"] == 3600
    outside = cli("token", acme.email, env=_environment(FIREBASE_AUTH_EMULATOR_HOST=None))
    assert outside.returncode == 1
    assert "only against the Auth emulator" in outside.stderr
    unknown = cli("token", "nobody@example.test")
    assert unknown.returncode == 1
    assert "no user" in unknown.stderr


# --- conventions: confirmations, JSON errors, tables, help ---------------------------------------


def _on_a_terminal(args: list[str], answer: str) -> tuple[int, str]:
    """Run the CLI with a terminal for standard input, answering its question."""
    import contextlib
    import os
    import pty
    import subprocess
    import sys

    from tests.helpers import ROOT

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "functions.partners", *args],
        cwd=ROOT,
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(follower)
    os.write(leader, answer.encode())
    out, err = process.communicate(timeout=120)
    prompt = b""
    with contextlib.suppress(OSError):  # nothing left to read
        prompt = os.read(leader, 4096)
    os.close(leader)
    return process.returncode, prompt.decode(errors="replace") + out + err


def test_destructive_commands_ask_on_a_terminal_and_need_yes_without_one(clean: None) -> None:
    assert cli("partner", "add", T.initech).returncode == 0
    without = cli("partner", "suspend", T.initech)
    assert without.returncode == 2
    assert "pass --yes to confirm" in without.stderr
    assert json.loads(cli("--json", "partner", "show", T.initech).stdout)["status"] == "active"
    code, shown = _on_a_terminal(["partner", "suspend", T.initech], "n\n")
    assert code == 1
    assert f"suspend {T.initech} (its users and keys get 403 at once)? [y/N]" in shown
    assert "not confirmed; nothing changed" in shown
    assert json.loads(cli("--json", "partner", "show", T.initech).stdout)["status"] == "active"
    code, _ = _on_a_terminal(["partner", "suspend", T.initech], "y\n")
    assert code == 0
    assert json.loads(cli("--json", "partner", "show", T.initech).stdout)["status"] == "suspended"
    unknown = cli("partner", "suspend", "nobody")
    assert unknown.returncode == 1  # refused before anyone is asked
    assert "no partner 'nobody'" in unknown.stderr


@pytest.mark.parametrize(
    ("args", "kind", "code"),
    [
        (["--json", "partner", "suspend", "nobody", "--yes"], "refused", 1),
        (["partner", "add", "acme", "--rate", "0", "--json"], "usage", 2),
        (["--json", "partner", "frobnicate"], "usage", 2),
        (["--json", "keys", "create"], "usage", 2),
    ],
)
def test_with_json_errors_are_json_on_stderr_too(
    clean: None, args: list[str], kind: str, code: int
) -> None:
    result = cli(*args)
    assert result.returncode == code
    assert result.stdout == ""
    error = json.loads(result.stderr)["error"]
    assert (error["kind"], error["exit"]) == (kind, code)
    assert error["message"]


def test_tables_have_a_header_and_a_new_password_is_labelled(clean: None) -> None:
    created = cli("create", "new@globex.example", "--partner", T.globex, "--create-partner")
    assert created.returncode == 0, created.stderr
    lines = created.stdout.splitlines()
    assert lines[0] == "UID\tEMAIL\tCLAIMS"
    assert lines[2].startswith("password: ")
    assert len(lines[2]) > len("password: ") + 8
    assert cli("list").stdout.splitlines()[0] == "UID\tEMAIL\tCLAIMS"
    assert cli("partner", "list").stdout.splitlines()[0] == "ID\tSTATUS\tNAME\tRATE\tDAILY CREATES"
    assert cli("keys", "create", "--partner", T.globex).returncode == 0
    assert cli("keys", "list").stdout.splitlines()[0].startswith("ID\tPARTNER\tSCOPES\tSTATUS")


def test_audit_of_an_unknown_partner_says_so(clean: None) -> None:
    result = cli("audit", "--partner", "nobody")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: no partner 'nobody': no record and no audit records"
    assert cli("partner", "add", "quiet").returncode == 0
    known = cli("audit", "--partner", "quiet")
    header, added = known.stdout.strip().splitlines()
    assert header == "AT\tOPERATION\tRECORD\tVERSIONS\tFIELDS\tACTOR\tREQUEST"
    assert added.split("\t")[1:] == [
        "owner.partner.add", "partners/quiet", "-", "-", f"cli:{operator_name()}", "-",
    ]  # fmt: skip


def test_help_gives_examples_and_every_command_describes_itself() -> None:
    top = cli("--help")
    assert "examples (against the emulators of `make serve`):" in top.stdout
    assert "inspect entries --partner acme" in top.stdout
    assert "suspend a partner" in cli("partner", "suspend", "--help").stdout


def test_a_collection_setting_firestore_cannot_hold_stops_the_tool_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PARTNERS_COLLECTION", "partners/x")
    result = cli("partner", "list")
    assert result.returncode == 3
    assert result.stderr == (
        "error: PARTNERS_COLLECTION must be a collection id (no slash, 1 to 1500 bytes)\n"
    )
