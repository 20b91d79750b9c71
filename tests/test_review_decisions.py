"""What a review decision binds, how it is undone, and how one decision wins on a cluster.

- scope: an allowlist row for an unlisted library can pin the file (``library_digest``),
  and a decision without a scope takes the tightest one (subject and library digests);
- binding: a decision names the fingerprint of the proposal it was made on (``seen``);
  a proposal the alert action changed since gets 409, and the row carries what the
  reviewer saw;
- revoke (``claw_admin``): the row goes, the proposal is pending again, the audit
  collection keeps both acts, and the next decision is a new revision; a row an admin
  deleted by hand (or one that expired) is reported, not shown as allowlisted;
- the cluster: two handler processes (two search head cluster members) deciding on
  one proposal at the same moment against one KV store stand-in: exactly one decision
  wins (the audit insert; the KV store refuses a duplicate ``_key``,
  https://docs.splunk.com/Documentation/Splunk/6.2.3/RESTREF/RESTkvstore: "Duplicate
  keys are not allowed"), the other gets 409.
"""
import json
import threading

import pytest

from claw_ta.feedback.splunkd import KVStore, Splunkd
from claw_ta.feedback.transport import RetryPolicy
from claw_ta.review import endpoint
from tests.support import feedback_review as fr
from tests.support import feedback_servers as fs
from tests.support.feedback_fixtures import pki  # noqa: F401 (fixture)
from tests.support.feedback_review import call, splunkd  # noqa: F401 (fixture)


def read(splunkd, key, token=fr.REVIEWER):
    status, answer = call(splunkd, method="GET", query={"key": key}, token=token)
    assert status == 200, answer
    return answer


def allow(splunkd, key, **over):
    body = {"key": key, "decision": "allowlist", "reason": "vendor hook, CHG-4411", "expires": fr.day(30),
            "seen": read(splunkd, key)["fingerprint"]}
    body.update(over)
    return body


def revoke(key, revision=0, reason="approved by mistake"):
    return {"key": key, "decision": "revoke", "reason": reason, "revision": revision}


# -- scope ---------------------------------------------------------------------

def test_the_default_scope_pins_subject_and_library_digest(splunkd):
    key = fr.seed(splunkd, fr.LIBRARY_ROW)
    status, answer = call(splunkd, body=allow(splunkd, key))
    assert status == 200, answer
    row = splunkd.collection("claw_allowlist")[key]
    assert (row["subject_digest"], row["library_digest"]) == (fr.SUBJECT, fr.LIBRARY)
    assert row["library_path"] == row["host"] == row["namespace"] == ""  # a swapped file at the path still alerts


def test_library_digest_is_an_allowed_scope_of_the_unlisted_rule(splunkd):
    key = fr.seed(splunkd, fr.LIBRARY_ROW)
    status, answer = call(splunkd, body=allow(splunkd, key, scope=["library_digest"]))
    assert status == 200, answer
    assert splunkd.collection("claw_allowlist")[key]["library_digest"] == fr.LIBRARY


def test_a_load_without_a_digest_defaults_to_the_subject_and_the_path(splunkd):
    key = fr.seed(splunkd, {k: v for k, v in fr.LIBRARY_ROW.items() if k != "library_digest"})
    assert read(splunkd, key)["scope_default"] == ["subject_digest", "library_path"]
    assert call(splunkd, body=allow(splunkd, key))[0] == 200
    row = splunkd.collection("claw_allowlist")[key]
    assert (row["subject_digest"], row["library_path"], row["library_digest"]) == (
        fr.SUBJECT, "/tmp/.x/libhook.so", "")


def test_the_24h_throttle_tells_a_second_swap_of_an_alerted_file_apart():
    """alert.suppress.fields (savedsearches.conf) and the replay's throttle include library_digest."""
    import os
    from claw_ta import conffile
    from claw_ta.detections import definitions as defs
    from claw_ta_tools.detections import engine
    from tests import paths
    searches = conffile.parse(os.path.join(paths.APP_DEFAULT, "savedsearches.conf"))
    stanza = searches[defs.BY_ID["claw_unlisted_library_load"].search_name]
    assert "library_digest" in stanza["alert.suppress.fields"].split(",")
    assert stanza["alert.suppress.period"] == "24h"
    assert "library_digest" not in stanza["action.notable.param.drilldown_search"]  # may be empty: no token
    base = {"subject_digest": fr.SUBJECT, "library_path": "/usr/lib/libssl.so.3", "host": "n1",
            "namespace": "payments", "count": 1, "firstTime": 1}
    swaps = [dict(base, library_digest="sha256:" + c * 64, firstTime=n) for n, c in enumerate("abc")]
    kept = engine.throttle(defs.BY_ID["claw_unlisted_library_load"], swaps + [dict(swaps[0], firstTime=9)])
    assert sorted(r["library_digest"] for r in kept) == sorted(r["library_digest"] for r in swaps)


