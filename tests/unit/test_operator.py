"""The owner's actions (`functions.operations.operator`): what each refuses on its own words,
before any client is made (the emulator tests run every action end to end)."""

from __future__ import annotations

import pytest

from functions.operations.errors import Refused, UsageError
from functions.operations.operator import Operator


def test_actions_refused_on_their_own_words_connect_to_nothing() -> None:
    operator = Operator("demo-x")
    with pytest.raises(Refused, match=r"^give at least one of --rate, --burst, --daily-creates$"):
        operator.set_limits("acme", {})
    with pytest.raises(UsageError, match="--since 'yesterday' is not a day such as 2026-11-01"):
        operator.audit("acme", since="yesterday")
    with pytest.raises(Refused, match="only against the Auth emulator"):
        operator.emulator_token("someone@example.test", None)
    with pytest.raises(UsageError, match=r"--rate must be 0\.01 to 10000 calls a second"):
        operator.limit_overrides(0.0, None, None)
    assert operator.limit_overrides(2.5, 10, None) == {"ratePerSecond": 2.5, "burst": 10}
    made = {"users", "database", "partners", "keys"} & set(vars(operator))
    assert made == set(), f"clients made: {sorted(made)}"


def test_a_resource_the_declaration_does_not_name_is_refused_by_name() -> None:
    operator = Operator("demo-x")
    with pytest.raises(Refused) as caught:
        operator.inspect("soups", sample=10)
    assert "declares no resource 'soups' (it has entries)" in str(caught.value)
    assert "database" not in vars(operator)
