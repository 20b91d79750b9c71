"""The review endpoint's tests: users, a seeded proposal, request objects as splunkd builds them.

The request object follows splunkd's persistent handler format (restmap.conf
``scripttype = persist``), documented with the echo handler of
https://github.com/splunk/splunk-app-examples (custom_endpoints/README.md,
"Persistent Request Payload Format"): ``method``, ``session`` (``user``,
``authtoken``), ``system_authtoken`` (passSystemAuth), ``server.rest_uri``,
``query``/``headers``/``cookies`` as ``[[name, value], ...]`` and the raw
``payload`` (passPayload).
"""
import datetime
import json

import json as _json

import pytest

from claw_ta.feedback import proposal as proposals_mod
from claw_ta.feedback.splunkd import record_of
from claw_ta.records import fingerprint
from tests.support import feedback_servers as fs

REVIEWER = "REVIEWER-session-1c9e"
OUTSIDER = "OUTSIDER-session-77aa"
SYSTEM = "SYSTEM-session-0b0b"
ADMIN = "CLAWADMIN-session-5e5e"
SECOND = "REVIEWER2-session-2f2f"
USERS = {
    fs.SESSION_KEY: ("admin", fs.ALL_CAPABILITIES),
    REVIEWER: ("alice", ("claw_review", "search")),
    SECOND: ("carol", ("claw_review", "search")),
    ADMIN: ("dave", ("claw_review", "claw_admin", "search")),
    OUTSIDER: ("bob", ("search", "edit_own_objects")),
    SYSTEM: ("splunk-system-user", fs.ALL_CAPABILITIES),
}
SUBJECT = "sha256:" + "4" * 64
LIBRARY = "sha256:" + "5" * 64
CSRF = "8734619375628163527"


def day(offset):
    return (datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=offset)).isoformat()


def seed(splunkd, row, change="auto"):
    """Put the proposal the alert action would raise for ``row`` in the proposals collection; its key."""
    (item,), problems = proposals_mod.build_proposals([row], {"sid": "s", "search_name": "Claw - X"}, change=change)
    assert not problems
    splunkd.kv[item["idempotency_key"]] = record_of(item, "2026-01-01T00:00:00Z")
    return item["idempotency_key"]


def seen(splunkd, key):
    """The fingerprint GET shows for the stored proposal ``key`` (what a decision names as ``seen``)."""
    return fingerprint(_json.loads(splunkd.kv[key]["proposal"]))


LIBRARY_ROW = {"detection_id": "claw_unlisted_library_load", "subject_digest": SUBJECT, "library_path": "/tmp/.x/libhook.so",
               "library_digest": LIBRARY, "host": "node-12", "namespace": "payments", "severity": "high"}


def request(splunkd, method="POST", body=None, token=REVIEWER, query=None, headers=None, cookies=None,
            system=SYSTEM):
    raw = {"method": method, "rest_path": "/claw/review", "server": {"rest_uri": splunkd.url},
           "query": [list(p) for p in (query or {}).items()], "output_mode": "json",
           "headers": [list(p) for p in (headers if headers is not None
                                         else {"Content-Type": "application/json"}).items()],
           "cookies": [list(p) for p in (cookies or {}).items()]}
    if token:
        raw["session"] = {"user": USERS.get(token, ("x",))[0], "authtoken": token}
    if system:
        raw["system_authtoken"] = system
    if body is not None:
        raw["payload"] = body if isinstance(body, str) else json.dumps(body)
    return raw


@pytest.fixture
def splunkd(pki):
    """A fake splunkd with the review users (import it with ``pki`` into a test module)."""
    server = fs.FakeSplunkd(pki["cert"], pki["key"], users=USERS)
    yield server
    server.stop()


def call(splunkd, **kw):
    """(status, payload) of one request to the review endpoint."""
    from claw_ta.review import endpoint
    answer = endpoint.handle(request(splunkd, **kw))
    return answer["status"], answer["payload"]
