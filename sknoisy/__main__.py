"""The command line's entry point: ``sknoisy ...`` and ``python -m sknoisy ...``.

Importing the command line imports torch, which takes seconds; a Ctrl-C in
that time ends the command with one line and status 130, as it does later.
"""

import sys


def main(argv=None) -> int:
    """Run the command line (:func:`sknoisy.cli.main`) on ``argv``."""
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        print("sknoisy: interrupted", file=sys.stderr)
        return 130
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
