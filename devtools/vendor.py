"""Vendor the API reference renderer into the deployed source (`make vendor`).

The Python build of a deployed function cannot run npm, and partners' browsers may block
third-party scripts, so the `docs` function serves a pinned release of swagger-ui-dist
from the source itself. This takes that release from the npm registry, checks it against
the registry's integrity hash, copies the few files the page needs, and records their
hashes in `VENDOR.json`; a test keeps the committed files equal to the record.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from devtools.prerequisites import ROOT

PACKAGE = "swagger-ui-dist"
VERSION = "5.35.0"
FILES = (
    "swagger-ui-bundle.js",
    "swagger-ui-bundle.js.LICENSE.txt",
    "swagger-ui.css",
    "LICENSE",
    "NOTICE",
)
TARGET = ROOT / "functions" / "vendor" / "swagger-ui"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        spec = f"{PACKAGE}@{VERSION}"
        integrity = subprocess.run(
            ["npm", "view", spec, "dist.integrity"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        subprocess.run(["npm", "pack", spec, "--silent"], cwd=work, check=True)
        tarball = work / f"{PACKAGE}-{VERSION}.tgz"
        digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
        if integrity != f"sha512-{digest}":
            print(f"error: {tarball.name} does not match the registry's integrity", file=sys.stderr)
            return 1
        TARGET.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarball) as archive:
            for name in FILES:
                member = archive.extractfile(f"package/{name}")
                if member is None:
                    print(f"error: {name} is missing from {spec}", file=sys.stderr)
                    return 1
                (TARGET / name).write_bytes(member.read())
    record = {
        "package": PACKAGE,
        "version": VERSION,
        "integrity": integrity,
        "files": {name: sha256(TARGET / name) for name in FILES},
    }
    (TARGET / "VENDOR.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"vendored {PACKAGE} {VERSION} into {TARGET.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
