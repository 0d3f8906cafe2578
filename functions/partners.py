"""`python -m functions.partners`: the partners command-line tool (`functions.admin.partners`)."""

import sys

from functions.admin.partners import main

if __name__ == "__main__":
    sys.exit(main())
