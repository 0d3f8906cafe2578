"""Where the owner's own endpoints come from: `owner/endpoints.py` in an adopted app (the
folder `make adopt` starts and an upgrade never touches), else this repository's example
(`entriesSummary`).

main.py deploys every Firebase function the module defines or imports, so an owner adds,
keeps or removes an endpoint in their own file and never edits the package's main.py.
"""

from __future__ import annotations

import importlib
from typing import Any

from functions.core import config

OWNER_MODULE = "owner.endpoints"
EXAMPLE_MODULE = "functions.examples.entries_summary"


def module_name() -> str:
    """The owner's module where the owner's folder holds one, else the example's (an
    owner's folder without endpoints.py deploys none)."""
    if config.OWNER_FOLDER.is_dir():
        return OWNER_MODULE if (config.OWNER_FOLDER / "endpoints.py").is_file() else ""
    return EXAMPLE_MODULE


def functions_of(name: str) -> dict[str, Any]:
    """The Firebase functions a module holds, by the names they deploy under."""
    if not name:
        return {}
    module = importlib.import_module(name)
    return {
        key: value
        for key, value in vars(module).items()
        if callable(value) and hasattr(value, "__firebase_endpoint__")
    }


def owner_functions() -> dict[str, Any]:
    return functions_of(module_name())