# -- binding ---------------------------------------------------------------------

def test_a_decision_on_a_proposal_changed_since_it_was_read_gets_409(splunkd):
    key = fr.seed(splunkd, fr.LIBRARY_ROW)
    shown = read(splunkd, key)
    # a later run from another host and namespace raises the same key with another entity
    assert fr.seed(splunkd, dict(fr.LIBRARY_ROW, host="node-99", namespace="kube-system")) == key
    body = {"key": key, "decision": "allowlist", "reason": "looked fine", "expires": fr.day(30),
            "seen": shown["fingerprint"], "scope": ["subject_digest", "namespace"]}
    status, answer = call(splunkd, body=body)
    assert status == 409 and answer["error"].startswith("seen: the proposal changed")
    assert splunkd.writes == []
    fresh = read(splunkd, key)
    assert fresh["fingerprint"] != shown["fingerprint"] and fresh["proposal"]["entity"]["namespace"] == "kube-system"
    assert call(splunkd, body=dict(body, seen=fresh["fingerprint"]))[0] == 200
    row = splunkd.collection("claw_allowlist")[key]
    assert row["namespace"] == "kube-system"  # what the second review showed
    decision = splunkd.collection("claw_policy_decisions")[key]
    assert decision["fingerprint"] == fresh["fingerprint"]


def test_reject_and_approve_bind_the_fingerprint_too(splunkd):
    key = fr.seed(splunkd, fr.LIBRARY_ROW)
    status, answer = call(splunkd, body={"key": key, "decision": "reject", "reason": "x", "seen": "0" * 64})
    assert status == 409 and splunkd.writes == []


# -- revoke ----------------------------------------------------------------------

def test_revoke_removes_the_row_reopens_the_proposal_and_keeps_the_audit_trail(splunkd):
    key = fr.seed(splunkd, fr.LIBRARY_ROW)
    assert call(splunkd, body=allow(splunkd, key))[0] == 200
    status, answer = call(splunkd, body=revoke(key), token=fr.ADMIN)
    assert status == 200, answer
    assert answer["state"] == "revoked" and answer["revoked_by"] == "dave" and not answer["repeated"]
    assert key not in splunkd.collection("claw_allowlist")
    assert splunkd.kv[key]["status"] == "pending" and splunkd.kv[key]["reviewed_by"] == ""
    shown = read(splunkd, key)
    assert shown["status"] == "pending" and shown["decision"]["state"] == "revoked" and shown["complete"] is False
    # a new decision is revision 1; the audit keeps all three acts
    status, answer = call(splunkd, body={"key": key, "decision": "reject", "reason": "closed after all",
                                         "seen": shown["fingerprint"]}, token=fr.SECOND)
    assert status == 200 and answer["revision"] == 1 and answer["reviewed_by"] == "carol"
    audit = splunkd.collection("claw_policy_audit")
    assert sorted(audit) == sorted([key + "-0-decision", key + "-0-revoke", key + "-1-decision"])
    assert audit[key + "-0-decision"]["reviewed_by"] == "alice" and audit[key + "-0-revoke"]["revoked_by"] == "dave"
    assert splunkd.kv[key]["status"] == "rejected"


def test_a_reviewer_cannot_revoke_and_a_stale_revision_conflicts(splunkd):
    key = fr.seed(splunkd, fr.LIBRARY_ROW)
    assert call(splunkd, body=allow(splunkd, key))[0] == 200
    writes = len(splunkd.writes)
    status, answer = call(splunkd, body=revoke(key), token=fr.REVIEWER)
    assert status == 403 and "claw_admin" in answer["error"] and "alice" in answer["error"]
    status, answer = call(splunkd, body=revoke(key, revision=3), token=fr.ADMIN)
    assert status == 409 and answer["error"].startswith("revision:")
    assert len(splunkd.writes) == writes and key in splunkd.collection("claw_allowlist")
    assert call(splunkd, body=revoke(fr.seed(splunkd, dict(fr.LIBRARY_ROW, host="x", subject_digest="sha256:" + "7" * 64))),
                token=fr.ADMIN)[0] == 404


def test_a_repeated_revoke_writes_no_second_audit_record(splunkd):
    key = fr.seed(splunkd, fr.LIBRARY_ROW)
    assert call(splunkd, body=allow(splunkd, key))[0] == 200
    assert call(splunkd, body=revoke(key), token=fr.ADMIN)[0] == 200
    status, answer = call(splunkd, body=revoke(key), token=fr.ADMIN)
    assert status == 200 and answer["repeated"]
    assert len([k for k in splunkd.collection("claw_policy_audit") if k.endswith("-revoke")]) == 1


