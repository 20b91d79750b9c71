"""One request of the review endpoint ``/services/claw/review`` (splunkd persistent handler).

``handle(request)`` takes the request object splunkd sends a ``scripttype =
persist`` handler (``method``, ``session``, ``system_authtoken``, ``server``,
``query``, ``headers``, ``cookies``, ``payload``; see restmap.conf) and returns
the reply object (``status``, ``payload``, ``headers``).

- Authorisation: splunkd already refuses callers without the ``claw_review``
  capability (restmap.conf ``capability``); the handler checks again with the
  caller's own session (``authentication/current-context``).
- GET (``?key=<proposal key>``) reads: the proposal, its decision, whether the
  decision is complete, the scope fields and the latest expiry. It never
  writes anything.
- POST decides. The body must be JSON (``Content-Type: application/json``):
  an HTML form on another site cannot send that without a CORS preflight.
  When the request carries Splunk Web's cookies (a browser session), the
  ``X-Splunk-Form-Key`` header must equal the ``splunkweb_csrf_token_<port>``
  cookie, as Splunk Web itself requires of POSTs.
- Writes (with the system session, so that reviewers need no write access to
  the collections) are ordered, and the first one is the commit point:
  1. the decision of record (``claw_policy_decisions``, state ``recorded``,
     with the allowlist row it implies);
  2. the allowlist row (``claw_allowlist``, ``_key`` = proposal key, so a
     repeated write replaces it, never duplicates it);
  3. the proposal's review fields (re-read just before, so the alert action's
     latest evidence is kept);
  4. the decision's state ``complete``.
  A failure after step 1 leaves a recorded decision; the same POST again
  completes steps 2-4 (a different decision gets 409). The KV store has no
  transaction across collections: this is the atomicity on offer, and the
  GET reports an incomplete decision.
- Decisions on one search head are serialised by a file lock.
"""
import hmac
import json
import os
import threading
import time

from claw_ta.feedback.lock import FileLock, LockTimeout
from claw_ta.feedback.splunkd import Collection, Splunkd
from claw_ta.feedback.transport import DeliveryError, RetryPolicy
from claw_ta.review import ALLOWLIST, CAPABILITY, DECISIONS, MAX_DAYS, PROPOSALS
from claw_ta.review.decide import (KEY_RE, ReviewError, decision_record, parse_body, proposal_of,
                                   same_decision, with_review)
from claw_ta import allowlist

_THREAD_LOCK = threading.Lock()


def _pairs(value):
    """splunkd sends headers, cookies, query and form as [[name, value], ...] (or an object)."""
    if isinstance(value, dict):
        return list(value.items())
    return [tuple(p) for p in (value or []) if isinstance(p, (list, tuple)) and len(p) == 2]


def reply(status, payload):
    return {"status": status, "payload": payload, "headers": {"Content-Type": "application/json",
                                                              "Cache-Control": "no-store"}}


def error(status, message):
    return reply(status, {"error": message})


class Request(object):
    def __init__(self, raw):
        self.method = str(raw.get("method") or "").upper()
        session = raw.get("session") or {}
        self.user = session.get("user") or ""
        self.authtoken = session.get("authtoken") or ""
        self.system_authtoken = raw.get("system_authtoken") or ""
        self.rest_uri = (raw.get("server") or {}).get("rest_uri") or "https://127.0.0.1:8089"
        self.headers = {k.lower(): v for k, v in _pairs(raw.get("headers"))}
        self.cookies = dict(_pairs(raw.get("cookies")))
        self.query = dict(_pairs(raw.get("query")))
        self.payload = raw.get("payload") or ""


