"""The rules of a review decision, without I/O.

A request names a proposal (``key``), a ``decision`` (``approve``, ``reject``,
``allowlist``), a ``reason`` and ``seen``: the proposal's fingerprint
(``claw_ta.records.fingerprint``) as the reviewer read it, so that a decision
binds the values the reviewer saw. A decision that writes an allowlist row
(``allowlist``, or ``approve`` of a proposal whose change is ``allowlist``)
also needs ``expires`` (a date after today, at most ``MAX_DAYS`` ahead) and
takes ``scope``: the entity fields of the proposal the row is pinned to (each
an allowlistable field of the proposal's detection, see
``claw_ta.allowlist.entity_fields_for``); without one, the tightest scope the
proposal offers (its digests: subject and library) is used. The row's values
are copied from the proposal, never taken from the request, and must pass
``claw_ta.allowlist.validate_row`` with wildcards refused (they come from the
workload's own events). A proposal whose detection has no allowlistable
entity is closed with ``reject``, never allowlisted. ``revoke`` (capability
``claw_admin``) names the ``revision`` of the decision it revokes.
"""
import json
import re
import time

from claw_ta import allowlist
from claw_ta.records import STATUS
from claw_ta.review import MAX_DAYS, REASON_MAX

KEY_RE = re.compile(r"^[0-9a-f]{64}$")
REQUEST_FIELDS = ("key", "decision", "reason", "expires", "scope", "seen", "revision")
FINGERPRINT_RE = re.compile(r"^[0-9a-f]{64}$")
REVOKE = "revoke"


class ReviewError(Exception):
    """A refused request: HTTP status and a message naming the field."""

    def __init__(self, status, message):
        Exception.__init__(self, message)
        self.status = status


def iso(now):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))


