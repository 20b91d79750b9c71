"""Keeping the SBOM tables across rebuilds: documents stay until superseded or removed by the site.

The rebuild search reads only the documents indexed lately (``claw:sbom``
events in its time range), so a document pushed before that range would drop
out of tables rebuilt from scratch while its image keeps running. With
``| clawsbomindex merge=true`` the tables are the previous ones plus what
arrived:

- a document that arrived replaces the previous rows of the same document
  (``sbom_ref``: its content digest, so no other document can claim it);
- every other previous document is kept, with its library list;
- rows the site removed are dropped: the removal table (``claw_sbom_removed``:
  ``sbom_ref``, ``subject_digest``; either may be empty) names documents and
  subjects that stay out, also when they arrive again;
- nothing changed (each arriving document is already there, row for row, and
  nothing was removed): :func:`merge_previous` says so and the command outputs
  no rows, so ``outputlookup override_if_empty=false`` leaves the replicated
  lookups untouched (no new knowledge bundle every hour).
"""
import csv
import os

from claw_ta.sbom.index import _line
from claw_ta.sbom.schema import LIBRARY_COLUMNS, SUBJECT_COLUMNS

REMOVED_COLUMNS = ("sbom_ref", "subject_digest")
_REF = SUBJECT_COLUMNS.index("sbom_ref")
_SUBJECT = SUBJECT_COLUMNS.index("subject_digest")
_SBOM_ID = SUBJECT_COLUMNS.index("sbom_id")


def _rows(path, columns):
    """Rows of a table file as lists in ``columns`` order ([] when it does not exist)."""
    if not path or not os.path.exists(path):
        return
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        at = [header.index(c) if c in header else -1 for c in columns]
        for row in reader:
            yield [row[i] if 0 <= i < len(row) else "" for i in at]


def read_removed(path):
    """(removed document refs, removed subject digests) of the site's removal table."""
    refs, subjects = set(), set()
    for ref, subject in _rows(path, REMOVED_COLUMNS):
        if ref.strip():
            refs.add(ref.strip())
        if subject.strip():
            subjects.add(subject.strip().lower())
    return refs, subjects


class MergeResult(object):
    def __init__(self):
        self.changed = False
        self.kept = 0          # previous documents kept as they were
        self.replaced = 0      # previous documents replaced by one that arrived
        self.removed = 0       # previous subject rows dropped by the site's removal table
        self.ignored = 0       # arriving subject rows the removal table keeps out
        self.unchanged = 0     # arriving documents already in the tables row for row


def merge_previous(tables, subjects_path, libraries_path, removed_path=None):
    """Add the previous tables' rows to ``tables`` (claw_ta.sbom.index.Tables holding the documents
    that arrived) by the rules above; returns a :class:`MergeResult` (``changed`` False: write nothing).

    Rows of removed documents or subjects are dropped from what arrived too.
    """
    result = MergeResult()
    removed_refs, removed_subjects = read_removed(removed_path)
    arrived = {}
    for line in tables.subjects:
        row = next(csv.reader([line]))
        arrived.setdefault(row[_REF], set()).add(line)
    if removed_refs or removed_subjects:
        result.ignored += _drop_arrived(tables, removed_refs, removed_subjects)  # no change by itself
        arrived = dict((ref, set(line for line in lines if _keep(line, removed_refs, removed_subjects)))
                       for ref, lines in arrived.items() if ref not in removed_refs)
        arrived = dict((ref, lines) for ref, lines in arrived.items() if lines)
    previous = {}
    for row in _rows(subjects_path, SUBJECT_COLUMNS):
        if row[_REF] in removed_refs or row[_SUBJECT].lower() in removed_subjects:
            result.removed += 1
            continue
        previous.setdefault(row[_REF], []).append(row)
    kept_ids = set()
    for ref, rows in previous.items():
        lines = set(_line(row) for row in rows)
        if ref in arrived:
            if arrived[ref] == lines:
                result.unchanged += 1
            else:
                result.replaced += 1
            continue
        result.kept += 1
        for line in lines:
            tables.subjects.add(line)
        kept_ids.update(row[_SBOM_ID] for row in rows if row[_SBOM_ID])
    result.changed = bool(result.removed or result.replaced or any(ref not in previous for ref in arrived))
    if not result.changed:
        return result
    kept_ids -= tables.library_ids()
    for row in _rows(libraries_path, LIBRARY_COLUMNS):
        if row[0] in kept_ids:
            tables.libraries.add(_line(row))
    return result


def _keep(line, removed_refs, removed_subjects):
    row = next(csv.reader([line]))
    return row[_REF] not in removed_refs and row[_SUBJECT].lower() not in removed_subjects


def _drop_arrived(tables, removed_refs, removed_subjects):
    """Drop removed rows (and the library lists only they named) from what arrived; returns how many
    subject rows were dropped."""
    before = sum(1 for _ in tables.subjects)
    tables.keep_only(lambda line: _keep(line, removed_refs, removed_subjects))
    return before - sum(1 for _ in tables.subjects)
