"""The allowlist in SPL: the rules of ``claw_ta.allowlist`` as macros and a report.

- ``valid_expression()``: an ``eval`` boolean, true for a row that
  ``claw_ta.allowlist.validate_row`` accepts (apart from the expiry instant,
  which ``claw_exp`` carries); ``problem_expression()`` names the first problem.
- ``ALLOWLIST_ROWS``: the ``claw_allowlist_rows(1)`` macro, the rows in force
  for one detection as a ``search NOT [...]`` filter.
- ``INVALID_ROWS``: the ``claw_allowlist_invalid`` macro, every ignored row with
  the reason (run `` | `claw_allowlist_invalid` `` or show it in a dashboard).
- ``macro_stanzas()``: both macros, for the generator.

Both are written from the same constants as the Python rules, and
tests/test_allowlist_spl.py runs the expressions on rows against ``validate_row``.
"""
from claw_ta import allowlist as al


def _q(text):
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


def _detection_re():
    ids = "|".join(al.known_detection_ids())
    return r"^([A-Za-z0-9_]*[*][A-Za-z0-9_*]*|%s)$" % ids


def _v(field):
    return 'coalesce(%s, "")' % field


# (condition that makes a row invalid, message): first match wins in the report.
def _problems():
    out = [
        ('%s==""' % _v("detection_id"), "detection_id is empty (use * for every detection)"),
        ('NOT match(%s, %s)' % (_v("detection_id"), _q(_detection_re())),
         "detection_id is not a detection of this add-on or a * pattern"),
        (" AND ".join('%s==""' % _v(f) for f in al.ENTITY_FIELDS),
         "names no entity field: it would switch the detection off"),
    ]
    for field in al.DIGEST_FIELDS:
        out.append(('%s!="" AND NOT match(%s, %s)' % (_v(field), _v(field), _q(al.DIGEST_RE)),
                    "%s is not a sha256:/sha512: digest (no wildcards)" % field))
    for field in al.PATTERN_FIELDS:
        out.append(('match(%s, %s)' % (_v(field), _q(al.UNQUOTABLE_RE)),
                    "%s contains a double quote or backslash" % field))
        out.append(('%s!="" AND NOT match(%s, %s)' % (_v(field), _v(field), _q(al.SCOPE_RE)),
                    "%s has no letter or digit besides wildcards" % field))
    out.append(("isnull(claw_exp)", "expires is missing or not YYYY-MM-DD / YYYY-MM-DDTHH:MM:SSZ (UTC)"))
    return out


def valid_expression():
    """True for a row with no problem except, possibly, its expiry."""
    return " AND ".join("NOT (%s)" % cond for cond, _ in _problems()[:-1])


def problem_expression():
    """The first problem of a row (null for a valid row), expiry included."""
    parts = []
    for cond, message in _problems():
        parts.append("%s, %s" % (cond, _q(message)))
    return "case(%s)" % ", ".join(parts)


EXPIRES_EVAL = (
    "eval claw_exp=case(match(%s, %s), strptime(expires . \" +0000\", \"%%Y-%%m-%%d %%z\") + 86400, "
    "match(%s, %s), strptime(substr(expires, 1, 19) . \" +0000\", \"%%Y-%%m-%%dT%%H:%%M:%%S %%z\"))"
    % (_v("expires"), _q(al.DAY_RE), _v("expires"), _q(al.INSTANT_RE)))

# Empty KV store values become null, so `format` leaves the field out (any value).
_NULL_EMPTY = "foreach %s [eval <<FIELD>>=if(<<FIELD>>==\"\", null(), <<FIELD>>)]" % " ".join(al.ENTITY_FIELDS)

ALLOWLIST_ROWS = (
    "addinfo"
    " | eval claw_end=if(isnum(info_max_time), info_max_time, now())"
    " | " + EXPIRES_EVAL +
    " | where " + valid_expression() +
    " AND isnotnull(claw_exp) AND claw_exp > claw_end"
    ' AND (detection_id="*" OR match("$detection_id$", "(?i)^" . replace(detection_id, "[*]", ".*") . "$"))'
    ' | eval detection_id="$detection_id$"'
    " | " + _NULL_EMPTY +
    " | fields detection_id " + " ".join(al.ENTITY_FIELDS) +
    " | append [| makeresults | eval claw_allowlist_none=1]"
    " | fields - _time | format"
)

INVALID_ROWS = (
    "inputlookup claw_allowlist"
    " | " + EXPIRES_EVAL +
    " | eval claw_problem=coalesce(" + problem_expression() +
    ', if(claw_exp <= now(), "expired (ignored)", null()))'
    " | where isnotnull(claw_problem)"
    " | table _key claw_problem " + " ".join(al.FIELDS)
)


def macro_stanzas():
    return [
        "# The allowlist rows in force for one detection, as a search filter\n"
        "# (`search NOT [| inputlookup claw_allowlist | `claw_allowlist_rows(<id>)`]`).\n"
        "# Rules (bin/claw_ta/allowlist.py): * detection_id = every detection; a row must\n"
        "# name an entity field; digests exact; an empty field = any value; * wildcards\n"
        "# elsewhere; rows with a missing, unparseable or past expires are ignored.\n"
        "[claw_allowlist_rows(1)]\nargs = detection_id\ndefinition = %s\niseval = 0\n" % ALLOWLIST_ROWS,
        "# Allowlist rows that are ignored, with the reason (invalid, or expired):\n"
        "# | `claw_allowlist_invalid`\n"
        "[claw_allowlist_invalid]\ndefinition = %s\niseval = 0\n" % INVALID_ROWS,
    ]