def parse_body(text):
    """The JSON object of a POST; ReviewError(400) naming the problem."""
    try:
        body = json.loads(text or "")
    except ValueError:
        raise ReviewError(400, "body: expected a JSON object")
    if not isinstance(body, dict):
        raise ReviewError(400, "body: expected a JSON object")
    unknown = sorted(set(body) - set(REQUEST_FIELDS))
    if unknown:
        raise ReviewError(400, "%s: unknown field (expected %s)" % (unknown[0], ", ".join(REQUEST_FIELDS)))
    for name in ("key", "decision", "reason", "expires", "seen"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise ReviewError(400, "%s: expected a string" % name)
    key = (body.get("key") or "").strip()
    if not KEY_RE.match(key):
        raise ReviewError(400, "key: expected the proposal's 64-character idempotency key")
    decision = (body.get("decision") or "").strip()
    if decision not in STATUS and decision != REVOKE:
        raise ReviewError(400, "decision: expected approve, reject, allowlist or revoke")
    reason = (body.get("reason") or "").strip()
    if not reason:
        raise ReviewError(400, "reason: required (why this decision)")
    if len(reason) > REASON_MAX or re.search(r"[\x00-\x08\x0b-\x1f\x7f]", reason):
        raise ReviewError(400, "reason: at most %d characters, no control characters" % REASON_MAX)
    scope = body.get("scope")
    if scope is not None and (not isinstance(scope, list) or not all(isinstance(f, str) for f in scope)):
        raise ReviewError(400, "scope: expected a list of entity field names")
    request = {"key": key, "decision": decision, "reason": reason,
               "expires": (body.get("expires") or "").strip(), "scope": scope}
    if decision == REVOKE:
        revision = body.get("revision")
        if not isinstance(revision, int) or isinstance(revision, bool) or revision < 0:
            raise ReviewError(400, "revision: required: the revision of the decision to revoke (GET shows it)")
        for name in ("expires", "scope", "seen"):
            if body.get(name) is not None:
                raise ReviewError(400, "%s: a revocation takes only key, reason and revision" % name)
        request["revision"] = revision
        return request
    if body.get("revision") is not None:
        raise ReviewError(400, "revision: only a revocation takes a revision")
    seen = (body.get("seen") or "").strip()
    if not FINGERPRINT_RE.match(seen):
        raise ReviewError(400, "seen: required: the proposal's fingerprint as GET showed it (what you decide on)")
    request["seen"] = seen
    return request


def proposal_of(record):
    try:
        proposal = json.loads(record.get("proposal") or "")
        proposal["entity"].items()
        proposal["change"]["action"]
        return proposal
    except (ValueError, TypeError, KeyError, AttributeError):
        raise ReviewError(422, "proposal record %s is damaged (no readable proposal)" % record.get("_key"))


def writes_row(decision, proposal):
    return decision == "allowlist" or (decision == "approve" and proposal["change"]["action"] == "allowlist")


def with_default_scope(request, proposal):
    """``request`` with the tightest scope filled in when a row-writing decision names none."""
    if request.get("scope") is not None or not writes_row(request["decision"], proposal):
        return request
    try:
        allowed = allowlist.entity_fields_for(proposal["detection"]["id"])
    except KeyError:
        return request
    return dict(request, scope=default_scope(allowed, proposal["entity"]) or None)


def default_scope(allowed, entity):
    """The tightest scope a proposal offers: its digests (the subject and the file itself).

    A load without a library digest is pinned to the subject and the path instead;
    ``[]`` when the proposal has no digest to pin (the reviewer must then name the scope).
    """
    scope = [f for f in allowed if f in allowlist.DIGEST_FIELDS and entity.get(f)]
    if scope and "library_path" in allowed and entity.get("library_path") and not entity.get("library_digest"):
        scope.append("library_path")
    return scope


def allowlist_row(request, proposal, user, now):
    """The allowlist row a row-writing decision adds; ReviewError(400) when it may not."""
    detection_id = proposal["detection"]["id"]
    try:
        allowed = allowlist.entity_fields_for(detection_id)
    except KeyError:
        raise ReviewError(400, "detection %r is not a detection of this add-on: it cannot be allowlisted"
                          % detection_id)
    if not allowed:
        raise ReviewError(400, "detection %s has no allowlistable entity: close the finding with reject, "
                               "it cannot be allowlisted" % detection_id)
    entity = proposal["entity"]
    available = [f for f in allowed if entity.get(f)]
    if request["scope"] is None:
        request = dict(request, scope=default_scope(allowed, entity))
    if not request["scope"]:
        raise ReviewError(400, "scope: required: name at least one of %s" % (", ".join(available) or "(none)"))
    for name in request["scope"]:
        if name not in allowed:
            raise ReviewError(400, "scope: %r is not an allowlistable field of %s (expected %s)"
                              % (name, detection_id, ", ".join(allowed)))
        if not entity.get(name):
            raise ReviewError(400, "scope: the proposal has no %s" % name)
    if not request["expires"]:
        raise ReviewError(400, "expires: required (YYYY-MM-DD, at most %d days ahead)" % MAX_DAYS)
    end = allowlist.expires_at(request["expires"]) if re.match(allowlist.DAY_RE, request["expires"]) else None
    if end is None:
        raise ReviewError(400, "expires: %r is not a date YYYY-MM-DD" % request["expires"])
    today = now - now % 86400
    if end - 86400 <= today:
        raise ReviewError(400, "expires: %s is not a date after today" % request["expires"])
    if end - 86400 > today + MAX_DAYS * 86400:
        raise ReviewError(400, "expires: %s is more than %d days ahead" % (request["expires"], MAX_DAYS))
    row = {name: "" for name in allowlist.FIELDS}
    row.update({name: entity[name] for name in request["scope"]})
    row.update({"detection_id": detection_id, "expires": request["expires"], "reason": request["reason"],
                "created_by": user, "created_at": iso(now), "proposal_key": request["key"]})
    problems = allowlist.validate_row(row, now=now, max_days=MAX_DAYS, wildcards=False)
    if problems:
        raise ReviewError(400, "scope: the allowlist row would be invalid: %s" % "; ".join(problems))
    return row


def decision_record(request, proposal, user, now, revision=0, shown=""):
    """The decision in force (collection claw_policy_decisions, _key = proposal key).

    ``revision``: 0 for the first decision on the proposal, one more after each
    revocation; ``shown``: the proposal's fingerprint the decision was made on.
    """
    row = allowlist_row(request, proposal, user, now) if writes_row(request["decision"], proposal) else None
    if row is None and (request["expires"] or request["scope"]):
        raise ReviewError(400, "%s: only an allowlist decision takes expires and scope"
                          % ("expires" if request["expires"] else "scope"))
    return {"_key": request["key"], "decision": request["decision"], "status": STATUS[request["decision"]],
            "reviewed_by": user, "reviewed_at": iso(now), "review_note": request["reason"],
            "allowlist_expires": row["expires"] if row else "",
            "allowlist_row": json.dumps(row, sort_keys=True) if row else "", "state": "recorded",
            "revision": revision, "fingerprint": shown, "request_id": "", "audit_key": "",
            "revoked_by": "", "revoked_at": "", "revoke_note": "", "second_by": "", "second_at": ""}


def same_decision(recorded, request):
    """True when ``request`` repeats the recorded decision (a retry, which completes it)."""
    if recorded.get("decision") != request["decision"]:
        return False
    row = json.loads(recorded["allowlist_row"]) if recorded.get("allowlist_row") else None
    if row is None:
        return True
    scope = sorted(f for f in allowlist.ENTITY_FIELDS if row.get(f))
    return row.get("expires") == request["expires"] and sorted(request["scope"] or []) == scope
