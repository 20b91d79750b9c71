"""The KV store writes of a decision and of a revocation, in order, with one commit point each.

The KV store has no transaction across collections, and search head cluster
members share it but nothing else (no file lock reaches another member). What
it does offer is ``_key`` uniqueness: an insert of a key that exists fails
("Duplicate keys are not allowed", https://docs.splunk.com/Documentation/Splunk/6.2.3/RESTREF/RESTkvstore;
insert = POST to ``storage/collections/data/<collection>``,
http://dev.splunk.com/view/webframework-developapps/SP-CAAAEZG). So every
decision and every revocation is first *inserted* into the append-only audit
collection ``claw_policy_audit`` under a key that names the proposal, the
revision and the act:

    <proposal key>-<revision>-decision     <proposal key>-<revision>-revoke

Exactly one insert of a key wins on the whole cluster: that is the commit
point. The loser reads the winner's record back: the same decision (a retry,
or two reviewers agreeing) completes it; another one gets 409. An insert whose
answer was lost is recognised by the ``request_id`` it carries. After the
commit point the writes are idempotent and a repeat of the same request
completes them:

decision: 2. the decision in force (``claw_policy_decisions``, ``_key`` =
proposal key, ``state = recorded``); 3. the allowlist row (``_key`` = proposal
key); 4. the proposal's review fields; 5. ``state = complete``.

second reviewer (site setting ``claw_review.conf [review] second_reviewer_for``):
an ``approve`` of a listed change is recorded with status and state
``awaiting_second`` (not in force: the engine applies only ``approved``); an
``approve`` by another reviewer of the same fingerprint inserts
``<proposal key>-<revision>-second`` (its commit point) and completes it.

revocation (``claw_admin``): 2. the allowlist row is deleted; 3. the decision
record gets ``state = revoked`` (it keeps who decided, and adds who revoked);
4. the proposal's review fields go back to ``pending``. The next decision on
the proposal is revision + 1.
"""
import json
import uuid

from claw_ta.feedback.transport import DeliveryError
from claw_ta.records import REVOKED, fingerprint, in_force, with_review
from claw_ta.review.decide import (ReviewError, decision_record, iso, proposal_of, same_decision,
                                   with_default_scope)


def audit_key(proposal_key, revision, act):
    return "%s-%d-%s" % (proposal_key, revision, act)


def next_revision(current):
    """The revision the next decision takes: 0, or one past a revoked decision's."""
    if not current:
        return 0
    try:
        return int(current.get("revision", 0)) + 1
    except (TypeError, ValueError):
        return 1


def commit(audits, record):
    """Insert ``record`` (its ``_key`` unique on the cluster); the record that holds the key after it."""
    try:
        audits.insert(record)
        return record
    except DeliveryError as err:
        winner = audits.get(record["_key"])
        if winner is None:  # the insert failed and nothing holds the key: a KV store failure
            raise err
        return winner


def _still_in_force(decisions, decision):
    """False when the decision was revoked (or replaced) since this request read it."""
    latest = decisions.get(decision["_key"])
    return bool(latest) and in_force(latest) and next_revision(latest) == next_revision(decision)


def _complete(collections, decision, now_iso):
    proposals, decisions, _, rows = collections
    row = json.loads(decision["allowlist_row"]) if decision.get("allowlist_row") else None
    if row is not None:
        rows.save([dict(row, _key=decision["_key"])])
        if not _still_in_force(decisions, decision):  # a revocation ran meanwhile: take the row back
            rows.delete(decision["_key"])
            raise ReviewError(409, "revoked while this request completed it: read it again (GET)")
    current = proposals.get(decision["_key"])
    if current is not None:  # re-read: keep the alert action's latest evidence
        proposals.save([dict(with_review(current, decision), updated=now_iso)])
    if not _still_in_force(decisions, decision):  # put back the review fields of what is in force now
        if current is not None:
            proposals.save([dict(with_review(current, decisions.get(decision["_key"])), updated=now_iso)])
        raise ReviewError(409, "revoked while this request completed it: read it again (GET)")
    decision = dict(decision, state="complete")
    decisions.save([decision])
    return decision


AWAITING = "awaiting_second"


def _second(collections, current, proposal, body, user, now):
    """A second reviewer's approval of an approval awaiting one; (decision record, repeated)."""
    proposals, decisions, audits, _ = collections
    if body["decision"] != "approve":
        raise ReviewError(409, "awaiting a second approval of %s's approval: approve it as another reviewer, or "
                               "a claw_admin revokes it" % current.get("reviewed_by"))
    if user == current.get("reviewed_by"):
        return current, True  # the first reviewer again: a repeat, still awaiting another reviewer
    if body["seen"] != current.get("fingerprint") or body["seen"] != fingerprint(proposal):
        raise ReviewError(409, "seen: the proposal is not the one %s approved (or changed since it was read): "
                               "read it again (GET)" % current.get("reviewed_by"))
    revision = next_revision(current) - 1
    entry = {"_key": audit_key(body["key"], revision, "second"), "proposal_key": body["key"], "act": "second",
             "revision": revision, "decision": "approve", "second_by": user, "second_at": iso(now),
             "review_note": body["reason"], "request_id": uuid.uuid4().hex}
    winner = commit(audits, entry)  # 1. the commit point of the second approval
    decision = dict(current, status="approved", state="recorded", second_by=winner.get("second_by", user),
                    second_at=winner.get("second_at", entry["second_at"]))
    decisions.save([decision])
    return _complete(collections, decision, iso(now)), winner.get("request_id") != entry["request_id"]


