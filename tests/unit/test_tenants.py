"""The emulator suite's own tenants (`tests.helpers.Tenants`): each test's names are valid
partner ids that no other test, worker or run shares, the same all through one test."""

from __future__ import annotations

import pytest

from functions.auth.callers import PARTNER_ID_PATTERN
from tests.helpers import Tenants


def test_a_tests_tenants_are_its_own_and_valid_partner_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    tenants = Tenants()
    tenants.next_test(emptied=False)
    first = (tenants.acme, tenants.globex, tenants.of("shop-2"))
    assert (tenants.acme, tenants.globex) == first[:2]  # the same all through the test
    assert all(PARTNER_ID_PATTERN.fullmatch(name) for name in first)
    assert all(len(name) <= 63 for name in first)
    assert tenants.used == set(first)
    assert tenants.name("doc") not in tenants.used  # a document id is not a tenant
    tenants.next_test(emptied=True)
    assert tenants.acme != first[0]
    assert tenants.used == {tenants.acme}
    assert tenants.emptied is True
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    other_worker = Tenants()
    other_worker.next_test(emptied=False)
    assert other_worker.acme != first[0]  # another worker (or run) never shares a name
    with pytest.raises(AttributeError):
        tenants._private  # noqa: B018
