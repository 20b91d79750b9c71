"""Placeholder: replaced by the module that implements this subcommand."""
import sys


def add_arguments(parser):
    parser.add_argument("rest", nargs="*")


def run(args):
    sys.stderr.write("claw-ta: this subcommand is not built yet\n")
    return 2
