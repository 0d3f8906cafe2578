"""The TypeScript SDK against the running functions: tests/sdk/sdk.test.ts, compiled
with `tsc --strict` together with the SDK's sources and run under Node's own test runner.
This side makes the partners, the limits and the proxies that lose answers, and checks
what only the server knows afterwards: each lost create was sent twice with one key and
stored once, and the partner's usage names the TypeScript SDK."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from partner_api import PartnerApi

from devtools.sdk import TSC
from tests.emulator.sdk_rig import LosingProxy, base_url, sdk_partner
from tests.helpers import ROOT, cli, stored_entries

pytestmark = pytest.mark.emulators

TESTS = ROOT / "tests" / "sdk"
EXPECTED_TESTS = 9


def compile_tests(out: Path) -> Path:
    built = subprocess.run(
        ["node", str(TSC), "-p", str(TESTS / "tsconfig.json"), "--outDir", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (out / "package.json").write_text('{"type": "module"}\n')  # ES modules, as the SDK's
    return out / "tests" / "sdk" / "sdk.test.js"


def test_the_typescript_sdk_passes_its_tests_against_the_functions(
    clean: None, tmp_path: Path
) -> None:
    compiled = compile_tests(tmp_path / "built")
    partner_id, key = sdk_partner()
    _, reader = sdk_partner("entries:read")
    limited_id, limited = sdk_partner()
    assert cli("partner", "limits", limited_id, "--rate", "0.25", "--burst", "1").returncode == 0
    pages_id, pages = sdk_partner()
    lost = {mode: sdk_partner() for mode in ("503", "cut")}
    proxies = {mode: LosingProxy(base_url(), mode) for mode in ("503", "cut")}
    setup = {
        "baseUrl": base_url(),
        "key": key,
        "readerKey": reader,
        "limitedKey": limited,
        "pagesKey": pages,
        "lostKeys": {mode: made[1] for mode, made in lost.items()},
        "losing": {mode: proxy.url for mode, proxy in proxies.items()},
    }
    version = json.loads((ROOT / "openapi.json").read_text())["info"]["version"]
    try:
        ran = subprocess.run(
            ["node", "--test", "--test-reporter=tap", str(compiled)],
            env={**os.environ, "SDK_TEST_SETUP": json.dumps(setup), "SDK_VERSION": version},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        for proxy in proxies.values():
            proxy.close()
    report = ran.stdout + ran.stderr
    counts = dict(re.findall(r"^# (pass|fail|cancelled|skipped) (\d+)$", ran.stdout, re.M))
    assert ran.returncode == 0, report[-6000:]
    assert counts == {"pass": str(EXPECTED_TESTS), "fail": "0", "cancelled": "0", "skipped": "0"}
    for mode, proxy in proxies.items():
        tries = [n for k, n in proxy.forwarded.items() if k.startswith("sdk_")]
        assert tries == [2], (mode, proxy.forwarded)  # one create: its try and one retry
        assert len(stored_entries(lost[mode][0])) == 1, mode
    assert len(stored_entries(pages_id)) == 24  # 23 pages' worth and one delivered
    deadline = time.monotonic() + 60
    while True:
        (today,) = json.loads(cli("--json", "usage", "--partner", partner_id, "--days", "1").stdout)
        if today["sdks"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert list(today["sdks"]) == [f"typescript/{version}"]
    assert today["sdks"][f"typescript/{version}"] == today["calls"]


README_PRELUDE = """\
const BASE = process.env.BASE!;
const KEY = process.env.KEY!;
const SECRET = process.env.SECRET!;
const requestBody = process.env.REQUEST_BODY!;
const requestHeaders = JSON.parse(process.env.REQUEST_HEADERS!) as Record<string, string>;
"""
README_EPILOGUE = "\nconsole.log(JSON.stringify({ event, made }));\n"


def test_the_readme_typescript_flow_runs_as_written(clean: None, tmp_path: Path) -> None:
    """The README's TypeScript lines, as a partner pastes them into a module that imports
    `partner-api-client` (this repository's sdk/typescript, installed by a link), compiled
    with `tsc --strict` and run against the functions."""
    from tests.emulator.test_sdk_python import readme_block
    from tests.emulator.test_webhook_delivery import Receiver

    project = tmp_path / "partner"
    (project / "node_modules").mkdir(parents=True)
    (project / "node_modules" / "partner-api-client").symlink_to(ROOT / "sdk" / "typescript")
    (project / "package.json").write_text('{"type": "module"}\n')
    (project / "flow.ts").write_text(README_PRELUDE + readme_block("ts") + README_EPILOGUE)
    (project / "tsconfig.json").write_text(
        json.dumps(
            {
                "compilerOptions": {
                    "target": "ES2022",
                    "module": "NodeNext",
                    "moduleResolution": "NodeNext",
                    "lib": ["ES2022", "DOM"],
                    "types": ["node"],
                    "typeRoots": [str(ROOT / "tooling" / "node_modules" / "@types")],
                    "strict": True,
                    "skipLibCheck": True,
                },
                "files": ["flow.ts"],
            }
        )
    )
    built = subprocess.run(
        ["node", str(TSC), "-p", str(project / "tsconfig.json")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    receiver = Receiver()
    try:
        partner_id, key = sdk_partner()
        with PartnerApi(base_url(), api_key=key) as api:
            secret = api.webhook_endpoints.create({"url": receiver.url})["secret"]
            api.entries.create(
                {"description": "before", "amount": "1.00", "currency": "EUR", "date": "2026-03-31"}
            )
        headers, body = receiver.wait_for(1)[0]
    finally:
        receiver.close()
    ran = subprocess.run(
        ["node", str(project / "flow.js")],
        env={
            **os.environ,
            "BASE": base_url(),
            "KEY": key,
            "SECRET": str(secret),
            "REQUEST_BODY": body.decode(),
            "REQUEST_HEADERS": json.dumps(headers),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    shown = json.loads(ran.stdout.strip().splitlines()[-1])
    assert shown["event"]["type"] == "entries.created"
    stored = {e["id"]: e for e in stored_entries(partner_id)}
    assert len(stored) == 2  # the one before, and the flow's create, once
    assert stored[shown["made"]["id"]]["version"] == 2  # modified once
