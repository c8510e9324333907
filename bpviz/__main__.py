"""`python -m bpviz` and the `bpviz` command. The interrupt guard wraps even the import of the
command line, so Ctrl-C at any moment ends with one line and status 130."""

import sys


def run() -> int:
    """The `bpviz` command's entry point: nothing heavy is imported before the guard."""
    try:
        from bpviz.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("bpviz: interrupted\n")
        return 130
    return main()


if __name__ == "__main__":
    raise SystemExit(run())
