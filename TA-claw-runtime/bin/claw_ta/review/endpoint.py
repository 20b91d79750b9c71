"""One request of the review endpoint ``/services/claw/review`` (splunkd persistent handler).

``handle(request)`` takes the request object splunkd sends a ``scripttype =
persist`` handler (``method``, ``session``, ``system_authtoken``, ``server``,
``query``, ``headers``, ``cookies``, ``payload``; see restmap.conf) and returns
the reply object (``status``, ``payload``, ``headers``).

- Authorisation: splunkd already refuses callers without the ``claw_review``
  capability (restmap.conf ``capability``); the handler checks again with the
  caller's own session (``authentication/current-context``), and a revocation
  also needs ``claw_admin``.
- GET (``?key=<proposal key>``) reads: the proposal, its fingerprint (what a
  decision must name as ``seen``), the decision in force and its revision,
  whether it is complete, whether the allowlist row it wrote is still there,
  the scope fields and the default scope. It never writes anything.
- POST decides or revokes (``claw_ta.review.commit``: the KV store insert of an
  audit record is the cluster-wide commit point). CSRF: ``check_csrf``.
"""
import hmac
import json
import time

from claw_ta import allowlist
from claw_ta.feedback.splunkd import Collection, Splunkd
from claw_ta.feedback.transport import DeliveryError, RetryPolicy
from claw_ta.records import fingerprint, in_force
from claw_ta.review import ADMIN_CAPABILITY, ALLOWLIST, AUDIT, CAPABILITY, DECISIONS, MAX_DAYS, PROPOSALS
from claw_ta.review import commit, settings
from claw_ta.review.decide import KEY_RE, REVOKE, ReviewError, default_scope, parse_body, proposal_of


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
    """Raise ReviewError unless a POST is one a page on another site could not have made a browser send.

    - The body must be ``Content-Type: application/json``: a form on another
      site cannot send that, and a script on another site can only after a CORS
      preflight that neither Splunk Web nor splunkd grants by default. This
      covers every path: through Splunk Web's ``/splunkd/__raw`` proxy (which
      checks its own form key on POSTs before it forwards them) and straight
      to splunkd with a token, a session key or a ``splunkd_<port>`` cookie.
    - When Splunk Web's form key reaches the handler both as the
      ``X-Splunk-Form-Key`` header and as the ``splunkweb_csrf_token_<port>``
      cookie, they must agree. Which of them Splunk Web forwards to splunkd is
      not documented: the handler never requires either one.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ReviewError(415, "Content-Type: expected application/json")
    sent = request.headers.get("x-splunk-form-key", "")
    expected = [v for k, v in request.cookies.items() if k.startswith("splunkweb_csrf_token_")]
    if sent and expected and not any(hmac.compare_digest(sent, v) for v in expected):
        raise ReviewError(403, "CSRF: X-Splunk-Form-Key does not match the splunkweb_csrf_token cookie")


class Review(object):
    """The endpoint's work for one request; ``splunkd_for(token)`` builds the REST client."""

    def __init__(self, request, splunkd_for, now=None, site=None):
        self.request = request
        self.splunkd_for = splunkd_for
        self.now = time.time() if now is None else now
        self.site = site  # claw_review.conf settings (read per request when None)

    def caller(self):
        """(user name, capabilities), once the caller's own session shows claw_review; ReviewError 401/403."""
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
        return user, capabilities

    def collections(self):
        client = self.splunkd_for(self.request.system_authtoken or self.request.authtoken)
        return (Collection(client, PROPOSALS), Collection(client, DECISIONS), Collection(client, AUDIT),
                Collection(client, ALLOWLIST))

    def get(self):
        key = self.request.query.get("key", "")
        limits = {"max_days": MAX_DAYS, "capability": CAPABILITY}
        user, capabilities = self.caller()
        limits["can_revoke"] = ADMIN_CAPABILITY in capabilities
        if not key:
            return reply(200, dict(limits, user=user))
        if not KEY_RE.match(key):
            return error(400, "key: expected the proposal's 64-character idempotency key")
        proposals, decisions, audits, rows = self.collections()
        record = proposals.get(key)
        if record is None:
            return error(404, "key: no proposal %s" % key)
        proposal = proposal_of(record)
        decision = decisions.get(key)
        try:
            scope = list(allowlist.entity_fields_for(proposal["detection"]["id"]))
        except KeyError:
            scope = []
        status, row_state = (record.get("status") or "pending"), None
        if in_force(decision) and decision.get("allowlist_row"):
            row_state = self._row_state(rows.get(key))
            if row_state != "present":
                status = "allowlist_%s" % row_state  # not shown as allowlisted: the row no longer suppresses
        uncommitted = None
        if not in_force(decision):  # a decision committed (audit) whose later writes never ran
            uncommitted = audits.get(commit.audit_key(key, commit.next_revision(decision), "decision"))
        return reply(200, dict(limits, key=key, status=status, proposal=proposal, fingerprint=fingerprint(proposal),
                               decision=decision, revision=commit.next_revision(decision) - 1 if decision else None,
                               complete=in_force(decision) and decision.get("state") == "complete",
                               allowlist_row=row_state, uncommitted=uncommitted,
                               scope_fields=[f for f in scope if proposal["entity"].get(f)],
                               scope_default=default_scope(scope, proposal["entity"])))

    def _row_state(self, row):
        if row is None:
            return "missing"  # an admin deleted it by hand: revoke, then decide again
        return "present" if allowlist.is_active(row, self.now) else "expired"

    def post(self):
        user, capabilities = self.caller()
        check_csrf(self.request)
        body = parse_body(self.request.payload)
        if body["decision"] == REVOKE:
            if ADMIN_CAPABILITY not in capabilities:
                raise ReviewError(403, "user %s lacks the %s capability (role claw_admin): only an add-on "
                                       "administrator revokes a decision" % (user, ADMIN_CAPABILITY))
            decision, repeated = commit.revoke(self.collections(), body, user, self.now)
        else:
            try:
                site = self.site if self.site is not None else settings.load()
            except settings.SettingsError as err:
                raise ReviewError(500, str(err))
            decision, repeated = commit.decide(self.collections(), body, user, self.now, site["second_reviewer_for"])
        return self._done(decision, repeated)

    @staticmethod
    def _done(decision, repeated):
        row = decision.get("allowlist_row")
        return reply(200, {"key": decision["_key"], "decision": decision["decision"], "status": decision["status"],
                           "reviewed_by": decision["reviewed_by"], "reviewed_at": decision["reviewed_at"],
                           "revision": decision.get("revision", 0), "state": decision.get("state"),
                           "revoked_by": decision.get("revoked_by"), "second_by": decision.get("second_by"),
                           "allowlist_row": json.loads(row) if row else None, "repeated": repeated})


def handle(raw, splunkd_for=None, now=None, site=None):
    """The reply object for one request object (never raises)."""
    try:
        request = Request(raw if isinstance(raw, dict) else {})
        if splunkd_for is None:
            policy = RetryPolicy(max_retries=1, backoff=0.5, deadline=time.monotonic() + 30)

            def splunkd_for(token):
                return Splunkd(request.rest_uri, token, policy, timeout=10.0)
        review = Review(request, splunkd_for, now, site)
        if request.method == "GET":
            return review.get()
        if request.method == "POST":
            return review.post()
        return error(405, "method: expected GET or POST")
    except ReviewError as err:
        return error(err.status, str(err))
    except DeliveryError as err:
        return error(502, "KV store: %s" % err)
