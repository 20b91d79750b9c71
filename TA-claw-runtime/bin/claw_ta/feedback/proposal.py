"""Alert results -> Claw policy proposals (schema ``claw.policy_proposal/v1``).

A proposal names the detection, the entity, the proposed change, the evidence
and an idempotency key. The key is the SHA-256 of the canonical JSON of the
detection id and the change (action, target, parameters): the same finding
raised again by a later run of the search maps to the same key, so it is
reviewed once and applied once. The evidence (sid, counts, first/last seen)
is deliberately not part of the key, since it changes with every run.

Result values are carried verbatim (quotes, newlines, non-ASCII, formula
prefixes such as ``=cmd|``, megabyte strings): proposals are JSON, never CSV,
and nothing here evaluates or interprets a value.
"""
import csv
import datetime
import gzip
import hashlib
import io
import json
import sys

from claw_ta.allowlist import ENTITY_FIELDS as ENTITY_COLUMNS
from claw_ta.feedback import SCHEMA_ID

# Entity fields, in the order they appear in a proposal; aliases are tried in order.
ENTITY_FIELDS = (
    ("subject_digest", ("subject_digest",)),
    ("subject_name", ("subject_name",)),
    ("image_digest", ("image_digest",)),
    ("image_ref", ("image_ref",)),
    ("library_path", ("library_path",)),
    ("library_digest", ("library_digest",)),
    ("namespace", ("namespace", "k8s_namespace", "kubernetes.namespace_name")),
    ("expected_digest", ("expected_digest",)),
    ("observed_digest", ("observed_digest",)),
    ("host", ("host",)),
    ("agent_id", ("agent_id",)),
    ("tier", ("tier",)),
)
ENTITY_NAMES = tuple(name for name, _ in ENTITY_FIELDS)

CHANGE_ACTIONS = ("deny_library", "require_slsa", "quarantine_image", "allowlist", "investigate")

# Default change per detection (public detection ids of the add-on).
DETECTION_CHANGES = {
    "claw_unlisted_library_load": "deny_library",
    "claw_library_from_writable_path": "deny_library",
    "claw_low_slsa_in_prod": "require_slsa",
    "claw_nonprod_image_in_prod": "quarantine_image",
    "claw_manifest_digest_mismatch": "quarantine_image",
    "claw_denied_then_allowed": "quarantine_image",
    "claw_attestation_spike_outside_tier": "investigate",
    "claw_sensor_silent": "investigate",
    "claw_workload_risk": "investigate",
}

# The allowlist fields an allowlist proposal fills in (claw_ta.allowlist; the
# reviewer picks the scope and sets expires and reason when approving).
ALLOWLIST_COLUMNS = ("detection_id",) + ENTITY_COLUMNS

FIRST_SEEN_FIELDS = ("first_seen", "firstTime", "earliest", "_time")
LAST_SEEN_FIELDS = ("last_seen", "lastTime", "latest", "_time")
MAX_HOSTS = 100


class ProposalError(ValueError):
    """A result row that cannot become a proposal (the message says why)."""


def read_results(path):
    """Rows (dicts) of a splunkd results file: gzip CSV, ``__mv_`` columns dropped.

    Values are returned verbatim; the CSV field size limit is raised so that
    megabyte-long values are read, not rejected.
    """
    csv.field_size_limit(min(sys.maxsize, 2 ** 31 - 1))
    with gzip.open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        reader = csv.DictReader(text)
        for row in reader:
            yield {k: v for k, v in row.items()
                   if k is not None and not k.startswith("__mv_") and v not in (None, "")}


def _first(row, names):
    for name in names:
        value = row.get(name)
        if value not in (None, ""):
            return value
    return None


def iso_time(value):
    """Epoch seconds -> RFC 3339 UTC; any other non-empty string is kept as is."""
    if value in (None, ""):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return str(value)
    try:
        stamp = datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return str(value)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def entity_of(row):
    entity = {}
    for name, aliases in ENTITY_FIELDS:
        value = _first(row, aliases)
        if value is not None:
            entity[name] = value
    return entity


def _pick(entity, names):
    return {name: entity[name] for name in names if name in entity}


def change_for(action, entity, detection_id, min_slsa_level=2):
    """The proposed change (action, target, params) for one entity.

    Falls back to ``investigate`` (a human looks at it, nothing is enforced)
    when the entity lacks what the requested action needs.
    """
    if action == "deny_library":
        target = _pick(entity, ("subject_digest", "library_digest", "library_path"))
        if "library_digest" in target or "library_path" in target:
            return {"action": action, "target": target, "params": {}}
    elif action == "require_slsa":
        target = _pick(entity, ("namespace",)) or _pick(entity, ("subject_digest",))
        if target:
            return {"action": action, "target": target, "params": {"min_slsa_level": int(min_slsa_level)}}
    elif action == "quarantine_image":
        digest = entity.get("observed_digest") or entity.get("image_digest")
        if digest:
            return {"action": action, "target": {"image_digest": digest}, "params": {}}
        if "image_ref" in entity:
            return {"action": action, "target": _pick(entity, ("image_ref",)), "params": {}}
    elif action == "allowlist":
        target = {"detection_id": detection_id}
        target.update(_pick(entity, ALLOWLIST_COLUMNS[1:]))
        if len(target) > 1:
            return {"action": action, "target": target, "params": {}}
    elif action != "investigate":
        raise ProposalError("unknown change action %r (expected one of %s)" % (action, ", ".join(CHANGE_ACTIONS)))
    target = dict(entity)
    target.pop("host", None)
    target.pop("agent_id", None)
    if not target:
        target = _pick(entity, ("host", "agent_id"))
    return {"action": "investigate", "target": target, "params": {}}


