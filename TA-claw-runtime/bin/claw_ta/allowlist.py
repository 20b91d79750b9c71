"""Allowlist rows: the schema, what makes a row valid, and when a valid row is in force.

The allowlist is the KV store collection ``claw_allowlist`` (one record per
decision; a scenario's ``lookups/claw_allowlist.csv`` stands in for it in the
replay). Its fields (:data:`FIELDS`) are a contract with the review endpoint.

A row suppresses results of the detections its ``detection_id`` names (``*``
or a pattern with ``*``) only while it is **valid and in force**:

- it names at least one entity field (:data:`ENTITY_FIELDS`) besides
  ``detection_id``: a row that names none would switch a detection off;
- a digest field (``subject_digest``, ``library_digest``, ``image_digest``) is
  an exact ``sha256:``/``sha512:`` digest, never a pattern, so a row pinned to
  a library digest does not suppress another file at the same path;
- any other entity field (path, host, namespace, image reference) may use
  ``*`` but must hold a letter or digit besides it (``*`` alone or ``/*`` is
  not a scope), and never a double quote or backslash (they would end the
  quoted term of the generated search filter);
- ``expires`` is ``YYYY-MM-DD`` (in force to the end of that UTC day) or
  ISO 8601 UTC (``YYYY-MM-DDTHH:MM:SSZ`` or ``+00:00``), and is after the end
  of the search window. A missing or unparseable expiry never keeps a row
  forever: the row is ignored and reported.

The generated SPL (macro ``claw_allowlist_rows(1)``, written from
``claw_ta_tools.detections.allowlist_spl``) applies the same rules; the
``claw_allowlist_invalid`` macro lists the rows it ignores, with the reason.
"""
import calendar
import re

FIELDS = ("detection_id", "subject_digest", "library_path", "library_digest", "host", "namespace",
          "image_ref", "image_digest", "expires", "reason", "created_by", "created_at", "proposal_key")
ENTITY_FIELDS = ("subject_digest", "library_path", "library_digest", "host", "namespace",
                 "image_ref", "image_digest")
DIGEST_FIELDS = ("subject_digest", "library_digest", "image_digest")
PATTERN_FIELDS = tuple(f for f in ENTITY_FIELDS if f not in DIGEST_FIELDS)

# Regular expressions shared with the generated SPL (PCRE and Python agree on them).
DIGEST_RE = r"^(sha256:[0-9A-Fa-f]{64}|sha512:[0-9A-Fa-f]{128})$"
SCOPE_RE = r"[A-Za-z0-9]"
UNQUOTABLE_RE = r"[\x22\x5c]"
DETECTION_RE = r"^[A-Za-z0-9_*]+$"
DAY_RE = r"^\d{4}-\d{2}-\d{2}$"
INSTANT_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|\+00:00)$"


def _value(row, field):
    value = row.get(field)
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)  # as the search sees it: not stripped


def entity_fields_for(detection_id):
    """The allowlistable fields of one detection: its entity and pinned fields that are allowlist columns.

    ``()`` for a detection without any (a silent sensor, the tier detection's
    ``tier``, the risk incident): such findings are closed, not allowlisted.
    Raises KeyError for an unknown detection.
    """
    from claw_ta.detections import definitions as defs
    if detection_id == defs.RISK_INCIDENT["id"]:
        return ()
    detection = defs.BY_ID[detection_id]
    return tuple(f for f in detection.throttle_fields if f in ENTITY_FIELDS)


def known_detection_ids():
    from claw_ta.detections import definitions as defs
    return tuple(d.id for d in defs.DETECTIONS)


def expires_at(text):
    """Epoch seconds at which an ``expires`` value ends; None when it is not a valid date/instant."""
    text = text or ""
    if re.match(DAY_RE, text):
        parts, extra = (text, "00", "00", "00"), 86400
    elif re.match(INSTANT_RE, text):
        parts, extra = (text[:10], text[11:13], text[14:16], text[17:19]), 0
    else:
        return None
    year, month, day = (int(p) for p in parts[0].split("-"))
    hour, minute, second = int(parts[1]), int(parts[2]), int(parts[3])
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]
            and hour < 24 and minute < 60 and second < 60):
        return None
    return calendar.timegm((year, month, day, hour, minute, second)) + extra


def validate_row(row, now=None, max_days=None, wildcards=True):
    """Problems of one allowlist row, as messages ([] for a valid row).

    ``now`` (epoch seconds): also report a row that is no longer in force.
    ``max_days``: also report an expiry more than that many days after ``now``.
    ``wildcards=False``: ``*`` is refused in every field (for rows written from
    a proposal, whose values come from the workload's own events).
    """
    errors = []
    detection_id = _value(row, "detection_id")
    if not detection_id:
        errors.append("detection_id is empty (use * for every detection)")
    elif not re.match(DETECTION_RE, detection_id):
        errors.append("detection_id %r is not a detection id or a * pattern" % detection_id)
    elif "*" not in detection_id and detection_id not in known_detection_ids():
        errors.append("detection_id %r is not a detection of this add-on" % detection_id)
    elif "*" in detection_id and not wildcards:
        errors.append("detection_id %r: wildcards are not allowed here" % detection_id)
    named = [f for f in ENTITY_FIELDS if _value(row, f)]
    if not named:
        errors.append("the row names no entity field (%s): it would switch the detection off"
                      % ", ".join(ENTITY_FIELDS))
    for field in named:
        value = _value(row, field)
        if field in DIGEST_FIELDS:
            if not re.match(DIGEST_RE, value):
                errors.append("%s %r is not a sha256:/sha512: digest (no wildcards)" % (field, value))
            continue
        if re.search(UNQUOTABLE_RE, value):
            errors.append("%s %r contains a double quote or backslash" % (field, value))
        elif not re.search(SCOPE_RE, value):
            errors.append("%s %r has no letter or digit besides wildcards: it is not a scope" % (field, value))
        elif "*" in value and not wildcards:
            errors.append("%s %r: wildcards are not allowed here" % (field, value))
    expires = _value(row, "expires")
    end = expires_at(expires)
    if not expires:
        errors.append("expires is missing (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)")
    elif end is None:
        errors.append("expires %r is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)" % expires)
    elif now is not None:
        if end <= now:
            errors.append("expires %s is over" % expires)
        elif max_days is not None and end - now > max_days * 86400 + 86400:
            errors.append("expires %s is more than %d days ahead" % (expires, max_days))
    return errors


def is_active(row, now):
    """True when the row is valid and still in force at ``now`` (epoch seconds)."""
    return not validate_row(row, now=now)