def test_the_alert_action_keeps_a_revoked_proposal_pending(splunkd):
    key = fr.seed(splunkd, fr.LIBRARY_ROW)
    assert call(splunkd, body=allow(splunkd, key))[0] == 200
    assert call(splunkd, body=revoke(key), token=fr.ADMIN)[0] == 200
    proposal = json.loads(splunkd.kv[key]["proposal"])
    client = Splunkd(splunkd.url, fs.SESSION_KEY, RetryPolicy(max_retries=0))
    KVStore(client).upsert([proposal], "2026-01-02T00:00:00Z")
    assert splunkd.kv[key]["status"] == "pending" and splunkd.kv[key]["times_seen"] == 2


@pytest.mark.parametrize("change,state", [("delete", "missing"), ("expire", "expired")])
def test_a_row_removed_by_hand_or_expired_is_not_shown_as_allowlisted(splunkd, change, state):
    key = fr.seed(splunkd, fr.LIBRARY_ROW)
    assert call(splunkd, body=allow(splunkd, key))[0] == 200
    rows = splunkd.collection("claw_allowlist")
    if change == "delete":
        del rows[key]
    else:
        rows[key]["expires"] = fr.day(-2)
    shown = read(splunkd, key)
    assert shown["allowlist_row"] == state and shown["status"] == "allowlist_" + state
    # the way back: revoke (the row is gone already), then decide again
    assert call(splunkd, body=revoke(key), token=fr.ADMIN)[0] == 200
    assert read(splunkd, key)["status"] == "pending"


# -- the cluster -----------------------------------------------------------------

