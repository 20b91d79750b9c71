"""Review decisions on the alert action's proposals, made through the app's REST endpoint.

- ``decide``: pure rules: the request's fields, the allowlist row a decision
  writes, the review fields of a proposal record.
- ``endpoint``: one request of ``/services/claw/review`` (splunkd's persistent
  handler protocol): CSRF, the ``claw_review`` capability, GET (read only),
  POST (decide), the ordered writes through the KV store REST API.
- ``persistconn``: the handler base class, for running outside splunkd.

The handler script is ``bin/claw_review.py``; restmap.conf, web.conf and
authorize.conf register and protect it; docs/policy-feedback.md explains it.
"""

from claw_ta.records import ALLOWLIST, AUDIT, DECISIONS, PROPOSALS, STATUS  # noqa: F401 (this API)

CAPABILITY = "claw_review"
ADMIN_CAPABILITY = "claw_admin"  # revokes decisions
MAX_DAYS = 90  # the latest expiry a reviewer may set, in days from today
REASON_MAX = 1000
