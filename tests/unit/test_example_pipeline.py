"""The pipeline an owner copies (examples/ci/): what it runs, how it signs in, and that
its linters pass it and fail each planted mistake."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from devtools import workflows
from tests.helpers import ROOT

WORKFLOW = ROOT / "examples" / "ci" / "partner-api.yml"
TEXT = WORKFLOW.read_text()


def test_tests_on_every_push_and_deploys_a_tag_with_workload_identity_federation() -> None:
    flow = yaml.safe_load(TEXT)
    triggers = flow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"]["tags"] == ["v*"]
    assert "pull_request" in triggers
    assert flow["permissions"] == {"contents": "read"}
    test, deploy = flow["jobs"]["test"], flow["jobs"]["deploy"]
    assert [s["run"] for s in test["steps"] if "run" in s] == ["make test"]
    assert deploy["needs"] == "test"
    assert deploy["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert deploy["permissions"] == {"contents": "read", "id-token": "write"}
    auth = next(s for s in deploy["steps"] if s.get("uses", "").startswith("google-github-"))
    assert set(auth["with"]) == {"workload_identity_provider", "service_account"}  # no key
    runs = [s["run"] for s in deploy["steps"] if "run" in s]
    assert runs[0].startswith("make preflight PROJECT=")
    assert 'firebase" deploy' in runs[1]
    assert "--non-interactive" in runs[1]
    for job in (test, deploy):
        for step in job["steps"]:
            if "uses" in step:
                assert len(step["uses"].split("@")[1]) == 40, step["uses"]  # a commit


def test_the_example_passes_both_linters() -> None:
    assert workflows.lint([WORKFLOW]) == 0


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ("github.ref, 'refs/tags/v'", "githb.ref, 'refs/tags/v'", 'undefined variable "githb"'),
        ("    needs: test\n", "    needs: tests\n", 'needs job "tests" which does not exist'),
        ("actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2",
         "actions/checkout@v4", "unpinned-uses"),
        ("          persist-credentials: false\n", "          fetch-depth: 1\n", "artipacked"),
    ],
)  # fmt: skip
def test_each_planted_mistake_fails_the_lint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, said: str
) -> None:
    assert old in TEXT
    planted = tmp_path / "planted.yml"
    planted.write_text(TEXT.replace(old, new, 1))
    assert workflows.lint([planted]) == 1
    assert said in capsys.readouterr().err


def test_no_workflow_to_lint_is_a_failure_not_a_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert workflows.lint([]) == 1
    assert capsys.readouterr().err == "error: no workflow in examples/ci\n"