def default_change(detection_id, entity):
    if detection_id in DETECTION_CHANGES:
        return DETECTION_CHANGES[detection_id]
    if "library_path" in entity or "library_digest" in entity:
        return "deny_library"
    if "image_digest" in entity or "observed_digest" in entity:
        return "quarantine_image"
    return "investigate"


def idempotency_key(detection_id, change):
    canonical = json.dumps({"v": 1, "detection_id": detection_id, "change": change},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _count(row):
    try:
        value = int(float(row.get("count", "1")))
    except ValueError:
        return 1
    return value if value > 0 else 1


def build_proposals(rows, context, change="auto", detection_id="", min_slsa_level=2, now=None):
    """Group result rows into proposals, one per idempotency key.

    ``context``: ``sid``, ``search_name``, ``app``, ``results_link``,
    ``server_host``, ``version``. Returns ``(proposals, problems)`` where
    problems are ``(row_number, message)`` for rows that gave no proposal;
    a bad row never stops the others.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    by_key = {}
    problems = []
    for number, row in enumerate(rows, 1):
        entity = entity_of(row)
        if not entity:
            problems.append((number, "no entity field (%s)" % ", ".join(ENTITY_NAMES[:6])))
            continue
        det = row.get("detection_id") or detection_id or context.get("search_name") or "unknown"
        action = change if change not in (None, "", "auto") else default_change(det, entity)
        try:
            proposed = change_for(action, entity, det, min_slsa_level)
        except ProposalError as err:
            problems.append((number, str(err)))
            continue
        key = idempotency_key(det, proposed)
        first = iso_time(_first(row, FIRST_SEEN_FIELDS))
        last = iso_time(_first(row, LAST_SEEN_FIELDS))
        found = by_key.get(key)
        if found is None:
            found = by_key[key] = {
                "schema": SCHEMA_ID,
                "idempotency_key": key,
                "created": now,
                "detection": {"id": det, "search_name": context.get("search_name", ""),
                              "severity": row.get("severity", "unknown"), "app": context.get("app", "")},
                "entity": entity,
                "change": proposed,
                "evidence": {"sid": context.get("sid", ""), "result_count": 0, "first_seen": first,
                             "last_seen": last, "hosts": [], "results_link": context.get("results_link", "")},
                "source": {"app": "TA-claw-runtime", "version": context.get("version", ""),
                           "server_host": context.get("server_host", "")},
            }
        evidence = found["evidence"]
        evidence["result_count"] += _count(row)
        if first and (evidence["first_seen"] is None or first < evidence["first_seen"]):
            evidence["first_seen"] = first
        if last and (evidence["last_seen"] is None or last > evidence["last_seen"]):
            evidence["last_seen"] = last
        host = entity.get("host")
        if host and host not in evidence["hosts"] and len(evidence["hosts"]) < MAX_HOSTS:
            evidence["hosts"].append(host)
    return list(by_key.values()), problems


def _need(value, kind, name):
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError("proposal %s: missing or of the wrong type" % name)
    return value


def check_proposal(item):
    """Raise ValueError unless ``item`` is a well-formed proposal whose key is its own.

    Checks what delivery relies on (a file in the outbox is read back with
    this); the full contract is the JSON schema.
    """
    _need(item, dict, "(the proposal)")
    if item.get("schema") != SCHEMA_ID:
        raise ValueError("proposal schema: expected %s" % SCHEMA_ID)
    detection = _need(item.get("detection"), dict, "detection")
    for name in ("id", "search_name", "severity"):
        _need(detection.get(name), str, "detection." + name)
    entity = _need(item.get("entity"), dict, "entity")
    if not entity or not all(isinstance(v, str) for v in entity.values()):
        raise ValueError("proposal entity: expected string fields")
    change = _need(item.get("change"), dict, "change")
    if change.get("action") not in CHANGE_ACTIONS:
        raise ValueError("proposal change.action: expected one of %s" % ", ".join(CHANGE_ACTIONS))
    _need(change.get("target"), dict, "change.target")
    _need(change.get("params"), dict, "change.params")
    evidence = _need(item.get("evidence"), dict, "evidence")
    _need(evidence.get("result_count"), int, "evidence.result_count")
    _need(evidence.get("sid"), str, "evidence.sid")
    for name in ("first_seen", "last_seen"):
        if evidence.get(name) is not None:
            _need(evidence[name], str, "evidence." + name)
    key = _need(item.get("idempotency_key"), str, "idempotency_key")
    try:
        expected = idempotency_key(detection["id"], change)
    except (TypeError, ValueError):
        raise ValueError("proposal change: not serialisable")
    if key != expected:
        raise ValueError("proposal idempotency_key: not the hash of its detection and change")


def dumps(proposal):
    """The wire form: compact UTF-8 JSON (newlines and quotes escaped by JSON)."""
    return json.dumps(proposal, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
