"""Push mode's delivery state shared by every search head cluster member (KV store).

The outbox and ``applied.keys`` of ``store`` live on the member that ran the
search; a search head cluster runs the next trigger on whichever member the
captain picks. So each push destination also keeps, in the KV store
collection ``claw_policy_delivery`` (``_key`` = ``<destination id>-<proposal
key>``):

- ``state = applied``: the policy engine took the proposal; no member sends
  that key to that engine again;
- ``state = queued`` with the proposal: it could not be delivered; the next
  run on *any* member sends it (and marks it applied).

The local files stay the first record (written ahead, and the only one while
the KV store is down): a KV store failure here is logged and never stops a
delivery or loses a proposal. Two members delivering the same queued proposal
at the same moment both send it with the same ``Idempotency-Key``; the engine
applies a key once (its contract, docs/policy-feedback.md).
"""
import datetime
import json
import logging
import socket

from claw_ta.feedback.log import emit
from claw_ta.feedback.proposal import check_proposal
from claw_ta.feedback.splunkd import Collection
from claw_ta.feedback.transport import DeliveryError
from claw_ta.records import DELIVERY

APPLIED, QUEUED = "applied", "queued"


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class SharedDelivery(object):
    def __init__(self, splunkd, destination):
        self.collection = Collection(splunkd, DELIVERY)
        self.destination = destination
        self.member = socket.gethostname()
        self.broken = None  # the first KV store error: later calls are skipped in this run

    def key(self, proposal_key):
        return "%s-%s" % (self.destination, proposal_key)

    def _call(self, what, fn, default):
        if self.broken:
            return default
        try:
            return fn()
        except (DeliveryError, ValueError, TypeError, KeyError) as err:
            self.broken = str(err)
            emit(logging.WARNING, "shared_state_unavailable", operation=what, error=str(err),
                 reason="kept on this member only until the KV store answers")
            return default

    def applied(self, keys):
        """The proposal keys of ``keys`` another member (or this one) delivered to this destination."""
        def read():
            found = self.collection.by_keys([self.key(k) for k in keys])
            return {r.get("proposal_key") for r in found.values() if r.get("state") == APPLIED}
        return self._call("read_applied", read, set())

    def queued(self):
        """Proposals queued for this destination by any member (oldest first)."""
        def read():
            query = json.dumps({"destination": self.destination, "state": QUEUED})
            records = self.collection.splunkd.call("GET", self.collection.path, query=query) or []
            out = []
            for record in sorted(records, key=lambda r: r.get("updated") or ""):
                try:
                    proposal = json.loads(record.get("proposal") or "")
                    check_proposal(proposal)
                except (ValueError, TypeError, KeyError, AttributeError) as err:
                    emit(logging.ERROR, "shared_entry_skipped", key=record.get("_key"), reason=str(err)[:200])
                    continue
                out.append(proposal)
            return out
        return self._call("read_queued", read, [])

    def mark_applied(self, proposal):
        key = proposal["idempotency_key"]
        record = {"_key": self.key(key), "destination": self.destination, "proposal_key": key, "state": APPLIED,
                  "proposal": "", "attempts": 0, "last_error": "", "updated": _now(), "member": self.member}
        self._call("mark_applied", lambda: self.collection.save([record]), None)

    def queue(self, proposals, error):
        records = [{"_key": self.key(p["idempotency_key"]), "destination": self.destination,
                    "proposal_key": p["idempotency_key"], "state": QUEUED,
                    "proposal": json.dumps(p, ensure_ascii=False, sort_keys=True), "attempts": 1,
                    "last_error": str(error)[:500], "updated": _now(), "member": self.member} for p in proposals]
        if records:
            self._call("queue", lambda: self.collection.save(records), None)
