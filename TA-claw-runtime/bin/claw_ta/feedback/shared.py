"""Push mode's delivery state shared by every search head cluster member (KV store).

The outbox and ``applied.keys`` of ``store`` live on the member that ran the
search; a search head cluster runs the next trigger on whichever member the
captain picks. So each push destination also keeps, in the KV store
collection ``claw_policy_delivery`` (``_key`` = ``<destination id>-<proposal
key>``):

- ``state = applied``: the policy engine took the proposal; no member sends
  that key to that engine again;
- ``state = queued`` with the proposal: it could not be delivered; the next
  run on *any* member sends it (and marks it applied);
- ``<destination id>-<proposal key>-sending`` (``state = sending``, ``until``):
  a run's claim on a key while it sends it, *inserted* (the KV store refuses
  a ``_key`` that exists), so two members never send one key at the same
  time; released after the attempt, and taken over once ``until`` (the
  action's deadline) has passed, when the run holding it died (at once on
  the member that left it: a run holds its destination's local lock, so no
  other run of that member is sending).

The local files stay the first record (written ahead, and the only one while
the KV store is down): a KV store failure here is logged and never stops a
delivery or loses a proposal; while it is down, two members could send one
key at the same moment, with the same ``Idempotency-Key`` (the engine applies
a key once: its contract, docs/policy-feedback.md).
"""
import datetime
import json
import logging
import socket
import time

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

    def claim(self, proposal_key, seconds):
        """True when this run may send ``proposal_key`` now (it holds the claim, or the KV store is down)."""
        if self.broken:
            return True
        record = {"_key": self.key(proposal_key) + "-sending", "destination": self.destination,
                  "proposal_key": proposal_key, "state": "sending", "proposal": "", "attempts": 0,
                  "last_error": "", "updated": _now(), "member": self.member, "until": time.time() + seconds}
        contested = False
        for _ in range(2):
            try:
                self.collection.insert(record)
                return True
            except DeliveryError as err:
                held = self._call("read_claim", lambda: self.collection.get(record["_key"]), None)
                if held is None:  # not a conflict: the KV store failed (or the claim just went)
                    continue
                contested = True
                try:
                    # this member's own claim is stale: the run holds the destination's local lock, so no
                    # other run of this member is sending (a run killed mid-delivery left it)
                    if held.get("member") != self.member and float(held.get("until") or 0) > time.time():
                        return False  # another member is sending it now
                except (TypeError, ValueError):
                    pass
                emit(logging.WARNING, "stale_claim", key=proposal_key, member=held.get("member"),
                     reason="the run that claimed it did not finish: taken over (%s)" % err)
                self._call("drop_claim", lambda: self.collection.delete(record["_key"]), None)
        if contested:
            return False
        self.broken = self.broken or "the claim could not be written"
        emit(logging.WARNING, "shared_state_unavailable", operation="claim", key=proposal_key,
             reason="sent without a cluster-wide claim")
        return True

    def release(self, proposal_key):
        self._call("release_claim", lambda: self.collection.delete(self.key(proposal_key) + "-sending"), None)

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
