"""The review records shared by the review endpoint and the alert action.

Both ``claw_ta.review`` (which decides) and ``claw_ta.feedback`` (which raises
proposals and must never overwrite a decision) use these names and shapes;
neither imports the other for them.

- Collections (KV store, collections.conf): ``claw_policy_proposals`` (one
  record per proposal, written by the alert action), ``claw_policy_decisions``
  (the decision in force per proposal, written only by the endpoint),
  ``claw_policy_audit`` (append-only: every decision and revocation, inserted
  with a unique ``_key``; the insert is the cluster-wide commit point),
  ``claw_allowlist`` (the rows decisions write) and ``claw_policy_delivery``
  (push mode: which proposals were delivered to which engine, for every
  search head cluster member).
- ``fingerprint(proposal)``: the hash of what a reviewer is shown and decides
  on (detection, entity, proposed change); a decision carries it, and a
  proposal whose fingerprint changed since is decided again.
- ``with_review(record, decision)``: a proposal record carrying the review
  fields of the decision in force (or, for a revoked decision, none).
"""
import hashlib
import json

PROPOSALS = "claw_policy_proposals"
DECISIONS = "claw_policy_decisions"
AUDIT = "claw_policy_audit"
ALLOWLIST = "claw_allowlist"
DELIVERY = "claw_policy_delivery"

STATUS = {"approve": "approved", "reject": "rejected", "allowlist": "allowlisted"}
PENDING = "pending"
# Review fields of a proposal record, set only from a decision record.
REVIEW_FIELDS = ("status", "reviewed_by", "reviewed_at", "review_note", "allowlist_expires")
REVOKED = "revoked"  # the state of a decision record whose decision was revoked


def fingerprint(proposal):
    """SHA-256 (hex) of the canonical JSON of the detection id, the entity and the change."""
    shown = {"detection_id": proposal["detection"]["id"], "entity": proposal["entity"],
             "change": proposal["change"]}
    canonical = json.dumps(shown, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def in_force(decision):
    """True when ``decision`` (a claw_policy_decisions record or None) holds a decision."""
    return bool(decision) and decision.get("state") != REVOKED


def with_review(record, decision):
    """A proposal record carrying the decision's review fields (the decision wins).

    A revoked decision puts the proposal back to ``pending`` with no review fields.
    """
    merged = dict(record)
    if not in_force(decision):
        merged.update({name: "" for name in REVIEW_FIELDS})
        merged["status"] = PENDING
        return merged
    for name in REVIEW_FIELDS:
        merged[name] = decision.get(name, "")
    return merged
