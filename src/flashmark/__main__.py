"""`python -m flashmark`: the same as the `flashmark` command."""

import sys

from flashmark.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