def test_two_members_deciding_at_once_one_wins_and_the_other_gets_409(splunk_python, tmp_path, splunkd):
    from tests.test_review_persistconn import Driver
    key = fr.seed(splunkd, fr.LIBRARY_ROW)
    seen = read(splunkd, key)["fingerprint"]
    bodies = [{"key": key, "decision": "allowlist", "reason": "fp", "expires": fr.day(9), "seen": seen,
               "scope": ["subject_digest", "library_path"]},
              {"key": key, "decision": "approve", "reason": "deny it", "seen": seen}]
    # both members read "no decision yet" before either writes (the reads wait for each other)
    splunkd.get_barrier = ("claw_policy_decisions", threading.Barrier(2, timeout=10))
    homes = [tmp_path / ("member%d" % n) for n in (1, 2)]
    for home in homes:
        home.mkdir()
    members = [Driver(splunk_python, str(home)) for home in homes]
    answers = [None, None]

    def decide(n):
        answers[n] = members[n].ask(fr.request(splunkd, body=bodies[n], token=(fr.REVIEWER, fr.SECOND)[n]))

    try:
        threads = [threading.Thread(target=decide, args=(n,)) for n in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for member in members:
            member.close()
    statuses = sorted(a["status"] for a in answers)
    assert statuses == [200, 409], answers
    winner = [a for a in answers if a["status"] == 200][0]["payload"]
    decision = splunkd.collection("claw_policy_decisions")[key]
    assert decision["decision"] == winner["decision"] and decision["state"] == "complete"
    assert list(splunkd.collection("claw_policy_audit")) == [key + "-0-decision"]
    assert splunkd.kv[key]["status"] == winner["status"]
    assert (key in splunkd.collection("claw_allowlist")) == (winner["decision"] == "allowlist")


def test_two_members_making_the_same_decision_both_succeed_with_one_record(splunkd):
    key = fr.seed(splunkd, fr.LIBRARY_ROW)
    body = allow(splunkd, key)
    splunkd.get_barrier = ("claw_policy_decisions", threading.Barrier(2, timeout=10))
    answers = [None, None]

    def decide(n):
        answers[n] = endpoint.handle(fr.request(splunkd, body=body, token=(fr.REVIEWER, fr.SECOND)[n]))

    threads = [threading.Thread(target=decide, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [a["status"] for a in answers] == [200, 200], answers
    assert sorted(a["payload"]["repeated"] for a in answers) == [False, True]
    assert len({a["payload"]["reviewed_by"] for a in answers}) == 1  # both report the one decision of record
    assert list(splunkd.collection("claw_policy_audit")) == [key + "-0-decision"]


# -- a second reviewer for enforcement (site setting) ------------------------------

QUARANTINE_ROW = {"detection_id": "claw_manifest_digest_mismatch", "host": "node-3", "namespace": "shop-prod",
                  "image_ref": "registry.example.com/shop/cart:1.4", "expected_digest": "sha256:" + "1" * 64,
                  "observed_digest": "sha256:" + "2" * 64, "severity": "high"}
TWO = {"second_reviewer_for": frozenset(["quarantine_image"])}


def approve(splunkd, key, token, site=TWO):
    body = {"key": key, "decision": "approve", "reason": "quarantine it", "seen": read(splunkd, key)["fingerprint"]}
    answer = endpoint.handle(fr.request(splunkd, body=body, token=token), site=site)
    return answer["status"], answer["payload"]


def test_an_enforcement_approval_waits_for_a_second_reviewer(splunkd):
    key = fr.seed(splunkd, QUARANTINE_ROW)
    assert json.loads(splunkd.kv[key]["proposal"])["change"]["action"] == "quarantine_image"
    status, answer = approve(splunkd, key, fr.REVIEWER)
    assert status == 200 and answer["status"] == "awaiting_second", answer
    assert splunkd.kv[key]["status"] == "awaiting_second"  # the engine applies only "approved"
    status, answer = approve(splunkd, key, fr.REVIEWER)  # the same reviewer again: still waiting
    assert status == 200 and answer["status"] == "awaiting_second" and answer["repeated"]
    status, answer = call(splunkd, body={"key": key, "decision": "reject", "reason": "no",
                                         "seen": read(splunkd, key)["fingerprint"]}, token=fr.SECOND)
    assert status == 409 and "second approval" in answer["error"]
    status, answer = approve(splunkd, key, fr.SECOND)
    assert status == 200 and answer["status"] == "approved" and answer["second_by"] == "carol", answer
    assert splunkd.kv[key]["status"] == "approved" and splunkd.kv[key]["reviewed_by"] == "alice"
    assert sorted(splunkd.collection("claw_policy_audit")) == [key + "-0-decision", key + "-0-second"]


def test_without_the_setting_one_approval_is_enough(splunkd):
    key = fr.seed(splunkd, QUARANTINE_ROW)
    status, answer = approve(splunkd, key, fr.REVIEWER, site={"second_reviewer_for": frozenset()})
    assert status == 200 and answer["status"] == "approved"


def test_the_setting_is_read_from_default_then_local(tmp_path):
    from claw_ta.review import settings
    (tmp_path / "default").mkdir()
    (tmp_path / "local").mkdir()
    macro = "[claw_review_second_reviewer_for]\ndefinition = %s\niseval = 0\n"
    (tmp_path / "default" / "macros.conf").write_text(macro % 'second_reviewer_for=""')
    assert settings.load(str(tmp_path)) == {"second_reviewer_for": frozenset()}
    (tmp_path / "local" / "macros.conf").write_text(macro % 'second_reviewer_for="quarantine_image, deny_library"')
    assert settings.load(str(tmp_path))["second_reviewer_for"] == {"quarantine_image", "deny_library"}
    (tmp_path / "local" / "macros.conf").write_text(macro % 'second_reviewer_for="quarantine"')
    with pytest.raises(settings.SettingsError, match="unknown change 'quarantine'"):
        settings.load(str(tmp_path))
    (tmp_path / "local" / "macros.conf").write_text(macro % "quarantine_image")
    with pytest.raises(settings.SettingsError, match="expected second_reviewer_for="):
        settings.load(str(tmp_path))
    from tests import paths
    assert settings.load(paths.APP) == {"second_reviewer_for": frozenset()}  # shipped: one reviewer


def test_a_revocation_while_a_retry_completes_the_decision_leaves_no_row(splunkd):
    """A decision interrupted after its commit point; its retry reads it, then an admin revokes it
    before the retry writes the row: the retry takes the row back and answers 409."""
    key = fr.seed(splunkd, fr.LIBRARY_ROW)
    body = allow(splunkd, key)
    splunkd.fail_next = [None, None, None, None, None, 503, 503]  # the allowlist write fails once
    assert call(splunkd, body=body)[0] == 502
    assert splunkd.collection("claw_policy_decisions")[key]["state"] == "recorded"
    fired = []

    def splunkd_for(token):
        client = Splunkd(splunkd.url, token, RetryPolicy(max_retries=0))
        plain = client.call

        def call_then_revoke(method, path, *args, **kw):
            answer = plain(method, path, *args, **kw)
            if method == "GET" and path.endswith("claw_policy_decisions/" + key) and not fired:
                fired.append(True)  # the retry has read the decision: the admin revokes now
                assert call(splunkd, body=revoke(key), token=fr.ADMIN)[0] == 200
            return answer
        client.call = call_then_revoke
        return client

    answer = endpoint.handle(fr.request(splunkd, body=body), splunkd_for=splunkd_for)
    assert fired and answer["status"] == 409, answer
    assert key not in splunkd.collection("claw_allowlist")
    assert splunkd.collection("claw_policy_decisions")[key]["state"] == "revoked"
    assert splunkd.kv[key]["status"] == "pending"
