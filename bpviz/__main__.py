"""`python -m bpviz`: the same as the `bpviz` command. The interrupt guard wraps even the
import of the command line, so Ctrl-C at any moment ends with one line and status 130."""

import sys

try:
    from bpviz.cli import main
except KeyboardInterrupt:
    sys.stderr.write("bpviz: interrupted\n")
    raise SystemExit(130) from None

raise SystemExit(main())
