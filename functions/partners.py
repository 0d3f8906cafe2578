"""`python -m functions.partners`: the partners command-line tool (`functions.admin.cli`)."""

import sys

from functions.admin.cli import main

if __name__ == "__main__":
    sys.exit(main())
