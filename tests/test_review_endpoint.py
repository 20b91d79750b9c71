"""The review endpoint's logic (claw_ta.review.endpoint) against the loopback splunkd/KV store stand-in.

Bad fields, a missing scope, a missing/past/too-far expiry, a caller without
the claw_review capability, a GET that must not change anything, a POST
without Splunk Web's CSRF header, a detection without an allowlistable
entity, an attacker-chosen wildcard, and a decision interrupted after its
commit point that a retry completes. The KV store has no transaction across
collections: the tests check the order of the writes the atomicity relies on.
"""
import copy
import json

import pytest

from tests.support import feedback_review as fr
from tests.support.feedback_fixtures import pki  # noqa: F401 (fixture)
from tests.support.feedback_review import call, splunkd  # noqa: F401 (fixture)


def snapshot(splunkd):
    return copy.deepcopy(splunkd.collections)


SEEN = {}  # proposal key -> fingerprint, filled by seed()


def seed(splunkd, row, change="auto"):
    key = fr.seed(splunkd, row, change)
    SEEN[key] = fr.seen(splunkd, key)
    return key


def allow(key, **over):
    body = {"key": key, "decision": "allowlist", "reason": "signed vendor hook, ticket 4411",
            "expires": fr.day(30), "scope": ["subject_digest", "library_path"], "seen": SEEN.get(key, "0" * 64)}
    body.update(over)
    return body


def close(key, decision="reject", reason="closed"):
    return {"key": key, "decision": decision, "reason": reason, "seen": SEEN.get(key, "0" * 64)}


def test_allowlist_decision_writes_a_scoped_expiring_row_and_records_who(splunkd):
    key = seed(splunkd, fr.LIBRARY_ROW)
    status, answer = call(splunkd, body=allow(key))
    assert status == 200, answer
    row = splunkd.collection("claw_allowlist")[key]
    assert row["detection_id"] == "claw_unlisted_library_load" and row["proposal_key"] == key
    assert (row["subject_digest"], row["library_path"]) == (fr.SUBJECT, "/tmp/.x/libhook.so")
    assert row["host"] == row["namespace"] == row["library_digest"] == ""  # only the chosen scope
    assert row["expires"] == fr.day(30) and row["created_by"] == "alice" and row["created_at"]
    record = splunkd.kv[key]
    assert (record["status"], record["reviewed_by"], record["allowlist_expires"]) == ("allowlisted", "alice",
                                                                                      fr.day(30))
    decision = splunkd.collection("claw_policy_decisions")[key]
    assert decision["state"] == "complete" and decision["reviewed_by"] == "alice"
    # order: the audit insert (the commit point), the decision in force, the allowlist row, the proposal,
    # the decision complete; all with the system session
    assert [(w[0], w[2]) for w in splunkd.writes] == [
        ("claw_policy_audit", fr.SYSTEM), ("claw_policy_decisions", fr.SYSTEM), ("claw_allowlist", fr.SYSTEM),
        ("claw_policy_proposals", fr.SYSTEM), ("claw_policy_decisions", fr.SYSTEM)]
    # the capability was checked with the caller's own session
    assert ("GET", "/servicesNS/nobody/TA-claw-runtime/authentication/current-context", fr.REVIEWER) in \
        splunkd.tokens_used


def test_library_digest_scope_pins_the_row_to_the_file(splunkd):
    row = dict(fr.LIBRARY_ROW, detection_id="claw_library_from_writable_path")
    key = seed(splunkd, row)
    status, answer = call(splunkd, body=allow(key, scope=["library_path", "subject_digest"]))
    assert status == 200, answer


def test_get_reads_and_never_writes(splunkd):
    key = seed(splunkd, fr.LIBRARY_ROW)
    before = snapshot(splunkd)
    # a GET carrying every field of a decision, in the query and in a body, changes nothing
    status, answer = call(splunkd, method="GET", query={"key": key, "decision": "allowlist", "expires": fr.day(9),
                                                        "scope": "library_path", "reason": "x"}, body=allow(key))
    assert status == 200 and answer["status"] == "pending" and answer["decision"] is None
    assert answer["proposal"]["idempotency_key"] == key and answer["max_days"] == 90
    assert set(answer["scope_fields"]) == {"subject_digest", "library_path", "library_digest", "host", "namespace"}
    assert answer["scope_default"] == ["subject_digest", "library_digest"]
    assert answer["fingerprint"] == SEEN[key] and answer["allowlist_row"] is None
    assert splunkd.writes == [] and snapshot(splunkd) == before
    assert not [c for c in splunkd.calls if c[0] != "GET"]


@pytest.mark.parametrize("token,status", [(fr.OUTSIDER, 403), ("", 401), ("NOT-A-SESSION", 401)])
def test_a_caller_without_the_capability_changes_nothing(splunkd, token, status):
    key = seed(splunkd, fr.LIBRARY_ROW)
    before = snapshot(splunkd)
    got, answer = call(splunkd, body=allow(key), token=token)
    assert got == status, answer
    if status == 403:
        assert "claw_review" in answer["error"] and "bob" in answer["error"]
    assert splunkd.writes == [] and snapshot(splunkd) == before
    got, _ = call(splunkd, method="GET", query={"key": key}, token=token)
    assert got == status


