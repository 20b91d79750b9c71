"""claw_policy_feedback: custom alert action feeding alerts back to Claw's policy engine.

Syntax (as splunkd runs it; the payload is JSON on stdin, payload_format = json):
    claw_policy_feedback.py --execute < payload.json

Description:
    Turns every result of the triggering search into a Claw policy proposal
    (schema README/claw_policy_proposal.schema.json) keyed by an idempotency
    key. mode=review (default) upserts the proposals into the KV store
    collection claw_policy_proposals for the "Claw Policy Proposals"
    dashboard; mode=push POSTs them over HTTPS to policy_engine_url with the
    bearer token stored in storage/passwords (realm claw_policy_feedback).
    Undelivered proposals stay in an outbox and are retried on the next
    trigger; a key is never applied twice. Logs to
    $SPLUNK_HOME/var/log/splunk/claw_policy_feedback.log; exits 2 when a
    proposal could not be delivered, 3 on a bad payload or configuration.

Example (savedsearches.conf):
    action.claw_policy_feedback = 1
    action.claw_policy_feedback.param.detection_id = claw_unlisted_library_load
    action.claw_policy_feedback.param.mode = review
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from claw_ta.feedback.action import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
