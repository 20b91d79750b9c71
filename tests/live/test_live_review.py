"""The review endpoint in a real Splunk: a decision posted to /services/claw/review.

Skipped unless a Splunk is configured (tests/live/conftest.py, docs/testing.md).
The test seeds one proposal in the KV store as the admin, reads it through the
endpoint, has a user without the claw_review capability refused, has a
claw_reviewer user post an allowlist decision (with the fingerprint the GET
showed), and checks the allowlist row, the decision of record and the
proposal; then checks that the KV store refuses a second insert of the audit
record's key (409: the commit point on a search head cluster) and that the
admin (claw_admin) revokes the decision. It removes what it created.
"""
import base64
import datetime
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from claw_ta.feedback import proposal as proposals_mod
from claw_ta.feedback.splunkd import record_of

APP_NS = "/servicesNS/nobody/TA-claw-runtime/"


def call(live, method, path, body=None, user=None, password=None, json_body=True):
    c = live.config
    url = "%s://%s:%d%s" % (c["scheme"], c["host"], c["port"], path)
    url += ("&" if "?" in url else "?") + "output_mode=json"
    auth = base64.b64encode(("%s:%s" % (user or c["username"], password or c["password"])).encode()).decode()
    headers = {"Authorization": "Basic " + auth}
    data = None
    if body is not None:
        if json_body:
            data, headers["Content-Type"] = json.dumps(body).encode("utf-8"), "application/json"
        else:
            data, headers["Content-Type"] = urllib.parse.urlencode(body).encode(), "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, context=live.context, timeout=60) as response:
            text = response.read().decode("utf-8")
            return response.status, json.loads(text) if text.strip() else None
    except urllib.error.HTTPError as error:
        text = error.read().decode("utf-8", "replace")
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, text


@pytest.fixture
def seeded(live_splunk):
    run = uuid.uuid4().hex[:8]
    row = {"detection_id": "claw_unlisted_library_load", "subject_digest": "sha256:" + "7" * 64,
           "library_path": "/tmp/.live-%s/libhook.so" % run, "host": "live-node", "severity": "high"}
    (item,), _ = proposals_mod.build_proposals([row], {"sid": "live", "search_name": "Claw - Live"})
    key = item["idempotency_key"]
    status, _ = call(live_splunk, "POST", APP_NS + "storage/collections/data/claw_policy_proposals/batch_save",
                     [record_of(item, "2026-01-01T00:00:00Z")])
    assert status == 200
    users = {"reviewer": "claw_live_reviewer_" + run, "outsider": "claw_live_outsider_" + run}
    password = "Cl4w-" + uuid.uuid4().hex
    for kind, roles in (("reviewer", "claw_reviewer"), ("outsider", "user")):
        status, answer = call(live_splunk, "POST", "/services/authentication/users",
                              {"name": users[kind], "password": password, "roles": roles}, json_body=False)
        assert status in (200, 201), answer
    yield {"key": key, "users": users, "password": password}
    for name in users.values():
        call(live_splunk, "DELETE", "/services/authentication/users/" + name)
    for collection in ("claw_policy_proposals", "claw_policy_decisions", "claw_allowlist"):
        call(live_splunk, "DELETE", APP_NS + "storage/collections/data/%s/%s" % (collection, key))
    for act in ("0-decision", "0-revoke"):
        call(live_splunk, "DELETE", APP_NS + "storage/collections/data/claw_policy_audit/%s-%s" % (key, act))


def test_a_reviewer_posts_a_decision_through_the_endpoint(live_splunk, seeded):
    key, users, password = seeded["key"], seeded["users"], seeded["password"]
    status, answer = call(live_splunk, "GET", "/services/claw/review?key=" + key)
    assert status == 200 and answer["status"] == "pending" and answer["decision"] is None, answer
    expires = (datetime.date.today() + datetime.timedelta(days=7)).isoformat()
    decision = {"key": key, "decision": "allowlist", "reason": "live test", "expires": expires,
                "scope": ["subject_digest", "library_path"], "seen": answer["fingerprint"]}
    status, answer = call(live_splunk, "POST", "/services/claw/review", decision, user=users["outsider"],
                          password=password)
    assert status == 403, answer  # refused by splunkd (restmap.conf capability) or by the handler
    status, answer = call(live_splunk, "POST", "/services/claw/review", dict(decision, expires="2001-01-01"),
                          user=users["reviewer"], password=password)
    assert status == 400 and "expires" in json.dumps(answer), answer
    status, answer = call(live_splunk, "POST", "/services/claw/review", decision, user=users["reviewer"],
                          password=password)
    assert status == 200 and answer["status"] == "allowlisted", answer
    status, row = call(live_splunk, "GET", APP_NS + "storage/collections/data/claw_allowlist/" + key)
    assert status == 200 and row["created_by"] == users["reviewer"] and row["expires"] == expires
    status, record = call(live_splunk, "GET", APP_NS + "storage/collections/data/claw_policy_proposals/" + key)
    assert record["status"] == "allowlisted" and record["reviewed_by"] == users["reviewer"]
    # a reviewer cannot write the allowlist directly, only through the endpoint (metadata/default.meta)
    status, _ = call(live_splunk, "POST", APP_NS + "storage/collections/data/claw_allowlist/batch_save",
                     [dict(row, _key="f" * 64)], user=users["reviewer"], password=password)
    assert status in (401, 403)
    # the commit point: the KV store refuses a second insert of the audit record's _key
    status, audit = call(live_splunk, "GET", APP_NS + "storage/collections/data/claw_policy_audit/%s-0-decision" % key)
    assert status == 200 and audit["act"] == "decision", audit
    status, _ = call(live_splunk, "POST", APP_NS + "storage/collections/data/claw_policy_audit", audit)
    assert status == 409
    # an admin (claw_admin) revokes it: the row goes, the proposal is pending again
    status, answer = call(live_splunk, "POST", "/services/claw/review",
                          {"key": key, "decision": "revoke", "reason": "live test", "revision": 0})
    assert status == 200 and answer["state"] == "revoked", answer
    status, _ = call(live_splunk, "GET", APP_NS + "storage/collections/data/claw_allowlist/" + key)
    assert status == 404
