"""``claw-ta``: the add-on's command line (package, sbom-index, replay, evaluate).

Each subcommand lives in its own module, which provides ``add_arguments(parser)``
and ``run(args) -> int``; this file only wires them together.
"""
import argparse
import importlib
import sys

# (name, module, help). Modules are imported only when their subcommand runs.
SUBCOMMANDS = (
    ("package", "claw_ta_tools.package", "build dist/TA-claw-runtime-<version>.tar.gz"),
    ("sbom-index", "claw_ta_tools.sbom_index", "index SBOMs / in-toto links into claw_sbom_libraries.csv"),
    ("replay", "claw_ta_tools.detections.replay_cli", "replay the detections over a scenario directory"),
    ("evaluate", "claw_ta_tools.detections.evaluate_cli", "score replayed alerts against expected.jsonl"),
)


def build_parser():
    from claw_ta import app_version
    parser = argparse.ArgumentParser(prog="claw-ta", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version="%(prog)s " + app_version())
    subs = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND")
    subs.required = True
    for name, module, help_text in SUBCOMMANDS:
        sub = subs.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(_module=module)
        mod = importlib.import_module(module)
        mod.add_arguments(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    mod = importlib.import_module(args._module)
    try:
        return mod.run(args) or 0
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
