"""A throw-away copy of the app's layout whose lookups/ folder a test or benchmark controls.

The commands read their lookup from ``lookups/`` next to their own ``bin/``
(``claw_ta.LOOKUPS_DIR``, derived from where ``claw_ta`` was imported from,
symlinks not resolved). Linking the built app's ``bin/`` entries (the app as it
ships, splunklib installed: ``built_bin``) into a temporary app gives
the real code a lookups folder of our choosing without touching the repo's.
"""
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP_BIN = os.path.join(REPO, "TA-claw-runtime", "bin")
TOOLS = os.path.join(REPO, "tools")
SCRIPTS = ("clawsbomcheck.py", "clawsbomindex.py")


def built_bin():
    """``bin/`` of the app as it ships, built once per process (splunklib is not in the source tree)."""
    for path in (APP_BIN, TOOLS):
        if path not in sys.path:
            sys.path.insert(0, path)
    from claw_ta_tools.package import built_app
    return os.path.join(built_app(), "bin")


def make_app(root, lookup_rows=None, lookup_text=None, lookup_name="claw_sbom_libraries.csv", tables=None):
    """Create ``root/app/{bin,lookups}``; return the dict of script paths (by command name).

    ``tables`` (claw_ta.sbom.index.Tables) or ``lookup_rows`` (joined rows:
    subject_digest, library columns, sbom_ref) are written as both SBOM tables
    with claw_ta's writer; ``lookup_text`` is written verbatim to
    ``lookup_name``; with none of them, no table exists.
    """
    app = os.path.join(str(root), "app")
    bin_dir = os.path.join(app, "bin")
    lookups = os.path.join(app, "lookups")
    os.makedirs(bin_dir, exist_ok=True)
    os.makedirs(lookups, exist_ok=True)
    built = built_bin()
    for name in ("claw_ta", "sdk") + SCRIPTS:
        link = os.path.join(bin_dir, name)
        if not os.path.lexists(link):
            os.symlink(os.path.join(built, name), link)
    path = os.path.join(lookups, lookup_name)
    if lookup_rows is not None:
        sys.path.insert(0, APP_BIN)
        from claw_ta.sbom.index import tables_from_rows
        tables = tables_from_rows(lookup_rows)
    if tables is not None:
        tables.write(os.path.join(lookups, "claw_sbom_subjects.csv"), os.path.join(lookups, "claw_sbom_libraries.csv"))
    elif lookup_text is not None:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(lookup_text)
    return dict((os.path.splitext(s)[0], os.path.join(bin_dir, s)) for s in SCRIPTS)
