import sys

from flashmark.cli.main import main

sys.exit(main())
