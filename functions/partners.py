"""`python -m functions.partners`: the partners command-line tool (`functions.cli.commands`)."""

import sys

from functions.cli.commands import main

if __name__ == "__main__":
    sys.exit(main())
