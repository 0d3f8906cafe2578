"""The parts every serving process shares, composed once from their implementations: the
authenticators, the limits gate over Firestore leases and the failed-credential guard.

The HTTP pipeline asks for them here rather than building any itself, so the edge never
names a store class; tests clear these caches (or pass their own parts) to start afresh.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
from contextvars import Token

from functions.auth import Authenticator, default_authenticators
from functions.core import config
from functions.core.limits import FailureGuard, Gate
from functions.store.client import enter_database, leave_database
from functions.store.limits import FirestoreLeases


@functools.cache
def authenticators() -> tuple[Authenticator, ...]:
    return default_authenticators()


@functools.cache
def limits_gate(mode: str = "live") -> Gate:
    """The process's rate limiter and daily quota of a mode, over leases shared in that
    mode's database: test mode's calls spend nothing of the live limits."""
    gate = Gate.over(FirestoreLeases(name=config.MODES[mode]))
    atexit.register(give_back_at_exit, gate)
    return gate


@functools.cache
def failure_guard() -> FailureGuard:
    """Failed credentials per address, counted in this process."""
    return FailureGuard()


def give_back_at_exit(gate: Gate) -> None:
    """An instance that stops (Cloud Run's SIGTERM ends the worker normally) gives its
    unspent quota permits back rather than strand them until midnight. The process is
    ending: whatever goes wrong here only means the permits age out with the day."""
    with contextlib.suppress(Exception):
        gate.creates.give_back()


def reset() -> None:
    """Forget every composed part (tests: a fresh process)."""
    authenticators.cache_clear()
    limits_gate.cache_clear()
    failure_guard.cache_clear()


def enter_mode(mode: str) -> Token[str]:
    """The rest of this call reads and writes the database of `mode` (the caller's)."""
    return enter_database(config.MODES[mode])


def leave_mode(token: Token[str]) -> None:
    leave_database(token)
