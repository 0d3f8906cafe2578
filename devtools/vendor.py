"""Vendor pinned npm releases into the source (`make vendor`).

The Python build of a deployed function cannot run npm, and partners' browsers may block
third-party scripts, so the `docs` function serves a pinned release of swagger-ui-dist
from the source itself; the console's accessibility test injects a pinned axe-core
(tests only, never deployed). This takes each release from the npm registry, checks it
against the registry's integrity hash, copies the few files needed, and records their
hashes in `VENDOR.json`; tests keep the committed files equal to the records.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from devtools.prerequisites import ROOT


@dataclass(frozen=True)
class Release:
    package: str
    version: str
    files: tuple[str, ...]
    target: Path


SWAGGER_UI = Release(
    "swagger-ui-dist",
    "5.35.0",
    (
        "swagger-ui-bundle.js",
        "swagger-ui-bundle.js.LICENSE.txt",
        "swagger-ui.css",
        "LICENSE",
        "NOTICE",
    ),
    ROOT / "functions" / "edge" / "http" / "vendor" / "swagger-ui",
)
AXE_CORE = Release(
    "axe-core", "4.14.1", ("axe.min.js", "LICENSE"), ROOT / "tests" / "vendor" / "axe-core"
)
RELEASES = (SWAGGER_UI, AXE_CORE)
PACKAGE, VERSION, FILES, TARGET = (
    SWAGGER_UI.package,
    SWAGGER_UI.version,
    SWAGGER_UI.files,
    SWAGGER_UI.target,
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    for release in RELEASES:
        failed = vendor(release)
        if failed:
            return failed
    return 0


def vendor(release: Release) -> int:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        spec = f"{release.package}@{release.version}"
        integrity = subprocess.run(
            ["npm", "view", spec, "dist.integrity"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        subprocess.run(["npm", "pack", spec, "--silent"], cwd=work, check=True)
        tarball = work / f"{release.package}-{release.version}.tgz"
        digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
        if integrity != f"sha512-{digest}":
            print(f"error: {tarball.name} does not match the registry's integrity", file=sys.stderr)
            return 1
        release.target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarball) as archive:
            for name in release.files:
                member = archive.extractfile(f"package/{name}")
                if member is None:
                    print(f"error: {name} is missing from {spec}", file=sys.stderr)
                    return 1
                (release.target / name).write_bytes(member.read())
    record = {
        "package": release.package,
        "version": release.version,
        "integrity": integrity,
        "files": {name: sha256(release.target / name) for name in release.files},
    }
    (release.target / "VENDOR.json").write_text(json.dumps(record, indent=2) + "\n")
    where = release.target.relative_to(ROOT)
    print(f"vendored {release.package} {release.version} into {where}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
