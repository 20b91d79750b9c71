"""The SBOM index tables: file names and columns (docs/sbom.md, "The lookups").

Kept apart from the builder (claw_ta.sbom.index) so that ``| clawsbomcheck``
imports no parser to read the tables.
"""
import os
import re

SUBJECTS_FILE = "claw_sbom_subjects.csv"
LOOKUP_FILE = "claw_sbom_libraries.csv"
SUBJECT_COLUMNS = ("subject_digest", "subject_kind", "evidence", "sbom_id", "sbom_ref",
                   "sbom_format", "platform_digests", "sbom_name", "sbom_trust", "sbom_signer",
                   "sbom_trust_reason", "platform_names")
# A subjects table written before documents had a trust level: read as ``channel`` documents.
LEGACY_SUBJECT_COLUMNS = SUBJECT_COLUMNS[:7]
LIBRARY_COLUMNS = ("sbom_id", "library_path", "library_digest", "package_name",
                   "package_version", "purl")
# The joined view (one row per subject and library), for tests and inspection.
COLUMNS = ("subject_digest", "subject_kind", "evidence", "library_path", "library_digest",
           "package_name", "package_version", "purl", "sbom_format", "sbom_ref", "sbom_name", "sbom_trust",
           "sbom_signer")
SUBJECT_KEY = rb"^sha256:[0-9a-f]{64}$"
LIBRARY_KEY = rb"^[0-9a-f]{24}$"


_LOOKUP_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def lookup_path(name, lookups_dir):
    """File of lookup ``name`` in ``lookups_dir``; ValueError for a hostile name.

    ``claw_sbom_libraries`` and ``claw_sbom_libraries.csv`` both name the same file.
    """
    if not name or "/" in name or "\\" in name or ".." in name or not _LOOKUP_NAME.match(name):
        raise ValueError("must be a lookup name in the app's lookups/ folder "
                         "(letters, digits, _ . -; no path separators or '..'), not %r" % name)
    if not name.lower().endswith(".csv"):
        name += ".csv"
    return os.path.join(lookups_dir, name)
