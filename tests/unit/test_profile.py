"""The CPU breakdown by stage, from py-spy's raw stacks."""

from __future__ import annotations

from bench.profile import breakdown, stage_of

VENV = "/srv/app/venv/lib/python3.11/site-packages"


def frame(function: str, path: str) -> str:
    return f"{function} ({path}:10)"


def test_a_sample_goes_to_its_innermost_known_stage() -> None:
    outer = [frame("run", f"{VENV}/gunicorn/workers/sync.py"), frame("view", "/app/main.py")]
    assert stage_of(outer) == "our code"
    stdlib = "/usr/lib/python3.11"
    commit = [
        *outer,
        frame("commit", "/app/functions/store/client.py"),
        frame("_blocking", f"{VENV}/grpc/_channel.py"),
        frame("wait", f"{stdlib}/threading.py"),
    ]
    assert stage_of(commit) == "Firestore client"  # the stdlib leaf goes to its caller
    logging = [
        *outer,
        frame("log", "/app/functions/core/logs.py"),
        frame("dumps", f"{stdlib}/json/__init__.py"),
    ]
    assert stage_of(logging) == "logging"
    key = [*outer, frame("authenticate", "/app/functions/auth/api_key_auth.py")]
    assert stage_of(key) == "auth"
    parse = [*outer, frame("parse", "/app/functions/resources/validation.py"),
             frame("validate", f"{VENV}/pydantic/main.py")]  # fmt: skip
    assert stage_of(parse) == "pydantic"
    assert stage_of([frame("x", f"{VENV}/functions_framework/__init__.py")]) == "framework"
    assert stage_of([frame("idle", "/usr/lib/python3.11/selectors.py")]) == "other"
    # as py-spy shows them: paths from their package
    assert stage_of([frame("run", "firebase_functions/https_fn.py")]) == "framework"
    assert stage_of([frame("view", "functions/edge/http/views.py")]) == "our code"
    assert stage_of([frame("view", "functions/edge/http/views.py"),
                     frame("_auto_id", "firestore_v1/base_collection.py"),
                     frame("choice", "random.py")]) == "Firestore client"  # fmt: skip
    # our plain-message Firestore calls do the client's work: charged to it, not to us
    encode = [frame("create", "functions/store/client.py"),
              frame("encode", "functions/store/wire.py")]  # fmt: skip
    assert stage_of(encode) == "Firestore client"
    assert stage_of(encode[:1]) == "our code"
    assert stage_of([frame("x", f"{VENV}/other_functions/store/wire.py")]) == "other"


def test_the_breakdown_sums_shares_and_ours() -> None:
    raw = "\n".join(
        [
            f"{frame('a', '/app/main.py')};{frame('b', f'{VENV}/grpc/_channel.py')} 60",
            f"{frame('a', '/app/main.py')};{frame('c', '/app/functions/core/limits.py')} 15",
            f"{frame('a', '/app/main.py')} 25",
            f"{frame('a', '/app/main.py')};{frame('Condition.wait', 'threading.py')} 400",
            f"{frame('t', 'threading.py')};{frame('_worker', 'concurrent/futures/thread.py')} 9",
            "not a sample line",
        ]
    )
    shares = breakdown(raw)
    assert shares == {
        "Firestore client": 0.6, "limits": 0.15, "our code": 0.25, "ours": 0.4, "samples": 100,
    }  # fmt: skip
    assert breakdown("") == {}
