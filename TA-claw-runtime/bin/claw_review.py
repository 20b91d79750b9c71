"""claw_review: the review endpoint of TA-claw-runtime (splunkd persistent REST handler).

Syntax (restmap.conf [script:claw_review], match = /claw/review):
    GET  /services/claw/review?key=<proposal key>
    POST /services/claw/review   (Content-Type: application/json)
         {"key": "<proposal key>", "decision": "approve|reject|allowlist",
          "reason": "...", "seen": "<fingerprint from the GET>",
          "expires": "YYYY-MM-DD", "scope": ["subject_digest", ...]}
         {"key": "<proposal key>", "decision": "revoke", "reason": "...", "revision": 0}

Description:
    Records a reviewer's decision on a policy proposal of the
    claw_policy_feedback alert action, bound to the proposal as the reviewer
    read it (seen): the audit record (the commit point, unique on a search
    head cluster), the decision in force, the scoped and expiring allowlist
    row it implies (KV store collection claw_allowlist; by default pinned to
    the proposal's digests), and the proposal's review fields. Callers need
    the claw_review capability (roles claw_reviewer, claw_admin); revoke needs
    claw_admin. GET never changes anything. Through Splunk Web
    (/splunkd/__raw/services/claw/review) a POST carries the X-Splunk-Form-Key
    header Splunk Web checks. Rules: claw_ta/review/.

Example:
    curl -k -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
         https://localhost:8089/services/claw/review \
         -d '{"key": "b592...", "decision": "reject", "reason": "expected behaviour", "seen": "9f1c..."}'
"""
import importlib.util
import json
import os
import sys

BIN = os.path.dirname(os.path.abspath(__file__))


def load_claw_ta():
    """This app's ``claw_ta`` package, imported from its file without putting bin/ on sys.path.

    splunkd runs persistent handlers of every app that share a driver in shared
    processes (restmap.conf.spec): a bin/ first on sys.path would hand other
    apps this app's modules (its bundled splunklib) instead of their own.
    ``claw_ta``'s own imports resolve through the package's ``__path__``. If
    another app's ``claw_ta`` is loaded in the process already, refuse rather
    than run its code.
    """
    loaded = sys.modules.get("claw_ta")
    if loaded is not None:
        origin = os.path.dirname(os.path.dirname(os.path.abspath(getattr(loaded, "__file__", "") or "")))
        if origin != BIN:
            raise ImportError("claw_review: another app's claw_ta (%s) is loaded in this process" % origin)
        return loaded
    folder = os.path.join(BIN, "claw_ta")
    spec = importlib.util.spec_from_file_location("claw_ta", os.path.join(folder, "__init__.py"),
                                                  submodule_search_locations=[folder])
    module = importlib.util.module_from_spec(spec)
    sys.modules["claw_ta"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["claw_ta"]
        raise
    return module


load_claw_ta()

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
