"""Write `openapi.json` from the code (`make openapi`); a test keeps the two equal."""

from __future__ import annotations

import sys

from devtools.prerequisites import ROOT
from functions import openapi

DOCUMENT_PATH = ROOT / "openapi.json"


def main() -> int:
    DOCUMENT_PATH.write_text(openapi.render())
    print(f"wrote {DOCUMENT_PATH.name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
