"""``claw-ta sbom-index [--output FILE] SBOM_FILE...``: build claw_sbom_libraries.csv.

SBOM_FILE may be a file or a folder (searched recursively for *.cdx.json,
*.cdx.xml, *.spdx.json, *.link, *.intoto.json, *.intoto.jsonl and other
*.json/*.jsonl/*.xml, recognized by content). A bad file is reported on stderr
with its reason and skipped; the others are still indexed.
"""
import os
import sys

from claw_ta import LOOKUPS_DIR
from claw_ta.sbom.index import LOOKUP_FILE, build_rows, write_csv
from claw_ta.sbom.model import MAX_BYTES


def add_arguments(parser):
    parser.add_argument("sboms", nargs="+", metavar="SBOM_FILE",
                        help="SBOM / in-toto files or folders")
    parser.add_argument("--output", "-o", metavar="FILE",
                        help="CSV to write (default: the app's lookups/%s; '-' for stdout)" % LOOKUP_FILE)
    parser.add_argument("--max-bytes", type=int, default=MAX_BYTES, metavar="N",
                        help="refuse documents larger than N bytes (default %(default)s)")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 when any file was skipped")


def run(args):
    rows, errors = build_rows(args.sboms, max_bytes=args.max_bytes)
    for name, reason in errors:
        sys.stderr.write("claw-ta sbom-index: skipped %s: %s\n" % (name, reason))
    output = args.output or os.path.join(LOOKUPS_DIR, LOOKUP_FILE)
    if output == "-":
        import csv
        from claw_ta.sbom.index import COLUMNS
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([row.get(c, "") for c in COLUMNS])
    else:
        folder = os.path.dirname(os.path.abspath(output))
        if not os.path.isdir(folder):
            sys.stderr.write("claw-ta sbom-index: --output: folder %s does not exist\n" % folder)
            return 2
        write_csv(rows, output)
    subjects = len(set(r["subject_digest"] for r in rows))
    sys.stderr.write("claw-ta sbom-index: %d rows for %d subjects written to %s (%d files skipped)\n"
                     % (len(rows), subjects, output, len(errors)))
    return 1 if errors and args.strict else 0
