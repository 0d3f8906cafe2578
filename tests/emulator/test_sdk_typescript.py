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
    assert cli("partner", "limits", limited_id, "--rate", "1", "--burst", "1").returncode == 0
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