def decide(collections, body, user, now, second_for=frozenset()):
    """Record ``body``'s decision on its proposal; (decision record, repeated).

    ``second_for``: the change actions whose approval needs a second reviewer.
    """
    proposals, decisions, audits, _ = collections
    record = proposals.get(body["key"])
    if record is None:
        raise ReviewError(404, "key: no proposal %s" % body["key"])
    proposal = proposal_of(record)
    body = with_default_scope(body, proposal)
    current = decisions.get(body["key"])
    if in_force(current) and current.get("state") == AWAITING:
        return _second(collections, current, proposal, body, user, now)
    if in_force(current):
        if not same_decision(current, body):
            raise ReviewError(409, "already decided: %s by %s at %s (revision %s; a claw_admin can revoke it)" % (
                current.get("decision"), current.get("reviewed_by"), current.get("reviewed_at"),
                current.get("revision", 0)))
        if current.get("state") == "complete":  # a repeat writes nothing (a row removed since stays removed)
            return current, True
        return _complete(collections, current, iso(now)), True
    shown = fingerprint(proposal)
    if body["seen"] != shown:
        raise ReviewError(409, "seen: the proposal changed since it was read (its fingerprint is now %s): "
                               "read it again (GET) and decide on what it now shows" % shown)
    revision = next_revision(current)
    decision = decision_record(body, proposal, user, now, revision, shown)
    decision.update(request_id=uuid.uuid4().hex, audit_key=audit_key(body["key"], revision, "decision"))
    if body["decision"] == "approve" and proposal["change"]["action"] in second_for:
        decision["status"] = AWAITING  # not in force until another reviewer approves
    entry = dict({k: v for k, v in decision.items() if k != "state"}, _key=decision["audit_key"],
                 proposal_key=body["key"], act="decision")
    winner = commit(audits, entry)  # 1. the commit point
    repeated = False
    if winner.get("request_id") != entry["request_id"]:
        won = dict(winner, _key=body["key"])
        if winner.get("act") != "decision" or not same_decision(won, body):
            raise ReviewError(409, "already decided: %s by %s at %s" % (
                winner.get("decision"), winner.get("reviewed_by"), winner.get("reviewed_at")))
        decision, repeated = {k: v for k, v in won.items() if k not in ("proposal_key", "act")}, True
    if decision["status"] == AWAITING:
        decision = dict(decision, state=AWAITING)
        decisions.save([decision])  # 2.
        current_record = proposals.get(body["key"])
        if current_record is not None:
            proposals.save([dict(with_review(current_record, decision), updated=iso(now))])
        return decision, repeated
    decision = dict(decision, state="recorded")
    decisions.save([decision])  # 2.
    return _complete(collections, decision, iso(now)), repeated


def revoke(collections, body, user, now):
    """Revoke the decision in force (revision ``body["revision"]``); (decision record, repeated)."""
    proposals, decisions, audits, rows = collections
    current = decisions.get(body["key"])
    if not current:
        raise ReviewError(404, "key: proposal %s has no decision to revoke" % body["key"])
    revision = next_revision(current) - 1
    if body["revision"] != revision:
        raise ReviewError(409, "revision: the decision in force is revision %d (%s by %s), not %d: read it "
                               "again (GET)" % (revision, current.get("decision"), current.get("reviewed_by"),
                                                body["revision"]))
    repeated = current.get("state") == REVOKED
    entry = {"_key": audit_key(body["key"], revision, "revoke"), "proposal_key": body["key"], "act": "revoke",
             "revision": revision, "decision": current.get("decision"), "revoked_by": user,
             "revoked_at": iso(now), "revoke_note": body["reason"], "request_id": uuid.uuid4().hex}
    winner = commit(audits, entry)  # 1. the commit point
    repeated = repeated or winner.get("request_id") != entry["request_id"]
    if current.get("allowlist_row"):
        rows.delete(body["key"])  # 2.
    revoked = dict(current, state=REVOKED, revoked_by=winner.get("revoked_by", user),
                   revoked_at=winner.get("revoked_at", entry["revoked_at"]),
                   revoke_note=winner.get("revoke_note", body["reason"]))
    decisions.save([revoked])  # 3.
    record = proposals.get(body["key"])
    if record is not None:
        proposals.save([dict(with_review(record, revoked), updated=iso(now))])  # 4.
    return revoked, repeated
