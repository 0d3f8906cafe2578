"""A client generated from openapi.json (openapi-python-client, as a partner would make
one) has every schema as a model and type-checks under `mypy --strict`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

GENERATOR = Path(sys.executable).parent / "openapi-python-client"


def _every_kind(tmp_path: Path) -> Path:
    """The contract of a declaration with every field kind (tests/fixtures/data_model.toml):
    numbers, date-times, geopoint objects, reference ids, arrays and nested objects."""
    from functions.contract import openapi
    from tests.helpers import data_model_declaration

    path = tmp_path / "every_kind.json"
    path.write_text(json.dumps(openapi.build(data_model_declaration())))
    return path


@pytest.mark.parametrize("contract", ["repository", "every kind"])
def test_a_generated_client_has_every_model_and_type_checks_strictly(
    tmp_path: Path, contract: str
) -> None:
    document = ROOT / "openapi.json" if contract == "repository" else _every_kind(tmp_path)
    client = tmp_path / "partner_client"
    generated = subprocess.run(
        [
            *(str(GENERATOR), "generate", "--path", str(document)),
            *("--output-path", str(client), "--meta", "none"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    schemas = json.loads(document.read_text())["components"]["schemas"]
    made = {path.stem for path in (client / "models").glob("*.py") if path.stem != "__init__"}
    expected = {
        "".join(("_" + c.lower()) if c.isupper() else c for c in name).lstrip("_")
        for name in schemas
    }
    assert expected <= made, sorted(expected - made)
    assert (client / "api" / "entries_first_urls").is_dir()  # the first URLs, apart
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(tmp_path / ".mypy"),
            "partner_client",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout[-3000:]
    assert "Success: no issues found" in checked.stdout
