"""The dashboard's script (appserver/static/claw_review.js) run under node with stand-ins for Splunk Web.

tests/support/review_script_harness.js gives it ``require``, a small jQuery,
``splunk.util`` (``getFormKey`` returns a known form key) and ``splunkjs/mvc``,
plays a row click (the GET answer of the endpoint), the scope boxes, the reason
and the expiry, then one button, and prints the requests the script sent.
Checked: the POST carries ``X-Splunk-Form-Key`` from ``splunkUtil.getFormKey()``
and JSON, a decision names the fingerprint shown, Revoke names the revision and
is offered only to claw_admin, the tightest scope is ticked by default, and an
approval of a change that writes no row sends no scope (the endpoint would refuse it).
"""
import json
import os
import shutil
import subprocess

import pytest

from tests import paths

SCRIPT = os.path.join(paths.APP, "appserver", "static", "claw_review.js")
HARNESS = os.path.join(paths.TESTS, "support", "review_script_harness.js")
KEY = "b" * 64
FINGERPRINT = "f" * 64


def get_answer(action="deny_library", decision=None, can_revoke=False):
    return {"key": KEY, "status": "pending", "fingerprint": FINGERPRINT, "revision": 0 if decision else None,
            "decision": decision, "complete": bool(decision), "can_revoke": can_revoke, "allowlist_row": None,
            "proposal": {"change": {"action": action}, "entity": {}},
            "scope_fields": ["subject_digest", "library_path", "library_digest", "host"],
            "scope_default": ["subject_digest", "library_digest"]}


def run(scenario):
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    proc = subprocess.run([node, HARNESS, SCRIPT, json.dumps(scenario)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def the_post(out):
    (post,) = [r for r in out["requests"] if r["type"] == "POST"]
    assert post["url"] == "/en-US/splunkd/__raw/services/claw/review?output_mode=json"
    assert post["headers"]["X-Splunk-Form-Key"] == "FORM-KEY-1" and post["contentType"] == "application/json"
    return post["data"]


def test_allowlist_sends_the_fingerprint_and_the_default_tightest_scope():
    out = run({"select": KEY, "get": get_answer(), "reason": "fp", "expires": "2030-01-01", "click": "allowlist"})
    assert out["requests"][0]["type"] == "GET" and ("&key=" + KEY) in out["requests"][0]["url"]
    assert dict(out["shown"]["scope"]) == {"subject_digest": True, "library_digest": True, "library_path": False,
                                           "host": False}
    assert the_post(out) == {"key": KEY, "decision": "allowlist", "reason": "fp", "seen": FINGERPRINT,
                             "expires": "2030-01-01", "scope": ["subject_digest", "library_digest"]}


def test_approving_a_deny_proposal_sends_no_scope():
    out = run({"select": KEY, "get": get_answer(), "reason": "deny it", "click": "approve"})
    assert the_post(out) == {"key": KEY, "decision": "approve", "reason": "deny it", "seen": FINGERPRINT}


def test_approving_an_allowlist_proposal_sends_the_row_fields():
    out = run({"select": KEY, "get": get_answer("allowlist"), "check": ["host"], "reason": "ok",
               "expires": "2030-01-01", "click": "approve"})
    assert the_post(out)["scope"] == ["host"] and the_post(out)["expires"] == "2030-01-01"


def test_revoke_names_the_revision_and_is_offered_to_claw_admin_only():
    decision = {"decision": "allowlist", "reviewed_by": "alice", "state": "complete"}
    out = run({"select": KEY, "get": get_answer(decision=decision, can_revoke=True), "reason": "mistake",
               "click": "revoke"})
    assert out["shown"]["revoke_visible"] is True
    assert the_post(out) == {"key": KEY, "decision": "revoke", "reason": "mistake", "revision": 0}
    out = run({"select": KEY, "get": get_answer(decision=decision, can_revoke=False), "click": "reject"})
    assert out["shown"]["revoke_visible"] is False
