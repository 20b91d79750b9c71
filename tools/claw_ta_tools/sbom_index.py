"""``claw-ta sbom-index [--output FILE] SBOM_FILE...``: build the SBOM tables.

Writes claw_sbom_libraries.csv (``--output``) and claw_sbom_subjects.csv
beside it (``--subjects-output``), sorted, as ``| clawsbomcheck`` reads them
(docs/sbom.md). SBOM_FILE may be a file or a folder (searched recursively for
*.cdx.json, *.cdx.xml, *.spdx.json, *.link, *.intoto.json, *.intoto.jsonl and
other *.json/*.jsonl/*.xml, recognized by content). A bad file is reported on
stderr with its reason and skipped; the others are still indexed. Memory is
bounded whatever the number of rows (sorted runs spill to temporary files).

Trust (docs/sbom-trust.md): ``--trust-policy FILE`` (the exported
``claw_trust_policy``) checks every signed document (DSSE envelopes, Sigstore
bundles with ``--trusted-root``, in-toto links) and gives each document its
level (``verified``, ``channel``, ``untrusted``); ``--require-signatures``
makes unsigned documents ``untrusted``; ``--untrusted-folders`` says the
files given are no source the site trusts (unsigned: ``untrusted``).

A path that does not exist, or no document indexed, is an error (exit 2 or 1)
and leaves the tables as they were; otherwise both are written beside their
destination and then renamed over it, so the pair is replaced whole.
"""
import csv
import inspect
import os
import sys

from claw_ta import LOOKUPS_DIR
from claw_ta.sbom.index import COLUMNS, LOOKUP_FILE, SUBJECTS_FILE, build_tables, joined_rows
from claw_ta.sbom.model import MAX_BYTES


def add_arguments(parser):
    parser.add_argument("sboms", nargs="+", metavar="SBOM_FILE",
                        help="SBOM / in-toto files or folders")
    parser.add_argument("--output", "-o", metavar="FILE",
                        help="libraries table to write (default: the app's lookups/%s; '-': the joined "
                             "view, one row per subject and library, on stdout)" % LOOKUP_FILE)
    parser.add_argument("--subjects-output", metavar="FILE",
                        help="subjects table to write (default: %s beside --output)" % SUBJECTS_FILE)
    parser.add_argument("--max-bytes", type=int, default=MAX_BYTES, metavar="N",
                        help="refuse documents larger than N bytes (default %(default)s)")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 when any file was skipped")
    trust = parser.add_argument_group("trust (docs/sbom-trust.md)")
    trust.add_argument("--trust-policy", metavar="FILE",
                       help="the site's claw_trust_policy exported as CSV or JSON: signed documents are "
                            "checked and each document gets a trust level")
    trust.add_argument("--require-signatures", action="store_true",
                       help="unsigned documents are untrusted (else they count as their channel)")
    trust.add_argument("--untrusted-folders", action="store_true",
                       help="the files given are not a source the site trusts: unsigned documents are untrusted")
    trust.add_argument("--trusted-root", metavar="FILE",
                       help="Sigstore trusted_root.json for keyless bundles (checked offline)")


def make_assessor(args):
    """The assess= hook of build_tables for the trust options, or None when none is given."""
    if not (args.trust_policy or args.require_signatures or args.untrusted_folders or args.trusted_root):
        return None
    from claw_ta.sbom.trust import Policy, load_policy
    from claw_ta_tools.attest import Assessor
    policy = load_policy(args.trust_policy) if args.trust_policy else Policy()
    assessor = Assessor(policy, require_signatures=args.require_signatures,
                        channel=not args.untrusted_folders, trusted_root=args.trusted_root)
    warnings = list(assessor.errors)
    if not policy.rows:
        warnings.append("no trust policy rows: no document can be verified")
    if policy.sigstore_rows() and not args.trusted_root:
        warnings.append("Sigstore rows without --trusted-root: keyless bundles cannot be verified")
    for warning in warnings:
        sys.stderr.write("claw-ta sbom-index: warning: trust policy: %s\n" % warning)
    return assessor


def run(args):
    output = args.output or os.path.join(LOOKUPS_DIR, LOOKUP_FILE)
    subjects = args.subjects_output or os.path.join(os.path.dirname(os.path.abspath(output)), SUBJECTS_FILE)
    for option, path in (("--output", output), ("--subjects-output", subjects)):
        folder = os.path.dirname(os.path.abspath(path))
        if path != "-" and not os.path.isdir(folder):
            sys.stderr.write("claw-ta sbom-index: %s: folder %s does not exist\n" % (option, folder))
            return 2
    missing = [path for path in args.sboms if not os.path.exists(path)]
    if missing:  # a typo must not replace the tables with empty ones
        sys.stderr.write("claw-ta sbom-index: no such file or folder: %s (tables left unchanged)\n"
                         % ", ".join(missing))
        return 2
    try:
        assess = make_assessor(args)
    except (ValueError, OSError) as error:  # PolicyError, an unreadable file
        sys.stderr.write("claw-ta sbom-index: --trust-policy: %s\n" % error)
        return 2
    if assess is None:
        tables, errors = build_tables(args.sboms, max_bytes=args.max_bytes)
    elif "assess" not in inspect.signature(build_tables).parameters:
        sys.stderr.write("claw-ta sbom-index: the trust options need the tables' trust columns "
                         "(build_tables(assess=...)), which this version does not have\n")
        return 2
    else:
        tables, errors = build_tables(args.sboms, max_bytes=args.max_bytes, assess=assess)
    for name, reason in errors:
        sys.stderr.write("claw-ta sbom-index: skipped %s: %s\n" % (name, reason))
    for name, warning in tables.warnings:
        sys.stderr.write("claw-ta sbom-index: warning: %s: %s\n" % (name, warning))
    if not tables.documents:
        tables.close()
        sys.stderr.write("claw-ta sbom-index: no document indexed from %s (%d files skipped): tables left "
                         "unchanged\n" % (", ".join(args.sboms), len(errors)))
        return 1
    try:
        if output == "-":
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(COLUMNS)
            for row in joined_rows(tables):
                writer.writerow([row[c] for c in COLUMNS])
            where = "stdout"
        else:
            tables.write(subjects, output)
            where = "%s and %s" % (subjects, output)
    finally:
        tables.close()
    sys.stderr.write("claw-ta sbom-index: %d documents indexed into %s (%d files skipped)\n"
                     % (tables.documents, where, len(errors)))
    return 1 if errors and args.strict else 0
