"""Keeping the SBOM tables across rebuilds: documents stay until superseded or removed by the site.

The rebuild search reads only the documents indexed lately (``claw:sbom``
events in its time range), so a document pushed before that range would drop
out of tables rebuilt from scratch while its image keeps running. With
``| clawsbomindex merge=true`` the tables are the previous ones plus what
arrived:

- a document that arrived supersedes the previous rows of the same document
  about the same subject: same name (``sbom_name``: its serial number,
  namespace or file name) and same ``subject_digest``, and only when it is
  trusted at least as much (``verified`` > ``channel`` > ``untrusted``): a
  document posted to another index under a copied name never pushes a
  trusted one out (it is kept beside it, and never decides); two unrelated
  documents that share a file name name different subjects, and both stay;
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
_NAME = SUBJECT_COLUMNS.index("sbom_name")
_TRUST = SUBJECT_COLUMNS.index("sbom_trust")
_RANK = {"verified": 2, "channel": 1, "untrusted": 0}


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
    """(removed document refs or names, removed subject digests) of the site's removal table."""
    refs, subjects = set(), set()
    for ref, subject in _rows(path, REMOVED_COLUMNS):
        if ref.strip():
            refs.add(ref.strip())
        if subject.strip():
            subjects.add(subject.strip().lower())
    return refs, subjects


def _key(row):
    """The same document about the same subject: its name (its identity in tables written before
    documents had one), and the subject."""
    return (row[_NAME] or row[_REF], row[_SUBJECT].lower())


def _rank(row):
    """How much a row's document is trusted; a row of a table written before trust levels: channel."""
    return _RANK.get(row[_TRUST], 0) if row[_TRUST] else 1


def _removed(row, refs, subjects):
    return row[_REF] in refs or (row[_NAME] and row[_NAME] in refs) or row[_SUBJECT].lower() in subjects


class MergeResult(object):
    def __init__(self):
        self.changed = False
        self.kept = 0          # previous subject rows kept as they were
        self.replaced = 0      # previous subject rows superseded by a document that arrived
        self.removed = 0       # previous subject rows dropped by the site's removal table
        self.ignored = 0       # arriving subject rows the removal table keeps out
        self.unchanged = 0     # arriving subject rows already in the tables


def merge_previous(tables, subjects_path, libraries_path, removed_path=None):
    """Add the previous tables' rows to ``tables`` (claw_ta.sbom.index.Tables holding the documents
    that arrived) by the rules above; returns a :class:`MergeResult` (``changed`` False: write nothing).

    Rows of removed documents or subjects are dropped from what arrived too.
    """
    result = MergeResult()
    removed_refs, removed_subjects = read_removed(removed_path)
    if removed_refs or removed_subjects:
        result.ignored += _drop_arrived(tables, removed_refs, removed_subjects)  # no change by itself
    arrived = {}  # key -> (best rank arriving, their lines)
    for line in tables.subjects:
        row = next(csv.reader([line]))
        rank, lines = arrived.get(_key(row), (-1, set()))
        lines.add(line)
        arrived[_key(row)] = (max(rank, _rank(row)), lines)
    present = set()
    kept_ids = set()
    for row in _rows(subjects_path, SUBJECT_COLUMNS):
        if _removed(row, removed_refs, removed_subjects):
            result.removed += 1
            continue
        line = _line(row)
        rank, lines = arrived.get(_key(row), (-1, ()))
        if line in lines:
            present.add(line)
            result.unchanged += 1
            continue
        if rank >= _rank(row):
            result.replaced += 1
            continue
        result.kept += 1
        tables.subjects.add(line)
        if row[_SBOM_ID]:
            kept_ids.add(row[_SBOM_ID])
    result.changed = bool(result.removed or result.replaced or
                          any(line not in present for _, lines in arrived.values() for line in lines))
    if not result.changed:
        return result
    kept_ids -= tables.library_ids()
    for row in _rows(libraries_path, LIBRARY_COLUMNS):
        if row[0] in kept_ids:
            tables.libraries.add(_line(row))
    return result


def _keep(line, removed_refs, removed_subjects):
    return not _removed(next(csv.reader([line])), removed_refs, removed_subjects)


def _drop_arrived(tables, removed_refs, removed_subjects):
    """Drop removed rows (and the library lists only they named) from what arrived; returns how many
    subject rows were dropped."""
    before = sum(1 for _ in tables.subjects)
    tables.keep_only(lambda line: _keep(line, removed_refs, removed_subjects))
    return before - sum(1 for _ in tables.subjects)