BROWSER = {"splunkd_8000": "sessioncookie", "splunkweb_csrf_token_8000": fr.CSRF}


@pytest.mark.parametrize("headers,cookies,status,message", [
    ({"Content-Type": "application/json", "X-Splunk-Form-Key": "123"}, BROWSER, 403, "does not match"),
    ({"Content-Type": "application/x-www-form-urlencoded"}, {}, 415, "Content-Type"),
    ({"Content-Type": "application/x-www-form-urlencoded"}, {"splunkd_8089": "s"}, 415, "Content-Type"),
    ({"Content-Type": "text/plain"}, BROWSER, 415, "Content-Type"),
    ({"Content-Type": "multipart/form-data; boundary=x"}, BROWSER, 415, "Content-Type"),
    ({}, {}, 415, "Content-Type"),
])
def test_post_without_csrf_protection_is_refused(splunkd, headers, cookies, status, message):
    key = seed(splunkd, fr.LIBRARY_ROW)
    got, answer = call(splunkd, body=allow(key), headers=headers, cookies=cookies)
    assert got == status and message in answer["error"]
    assert splunkd.writes == []


@pytest.mark.parametrize("headers,cookies", [
    ({"Content-Type": "application/json; charset=utf-8", "X-Splunk-Form-Key": fr.CSRF}, BROWSER),  # all forwarded
    ({"Content-Type": "application/json", "X-Splunk-Form-Key": fr.CSRF}, {}),  # the header only
    ({"Content-Type": "application/json"}, BROWSER),  # the cookies only
    ({"Content-Type": "application/json"}, {"splunkd_8089": "splunkd-session-cookie"}),  # straight to splunkd
    ({"Content-Type": "application/json", "Authorization": "Bearer t"}, {}),  # a token
])
def test_json_posts_from_splunk_web_or_straight_to_splunkd_are_accepted(splunkd, headers, cookies):
    key = seed(splunkd, fr.LIBRARY_ROW)
    got, answer = call(splunkd, body=allow(key), headers=headers, cookies=cookies)
    assert got == 200, answer


@pytest.mark.parametrize("change,message", [
    ({"expires": None}, "expires: required"),
    ({"expires": ""}, "expires: required"),
    ({"expires": fr.day(-1)}, "expires: %s is not a date after today" % fr.day(-1)),
    ({"expires": fr.day(0)}, "is not a date after today"),
    ({"expires": fr.day(91)}, "more than 90 days ahead"),
    ({"expires": "2027-02-30"}, "expires: '2027-02-30' is not a date"),
    ({"expires": "tomorrow"}, "expires: 'tomorrow' is not a date"),
    ({"expires": fr.day(5) + "T00:00:00Z"}, "is not a date YYYY-MM-DD"),
    ({"expires": 30}, "expires: expected a string"),
    ({"scope": []}, "scope: required"),
    ({"seen": None}, "seen: required"),
    ({"seen": "abc"}, "seen: required"),
    ({"revision": 0}, "revision: only a revocation"),
    ({"scope": "library_path"}, "scope: expected a list"),
    ({"scope": ["detection_id"]}, "scope: 'detection_id' is not an allowlistable field"),
    ({"scope": ["tier"]}, "scope: 'tier' is not an allowlistable field"),
    ({"scope": ["image_ref"]}, "scope: 'image_ref' is not an allowlistable field"),
    ({"key": "abc"}, "key: expected"),
    ({"key": "../" + "a" * 61}, "key: expected"),
    ({"key": "f" * 64}, "key: no proposal"),
    ({"decision": "approved"}, "decision: expected"),
    ({"decision": "revoke"}, "revision: required"),
    ({"decision": None}, "decision: expected"),
    ({"reason": ""}, "reason: required"),
    ({"reason": "x" * 1001}, "reason: at most"),
    ({"reason": "ok\x1b[31m"}, "reason: at most"),
    ({"expiry": fr.day(3)}, "expiry: unknown field"),
    ({"created_by": "mallory"}, "created_by: unknown field"),
])
def test_every_bad_field_is_named_and_nothing_is_written(splunkd, change, message):
    key = seed(splunkd, fr.LIBRARY_ROW)
    body = allow(key)
    for name, value in change.items():
        if value is None:
            body.pop(name)
        else:
            body[name] = value
    status, answer = call(splunkd, body=body)
    assert status in (400, 404), answer
    assert message in answer["error"]
    assert splunkd.writes == []


@pytest.mark.parametrize("body", ["", "not json", "[]", '"x"', "{"])
def test_a_body_that_is_not_a_json_object_is_refused(splunkd, body):
    status, answer = call(splunkd, body=body)
    assert status == 400 and answer["error"].startswith("body:")


