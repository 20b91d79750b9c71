"""Policy feedback: turn alert results into Claw policy proposals and deliver them.

Pure, splunklib-free logic behind the ``claw_policy_feedback`` custom alert
action (``bin/claw_policy_feedback.py`` is only the entry point):

- ``proposal``: results file -> proposals (detection, entity, change, evidence,
  idempotency key), schema ``README/claw_policy_proposal.schema.json``.
- ``transport``: HTTPS with urllib + ssl: TLS verification, timeouts, retries
  with exponential backoff on 429/5xx/connection errors, Retry-After.
- ``splunkd``: splunkd REST with the session key splunkd hands the script: the
  bearer token from ``storage/passwords``, KV store collections, review mode's
  upserts into ``claw_policy_proposals`` (never overwriting a decision).
- ``store``: the outbox (undelivered proposals, retried on the next trigger)
  and the applied-keys store of this search head, written ahead.
- ``shared``: push mode's delivery state in the KV store, shared by every
  search head cluster member (a key applied once on the cluster).
- ``deliver``, ``action``: the run itself: configuration, logging, delivery,
  the exit code.

The review records this package shares with ``claw_ta.review`` (which decides)
are in ``claw_ta.records``; this package never imports ``claw_ta.review``.
"""

ACTION_NAME = "claw_policy_feedback"
COLLECTION = "claw_policy_proposals"
CREDENTIAL_REALM = "claw_policy_feedback"
SCHEMA_ID = "claw.policy_proposal/v1"
SCHEMA_FILE = "claw_policy_proposal.schema.json"  # in the app's README/ folder
LOG_FILE = ACTION_NAME + ".log"  # in $SPLUNK_HOME/var/log/splunk
LOG_SOURCETYPE = "claw:policy_feedback:log"

# Exit codes of the alert script (splunkd logs a non-zero code in splunkd.log).
EXIT_OK = 0
EXIT_UNDELIVERED = 2  # some proposals could not be delivered: kept in the outbox
EXIT_CONFIG = 3  # bad payload or configuration: nothing could be attempted
