"""The SBOM library index: documents -> rows of the lookup ``claw_sbom_libraries.csv``.

One row per (subject digest, allowed library). ``claw-ta sbom-index`` builds it
from files, ``| clawsbomindex`` from indexed ``claw:sbom`` events; both go
through :func:`parse_text` and :func:`document_rows`, so they write the same rows.
"""
import csv
import os
import re

from claw_ta.sbom.model import MAX_BYTES, SbomError
from claw_ta.sbom.parse import SUFFIXES, discover, parse_text, read_file  # noqa: F401 (re-exported)
from claw_ta.sbom.paths import digest_label, normalize_path

COLUMNS = ("subject_digest", "library_path", "library_digest", "package_name",
           "package_version", "purl", "sbom_format", "sbom_ref")
LOOKUP_FILE = "claw_sbom_libraries.csv"


def document_rows(doc):
    """Lookup rows (dicts of COLUMNS) of one parsed document; SbomError if it gives none."""
    if not doc.subjects:
        raise SbomError("no SHA-256 subject digest (%s subject without a sha256 hash); "
                        "it cannot be tied to any event" % doc.format)
    if not doc.entries:
        raise SbomError("lists no libraries (%d components without a path, digest or name)"
                        % doc.components)
    rows = []
    for subject in doc.subjects:
        label = digest_label(subject)
        for entry in doc.entries:
            path = normalize_path(entry.path) if entry.path else ""
            if entry.path and not path and not entry.sha256:
                continue
            rows.append({"subject_digest": label, "library_path": path,
                         "library_digest": digest_label(entry.sha256),
                         "package_name": entry.name, "package_version": entry.version,
                         "purl": entry.purl, "sbom_format": doc.format, "sbom_ref": doc.ref})
    return rows


def rows_from_text(data, name):
    """(rows, errors) for one document text (the ``claw:sbom`` event path)."""
    try:
        rows = []
        for doc in parse_text(data, name):
            rows.extend(document_rows(doc))
        return rows, []
    except SbomError as error:
        return [], [(name, str(error))]
    except (RecursionError, MemoryError) as error:
        return [], [(name, "too large or too deeply nested to parse (%s)" % type(error).__name__)]


def dedupe(rows):
    """Rows without duplicates, in a stable order (subject, path, digest, ...)."""
    seen = {}
    for row in rows:
        seen.setdefault(tuple(row.get(c, "") for c in COLUMNS), row)
    return [seen[key] for key in sorted(seen)]


def build_rows(paths, max_bytes=MAX_BYTES):
    """(rows, errors) from SBOM files/folders; bad files are reported and skipped."""
    files, errors = discover(paths)
    rows = []
    for path in files:
        name = os.path.basename(path)
        try:
            data = read_file(path, max_bytes)
        except SbomError as error:
            errors.append((name, str(error)))
            continue
        except OSError as error:
            errors.append((name, "cannot read: %s" % error.strerror))
            continue
        found, bad = rows_from_text(data, name)
        rows.extend(found)
        errors.extend(bad)
    return dedupe(rows), errors


def write_csv(rows, path):
    """Write the lookup (header always, even with no rows), atomically."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([row.get(c, "") for c in COLUMNS])
    os.replace(tmp, path)


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