def test_scope_field_the_proposal_lacks_is_refused(splunkd):
    key = seed(splunkd, {k: v for k, v in fr.LIBRARY_ROW.items() if k != "namespace"})
    status, answer = call(splunkd, body=allow(key, scope=["namespace"]))
    assert status == 400 and answer["error"] == "scope: the proposal has no namespace"


def test_a_detection_without_allowlistable_entity_is_closed_not_allowlisted(splunkd):
    key = seed(splunkd, {"detection_id": "claw_workload_risk", "subject_digest": fr.SUBJECT, "host": "h"})
    status, answer = call(splunkd, body=allow(key, scope=["subject_digest"]))
    assert status == 400 and "has no allowlistable entity" in answer["error"] and "reject" in answer["error"]
    assert splunkd.writes == []
    status, answer = call(splunkd, body=close(key, reason="closed: known pentest"))
    assert status == 200 and splunkd.kv[key]["status"] == "rejected"
    assert "claw_allowlist" not in splunkd.collections or not splunkd.collection("claw_allowlist")


@pytest.mark.parametrize("field,value", [("library_path", "/tmp/*"), ("library_path", "/opt/\"x\\"),
                                         ("subject_digest", "sha256:*")])
def test_attacker_chosen_values_cannot_widen_the_row(splunkd, field, value):
    """The workload names its own paths and digests: a value with a wildcard (or that would end
    the generated search's quoted term) never becomes an allowlist row."""
    key = seed(splunkd, dict(fr.LIBRARY_ROW, **{field: value}))
    status, answer = call(splunkd, body=allow(key, scope=[field]))
    assert status == 400 and answer["error"].startswith("scope: the allowlist row would be invalid")
    assert splunkd.writes == []


def test_approve_and_reject_write_no_row_and_take_no_expiry(splunkd):
    key = seed(splunkd, fr.LIBRARY_ROW)  # a deny_library proposal
    status, answer = call(splunkd, body=dict(close(key, "approve", "r"), expires=fr.day(3)))
    assert status == 400 and answer["error"].startswith("expires: only an allowlist decision")
    status, answer = call(splunkd, body=close(key, "approve", "deny it"))
    assert status == 200 and answer["allowlist_row"] is None and splunkd.kv[key]["status"] == "approved"
    assert "claw_allowlist" not in splunkd.collections


def test_approving_an_allowlist_proposal_needs_scope_and_expiry(splunkd):
    key = seed(splunkd, fr.LIBRARY_ROW, change="allowlist")
    status, answer = call(splunkd, body=dict(close(key, "approve", "fp"), scope=[]))
    assert status == 400 and answer["error"].startswith("scope: required")
    status, answer = call(splunkd, body=allow(key, decision="approve", scope=["host"]))
    assert status == 200 and splunkd.collection("claw_allowlist")[key]["host"] == "node-12"


def test_a_second_decision_conflicts_and_a_repeat_adds_no_second_row(splunkd):
    key = seed(splunkd, fr.LIBRARY_ROW)
    assert call(splunkd, body=allow(key))[0] == 200
    status, answer = call(splunkd, body=close(key, reason="changed my mind"))
    assert status == 409 and "already decided: allowlist by alice" in answer["error"]
    writes = len(splunkd.writes)
    status, answer = call(splunkd, body=allow(key), token=fr.fs.SESSION_KEY)
    assert status == 200 and answer["repeated"] and answer["reviewed_by"] == "alice"
    assert list(splunkd.collection("claw_allowlist")) == [key]
    assert len(splunkd.writes) == writes  # a complete decision repeated writes nothing


def test_an_interrupted_decision_is_completed_by_the_same_post(splunkd):
    key = seed(splunkd, fr.LIBRARY_ROW)
    # current-context, proposal read, decision read, audit insert, decision save; then the allowlist write fails
    splunkd.fail_next = [None, None, None, None, None, 503, 503]
    status, answer = call(splunkd, body=allow(key))
    assert status == 502
    recorded = splunkd.collection("claw_policy_decisions")[key]
    assert recorded["state"] == "recorded" and key not in splunkd.collection("claw_allowlist")
    status, answer = call(splunkd, method="GET", query={"key": key})
    assert status == 200 and answer["complete"] is False
    assert call(splunkd, body=allow(key, decision="reject"))[0] == 409
    status, answer = call(splunkd, body=allow(key))
    assert status == 200 and answer["repeated"]
    assert splunkd.collection("claw_allowlist")[key]["created_at"] == json.loads(recorded["allowlist_row"])[
        "created_at"]
    assert splunkd.collection("claw_policy_decisions")[key]["state"] == "complete"
    assert splunkd.kv[key]["status"] == "allowlisted"


@pytest.mark.parametrize("key,status", [("../../storage/passwords", 400), ("f" * 64, 404)])
def test_get_of_a_bad_or_unknown_key(splunkd, key, status):
    assert call(splunkd, method="GET", query={"key": key})[0] == status
    assert splunkd.writes == []


def test_other_methods_are_refused(splunkd):
    assert call(splunkd, method="DELETE")[0] == 405
