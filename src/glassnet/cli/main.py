"""The ``glassnet`` command: one subcommand per module of ``glassnet.cli``.

Each module listed in :data:`COMMANDS` has ``add_parser(subparsers)``, which
adds its argparse subparser and sets ``func(args) -> exit status``. A new
command is one module and one entry here.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..backend import tune_allocator_once
from ..distributed import DistributedError
from .validation import harden

COMMANDS = ("train", "evaluate", "summary", "experiments")
COMMANDS += ("predict", "zoo", "lr_find")  # lr_find registers as lr-find
COMMANDS += ("playground",)  # the interactive playground (glassnet.playground)
COMMANDS += ("export",)  # ONNX export (glassnet.onnx)


class OneLineErrors(argparse.ArgumentParser):
    """An argparse parser whose errors are one line, without the usage first (``glassnet train``'s
    alone is 25 lines; ``--help`` prints it); exit status 2 as argparse's."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    parser = OneLineErrors(prog="glassnet", description="glassnet: the classic neural-network "
                                     "curriculum on NumPy. `glassnet COMMAND --help` describes each command.")
    parser.add_argument("--version", action="version", version=f"glassnet {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=OneLineErrors)
    for name in COMMANDS:
        importlib.import_module(f"{__package__}.{name}").add_parser(subparsers)
    return harden(parser)  # every option value checked (glassnet.cli.validation)


def main(argv=None) -> int:
    """Run ``glassnet ARGS`` (``argv`` defaults to the command line); returns the exit status."""
    args = build_parser().parse_args(argv)
    tune_allocator_once()  # this process is glassnet's: keep freed large blocks for reuse (see backend)
    try:
        return args.func(args) or 0
    except (OSError, ValueError, DistributedError) as e:  # bad options, missing files: a message, not a traceback
        print(f"glassnet {args.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
