"""CSV lookups as Splunk reads them: WILDCARD matching, first row wins, the allowlist.

- ``read_csv(path)``: rows (dicts, header order) of a lookup file; empty cells are
  empty strings, a missing file is an empty table.
- ``wildcard_match(pattern, value)``: Splunk ``match_type = WILDCARD(field)``:
  ``*`` matches any run of characters (also none), everything else is literal.
- ``Lookup(rows, key, wildcard=True, ...)``: ``lookup`` with ``max_matches = 1``:
  the first matching row in file order wins, else ``default``.
- ``Allowlist(rows)``: the rows of ``claw_allowlist.csv``
  (``detection_id,subject_digest,library_path,namespace,image_ref,expires,reason``):
  ``*`` or empty ``detection_id`` means every detection, an empty field means any
  value, wildcards anywhere, and a row whose ``expires`` day (YYYY-MM-DD, UTC)
  is over by the end of the detection window is ignored. Matching is
  case-insensitive, as the ``search NOT [...]`` clause the saved searches use.
"""
import calendar
import csv
import os
import re

from claw_ta import LOOKUPS_DIR

ALLOWLIST_FIELDS = ("subject_digest", "library_path", "namespace", "image_ref")
_PATTERNS = {}


def read_csv(path):
    """Rows of a CSV lookup as dicts (header order); [] when the file does not exist."""
    if not path or not os.path.exists(path):
        return []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = []
        for row in reader:
            rows.append({key.strip(): (value or "").strip() for key, value in row.items()
                         if key is not None})
        return rows


def lookup_path(name, override_dirs=()):
    """Path of lookup file ``name``: the first of ``override_dirs`` holding it, else the app's."""
    for folder in override_dirs:
        candidate = os.path.join(folder, name)
        if os.path.exists(candidate):
            return candidate
    return os.path.join(LOOKUPS_DIR, name)


def _compile(pattern, case_sensitive):
    key = (pattern, case_sensitive)
    regex = _PATTERNS.get(key)
    if regex is None:
        body = ".*".join(re.escape(part) for part in pattern.split("*"))
        regex = re.compile(r"\A" + body + r"\Z", 0 if case_sensitive else re.I | re.S)
        if len(_PATTERNS) > 10000:
            _PATTERNS.clear()
        _PATTERNS[key] = regex
    return regex


def wildcard_match(pattern, value, case_sensitive=True):
    """True when ``value`` matches the Splunk WILDCARD ``pattern`` (``*`` = any run)."""
    if value is None:
        return False
    if "*" not in pattern:
        return pattern == value if case_sensitive else pattern.lower() == value.lower()
    return _compile(pattern, case_sensitive).match(value) is not None


class Lookup(object):
    """A lookup table keyed on one field, ``max_matches = 1`` (first matching row wins)."""

    def __init__(self, rows, key, wildcard=True, case_sensitive=True):
        self.rows = [row for row in rows if row.get(key, "") != ""]
        self.key = key
        self.wildcard = wildcard
        self.case_sensitive = case_sensitive
        self._cache = {}

    def row(self, value):
        """The first row matching ``value``, or None."""
        if value is None:
            return None
        if value in self._cache:
            return self._cache[value]
        found = None
        for row in self.rows:
            pattern = row[self.key]
            if (wildcard_match(pattern, value, self.case_sensitive) if self.wildcard
                    else (pattern == value if self.case_sensitive else pattern.lower() == value.lower())):
                found = row
                break
        self._cache[value] = found
        return found

    def get(self, value, field, default=None):
        """``field`` of the first row matching ``value``, else ``default`` (like default_match)."""
        row = self.row(value)
        if row is None or row.get(field, "") == "":
            return default
        return row[field]


def day_end(text):
    """Epoch seconds at the end of day ``YYYY-MM-DD`` (UTC); None when it is not such a date."""
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})$", text.strip())
    if not match:
        return None
    try:
        start = calendar.timegm((int(match.group(1)), int(match.group(2)), int(match.group(3)), 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    return start + 86400


class Allowlist(object):
    """The rows of claw_allowlist.csv that are in force at ``window_end`` (epoch seconds).

    A row whose ``expires`` is not a YYYY-MM-DD date is kept (and reported in
    ``problems``): an allowlist entry is never dropped silently.
    """

    def __init__(self, rows, window_end=None):
        self.rows = []
        self.problems = []
        for number, row in enumerate(rows, 2):
            expires = row.get("expires", "")
            if expires:
                end = day_end(expires)
                if end is None:
                    self.problems.append("claw_allowlist.csv line %d: expires %r is not YYYY-MM-DD"
                                         % (number, expires))
                elif window_end is not None and window_end >= end:
                    continue
            self.rows.append(row)

    def applies(self, row, detection_id):
        pattern = row.get("detection_id", "")
        return pattern in ("", "*") or wildcard_match(pattern, detection_id, case_sensitive=False)

    def match(self, detection_id, result):
        """The first allowlist row that suppresses ``result`` of ``detection_id``, or None."""
        for row in self.rows:
            if not self.applies(row, detection_id):
                continue
            for field in ALLOWLIST_FIELDS:
                pattern = row.get(field, "")
                if pattern and not any(wildcard_match(pattern, value, case_sensitive=False)
                                       for value in _values(result.get(field))):
                    break
            else:
                return row
        return None


def _values(value):
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return value
    return (value,)
