"""CSV lookups as Splunk reads them: WILDCARD matching, first row wins, the allowlist.

- ``read_csv(path)``: rows (dicts, header order) of a lookup file; empty cells are
  empty strings, a missing file is an empty table.
- ``wildcard_match(pattern, value)``: Splunk ``match_type = WILDCARD(field)``:
  ``*`` matches any run of characters (also none), everything else is literal.
- ``Lookup(rows, key, wildcard=True, ...)``: ``lookup`` with ``max_matches = 1``:
  the first matching row in file order wins, else ``default``.
- ``layered_rows(name, override_dirs)``: a site table with shipped defaults:
  the site rows (first) and then the rows of ``<name>_default.csv``, or only a
  scenario's override file of that name (which replaces the whole table).
- ``Allowlist(rows, window_end)``: the allowlist rows in force (rules in
  ``claw_ta.allowlist``), matched case-insensitively as the ``search NOT [...]``
  clause of the saved searches does.
- ``STATE_FILES``: lookup files the site edits or a search writes. The package
  never ships them, so an app upgrade cannot overwrite them (docs/tuning.md).
"""
import csv
import os
import re

from claw_ta import LOOKUPS_DIR, allowlist

_PATTERNS = {}
DEFAULT_SUFFIX = "_default"
# Site tuning (claw_allowlist, claw_namespace_env, claw_image_env live in the KV
# store; these names are the replay's stand-in files) and generated tables.
STATE_FILES = ("claw_allowlist.csv", "claw_namespace_env.csv", "claw_image_env.csv",
               "claw_host_tiers.csv", "claw_tier_baseline.csv", "claw_sbom_libraries.csv",
               "claw_sbom_subjects.csv")
# serverclass.conf excludeFromUpdate for a deployment server that serves the app to a
# search head: what the site edits in the app folder (docs/tuning.md).
DS_EXCLUDE_FROM_UPDATE = ("$app_root$/local", "$app_root$/metadata/local.meta") + tuple(
    "$app_root$/lookups/" + name for name in STATE_FILES[3:])


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


def default_name(name):
    """``claw_x.csv`` -> ``claw_x_default.csv``: the shipped defaults of a site table."""
    base, ext = os.path.splitext(name)
    return base + DEFAULT_SUFFIX + ext


def layered_rows(name, override_dirs=()):
    """Rows of site table ``name``: a scenario override replaces it, else site rows then defaults."""
    for folder in override_dirs:
        candidate = os.path.join(folder, name)
        if os.path.exists(candidate):
            return read_csv(candidate)
    return read_csv(os.path.join(LOOKUPS_DIR, name)) + read_csv(os.path.join(LOOKUPS_DIR, default_name(name)))


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


class Allowlist(object):
    """The allowlist rows in force at ``window_end`` (epoch seconds), with the same rules as the SPL.

    Rows that are invalid (:func:`claw_ta.allowlist.validate_row`: no entity
    field, a wildcard digest, a missing or unparseable ``expires``) are
    ignored and reported in ``problems``; expired rows are ignored silently.
    """

    def __init__(self, rows, window_end=None):
        self.rows = []
        self.problems = []
        for number, row in enumerate(rows, 2):
            errors = allowlist.validate_row(row)
            if errors:
                self.problems.append("claw_allowlist row %d ignored: %s" % (number, "; ".join(errors)))
                continue
            if window_end is not None and allowlist.expires_at(row.get("expires")) <= window_end:
                continue
            self.rows.append(row)

    def applies(self, row, detection_id):
        pattern = row.get("detection_id", "")
        return pattern == "*" or wildcard_match(pattern, detection_id, case_sensitive=False)

    def match(self, detection_id, result):
        """The first allowlist row that suppresses ``result`` of ``detection_id``, or None.

        Every entity field the row sets must equal (digests) or match (``*``
        patterns, case-insensitive, like ``search``) a value the result has.
        """
        for row in self.rows:
            if not self.applies(row, detection_id):
                continue
            for field in allowlist.ENTITY_FIELDS:
                pattern = row.get(field) or ""
                if not pattern:
                    continue
                values = [v for v in _values(result.get(field)) if isinstance(v, str)]
                if field in allowlist.DIGEST_FIELDS:
                    hit = any(pattern.lower() == v.lower() for v in values)
                else:
                    hit = any(wildcard_match(pattern, v, case_sensitive=False) for v in values)
                if not hit:
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
