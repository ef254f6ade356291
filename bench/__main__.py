"""``python -m bench``: see bench/run.py."""

import sys

from .run import main

try:
    sys.exit(main())
except KeyboardInterrupt:
    # The servers were stopped on the way out of main; no traceback for a Ctrl-C.
    print("bench: interrupted", file=sys.stderr)
    sys.exit(130)
