"""``python -m claw_ta_tools.dashboards.generate [--check]``: write the Studio overview view.

Writes default/data/ui/views/claw_runtime_overview.xml from
claw_ta_tools.dashboards.overview, with the SPL of the saved searches it shows
copied from default/savedsearches.conf. ``--check`` exits 1 when the shipped
file differs (tests/test_dashboard_studio.py runs it).
"""
import argparse
import os
import sys

from claw_ta import DEFAULT_DIR
from claw_ta import conffile
from claw_ta_tools.dashboards import overview, studio

VIEW_PATH = os.path.join(DEFAULT_DIR, "data", "ui", "views", overview.VIEW + ".xml")


def saved_searches():
    """``{name: SPL}`` of default/savedsearches.conf."""
    stanzas = conffile.parse(os.path.join(DEFAULT_DIR, "savedsearches.conf"))
    return dict((name, keys["search"]) for name, keys in stanzas.items() if "search" in keys)


def view_text(saved=None):
    definition = overview.definition(saved_searches() if saved is None else saved)
    return studio.render_view(definition, overview.THEME, overview.LABEL, overview.DESCRIPTION)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the shipped view is not up to date")
    args = parser.parse_args(argv)
    text = view_text()
    current = open(VIEW_PATH, encoding="utf-8").read() if os.path.exists(VIEW_PATH) else None
    if args.check:
        if current != text:
            sys.stderr.write("%s is not up to date: run python -m claw_ta_tools.dashboards.generate\n" % VIEW_PATH)
            return 1
        return 0
    if current != text:
        with open(VIEW_PATH, "w", encoding="utf-8") as handle:
            handle.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
