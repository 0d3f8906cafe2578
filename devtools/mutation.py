"""`make mutate`: mutation testing of the modules whose numbers the unit suite pins.

Runs mutmut afresh (the modules and the suite are configured in pyproject.toml, under
[tool.mutmut]), then reads its results: per module, the mutants the unit suite killed out
of all it made. A mutant no unit test reaches counts as a survivor. The scores are printed
and written to reports/mutation.json; below `--minimum` percent the command fails.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
REPORT = ROOT / "reports" / "mutation.json"
CORE: dict[str, float] = {
    "functions/resources/kinds.py": 94.0,
    "functions/edge/http/parsing.py": 94.0,
    "functions/core/limits.py": 94.0,
    "functions/core/api_keys.py": 94.0,
}
"""The modules whose numbers the unit suite has long pinned: each keeps this score or more
(the others `--minimum`)."""
KILLED = {1, 3, 37}
"""mutmut's exit codes for a mutant the tests caught (a failure, a pytest error, a type
check)."""


def scores(mutants: Path = MUTANTS) -> dict[str, dict[str, int]]:
    """Per mutated module: mutants made, killed, and survivors by kind."""
    found: dict[str, dict[str, int]] = {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        module = str(meta.relative_to(mutants)).removesuffix(".meta")
        codes = json.loads(meta.read_text())["exit_code_by_key"].values()
        found[module] = {
            "mutants": len(codes),
            "killed": sum(code in KILLED for code in codes),
            "survived": sum(code == 0 for code in codes),
            "untested": sum(code in (5, 33) for code in codes),
        }
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minimum", type=float, default=85.0, help="percent killed per module")
    parser.add_argument("--keep", action="store_true", help="reuse the results of a last run")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if not args.keep:
        shutil.rmtree(MUTANTS, ignore_errors=True)
        # The link the test stack gives a test codebase to the venv (made again when the
        # stack starts): mutmut would copy the whole venv through it.
        for link in (ROOT / "tests").rglob("venv"):
            if link.is_symlink():
                link.unlink()
    mutmut = Path(sys.executable).parent / "mutmut"
    run = subprocess.run([str(mutmut), "run"], cwd=ROOT, stdin=subprocess.DEVNULL, check=False)
    found = scores()
    if run.returncode != 0 or not found:
        print(f"error: mutmut did not finish (exit {run.returncode})", file=sys.stderr)
        return run.returncode or 1
    below = []
    print(
        f"\n{'module':40} {'mutants':>8} {'killed':>7} {'survived':>9} {'untested':>9} {'score':>7}"
    )
    for module, tally in found.items():
        score = 100.0 * tally["killed"] / max(1, tally["mutants"])
        tally["score"] = round(score, 1)  # type: ignore[assignment]
        print(
            f"{module:40} {tally['mutants']:8} {tally['killed']:7} {tally['survived']:9} "
            f"{tally['untested']:9} {score:6.1f}%"
        )
        if score < CORE.get(module, args.minimum):
            below.append(f"{module} ({score:.1f}% < {CORE.get(module, args.minimum):g}%)")
    seconds = round(time.monotonic() - started)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps({"seconds": seconds, "modules": found}, indent=2) + "\n")
    print(f"\n{seconds} s; written to {REPORT.relative_to(ROOT)}; survivors: `mutmut results`")
    if below:
        print(f"below the minimum: {', '.join(below)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