def check_csrf(request):
    """Raise ReviewError unless a POST is one a browser on another site could not have sent."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ReviewError(415, "Content-Type: expected application/json")
    browser = {k: v for k, v in request.cookies.items() if k.startswith(("splunkd_", "splunkweb_csrf_token_"))}
    if not browser:
        return  # a token or session key in the Authorization header: not sent by a browser on its own
    expected = [v for k, v in browser.items() if k.startswith("splunkweb_csrf_token_")]
    sent = request.headers.get("x-splunk-form-key", "")
    if not sent:
        raise ReviewError(403, "CSRF: the X-Splunk-Form-Key header is missing")
    if not expected or not any(hmac.compare_digest(sent, v) for v in expected):
        raise ReviewError(403, "CSRF: X-Splunk-Form-Key does not match the splunkweb_csrf_token cookie")


class Review(object):
    """The endpoint's work for one request; ``splunkd_for(token)`` builds the REST client."""

    def __init__(self, request, splunkd_for, now=None, lock_path=None):
        self.request = request
        self.splunkd_for = splunkd_for
        self.now = time.time() if now is None else now
        self.lock_path = lock_path

    def caller(self):
        """The caller's user name, once its own session shows the capability; ReviewError 401/403."""
        if not self.request.authtoken:
            raise ReviewError(401, "not logged in")
        try:
            answer = self.splunkd_for(self.request.authtoken).call("GET", "authentication/current-context")
            content = answer["entry"][0]["content"]
        except (DeliveryError, KeyError, IndexError, TypeError) as err:
            raise ReviewError(401, "cannot read the caller's session: %s" % err)
        user, capabilities = content.get("username") or self.request.user, content.get("capabilities") or []
        if CAPABILITY not in capabilities:
            raise ReviewError(403, "user %s lacks the %s capability (roles claw_reviewer, claw_admin)"
                              % (user, CAPABILITY))
        return user

    def collections(self):
        client = self.splunkd_for(self.request.system_authtoken or self.request.authtoken)
        return Collection(client, PROPOSALS), Collection(client, DECISIONS), Collection(client, ALLOWLIST)

    def get(self):
        key = self.request.query.get("key", "")
        limits = {"max_days": MAX_DAYS, "capability": CAPABILITY}
        if not key:
            return reply(200, dict(limits, user=self.caller()))
        self.caller()
        if not KEY_RE.match(key):
            return error(400, "key: expected the proposal's 64-character idempotency key")
        proposals, decisions, _ = self.collections()
        record = proposals.get(key)
        if record is None:
            return error(404, "key: no proposal %s" % key)
        proposal = proposal_of(record)
        decision = decisions.get(key)
        try:
            scope = list(allowlist.entity_fields_for(proposal["detection"]["id"]))
        except KeyError:
            scope = []
        return reply(200, dict(limits, key=key, status=record.get("status"), proposal=proposal, decision=decision,
                               complete=bool(decision) and decision.get("state") == "complete",
                               scope_fields=[f for f in scope if proposal["entity"].get(f)]))

    def post(self):
        user = self.caller()
        check_csrf(self.request)
        body = parse_body(self.request.payload)
        lock = FileLock(self.lock_path) if self.lock_path else None
        with _THREAD_LOCK:
            try:
                if lock:
                    lock.acquire(wait=10.0, poll=0.05)
            except LockTimeout:
                raise ReviewError(503, "another decision is being written: try again")
            try:
                return self._decide(body, user)
            finally:
                if lock:
                    lock.release()

    def _decide(self, body, user):
        proposals, decisions, rows = self.collections()
        record = proposals.get(body["key"])
        if record is None:
            raise ReviewError(404, "key: no proposal %s" % body["key"])
        proposal = proposal_of(record)
        recorded = decisions.get(body["key"])
        if recorded:
            if not same_decision(recorded, body):
                raise ReviewError(409, "already decided: %s by %s at %s" % (
                    recorded.get("decision"), recorded.get("reviewed_by"), recorded.get("reviewed_at")))
            decision = recorded  # a retry: complete what is missing, keep who decided and when
        else:
            decision = decision_record(body, proposal, user, self.now)
            decisions.save([decision])  # 1. the commit point
        row = json.loads(decision["allowlist_row"]) if decision.get("allowlist_row") else None
        if decision.get("state") == "complete":  # nothing left to do: write nothing (an admin may have
            return self._done(decision, row, True)  # removed the row since; a repeat must not restore it)
        if row is not None:
            rows.save([dict(row, _key=body["key"])])  # 2.
        current = proposals.get(body["key"]) or record  # 3. the action's latest evidence
        proposals.save([dict(with_review(current, decision), updated=decision["reviewed_at"])])
        decision = dict(decision, state="complete")
        decisions.save([decision])  # 4.
        return self._done(decision, row, bool(recorded))

    @staticmethod
    def _done(decision, row, repeated):
        return reply(200, {"key": decision["_key"], "decision": decision["decision"], "status": decision["status"],
                           "reviewed_by": decision["reviewed_by"], "reviewed_at": decision["reviewed_at"],
                           "allowlist_row": row, "repeated": repeated})


def lock_path_for(splunk_home):
    if not splunk_home:
        return None
    folder = os.path.join(splunk_home, "var", "run", "splunk")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return None
    return os.path.join(folder, "claw_review.lock")


def handle(raw, splunkd_for=None, now=None, splunk_home=None):
    """The reply object for one request object (never raises)."""
    try:
        request = Request(raw if isinstance(raw, dict) else {})
        if splunkd_for is None:
            policy = RetryPolicy(max_retries=1, backoff=0.5, deadline=time.monotonic() + 30)

            def splunkd_for(token):
                return Splunkd(request.rest_uri, token, policy, timeout=10.0)
        review = Review(request, splunkd_for, now,
                        lock_path_for(os.environ.get("SPLUNK_HOME", "") if splunk_home is None else splunk_home))
        if request.method == "GET":
            return review.get()
        if request.method == "POST":
            return review.post()
        return error(405, "method: expected GET or POST")
    except ReviewError as err:
        return error(err.status, str(err))
    except DeliveryError as err:
        return error(502, "KV store: %s" % err)

