"""Parity of the rules and the API's model, proven on drawn documents (hypothesis): for the
repository's declaration here, for the test suite's second one in
test_declared_resources.py. The shared corpus (test_rules.py) pins the known edges; this
searches for the unknown ones."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from functions.resources import declaration
from tests.emulator.parity import assert_parity, documents
from tests.helpers import T, User

pytestmark = pytest.mark.empty_database  # it writes fixed document ids through both doors

EXAMPLES = int(os.environ.get("PARITY_EXAMPLES", "40"))
"""Documents drawn per resource: a bounded profile in `make test`, 150 in `make fuzz`."""
PARITY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ENTRIES = declaration.current().resources[0]


@PARITY
@given(drawn=documents(ENTRIES))
def test_rules_and_model_accept_the_same_entries(
    acme: User, drawn: tuple[str, dict[str, Any]]
) -> None:
    assert_parity(ENTRIES, acme, T.acme, drawn)
