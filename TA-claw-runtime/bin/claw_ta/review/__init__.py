"""Review decisions on the alert action's proposals, made through the app's REST endpoint.

- ``decide``: pure rules: the request's fields, the allowlist row a decision
  writes, the default (tightest) scope.
- ``commit``: the ordered KV store writes of a decision and of a revocation;
  the insert of an audit record with a unique ``_key`` is the commit point
  on the whole search head cluster.
- ``endpoint``: one request of ``/services/claw/review`` (splunkd's persistent
  handler protocol): CSRF, the ``claw_review`` and ``claw_admin``
  capabilities, GET (read only), POST (decide or revoke).
- ``persistconn``: the handler base class, for running outside splunkd.

The records both the endpoint and the alert action use are in
``claw_ta.records``. The handler script is ``bin/claw_review.py``; restmap.conf,
web.conf and authorize.conf register and protect it; docs/policy-feedback.md
explains it.
"""
from claw_ta.records import ALLOWLIST, AUDIT, DECISIONS, PROPOSALS, STATUS  # noqa: F401 (this API)

CAPABILITY = "claw_review"
ADMIN_CAPABILITY = "claw_admin"  # revokes decisions
MAX_DAYS = 90  # the latest expiry a reviewer may set, in days from today
REASON_MAX = 1000
