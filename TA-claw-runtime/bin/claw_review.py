"""claw_review: the review endpoint of TA-claw-runtime (splunkd persistent REST handler).

Syntax (restmap.conf [script:claw_review], match = /claw/review):
    GET  /services/claw/review?key=<proposal key>
    POST /services/claw/review   (Content-Type: application/json)
         {"key": "<proposal key>", "decision": "approve|reject|allowlist",
          "reason": "...", "expires": "YYYY-MM-DD", "scope": ["subject_digest", ...]}

Description:
    Records a reviewer's decision on a policy proposal of the
    claw_policy_feedback alert action: the decision of record, the scoped and
    expiring allowlist row it implies (KV store collection claw_allowlist),
    and the proposal's review fields. Callers need the claw_review capability
    (roles claw_reviewer, claw_admin). GET never changes anything. Through
    Splunk Web (/splunkd/__raw/services/claw/review) a POST carries the
    X-Splunk-Form-Key header. Rules: claw_ta/review/endpoint.py and decide.py.

Example:
    curl -k -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
         https://localhost:8089/services/claw/review \
         -d '{"key": "b592...", "decision": "reject", "reason": "expected behaviour"}'
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    from splunk.persistconn.application import PersistentServerConnectionApplication
except ImportError:  # outside splunkd
    from claw_ta.review.persistconn import PersistentServerConnectionApplication

from claw_ta.review import endpoint  # noqa: E402


class ClawReviewHandler(PersistentServerConnectionApplication):
    def __init__(self, command_line=None, command_arg=None):
        PersistentServerConnectionApplication.__init__(self)

    def handle(self, in_string):
        if isinstance(in_string, bytes):
            in_string = in_string.decode("utf-8", "replace")
        try:
            request = json.loads(in_string)
        except ValueError:
            return endpoint.error(400, "request: not the JSON splunkd sends")
        return endpoint.handle(request)
