"""splunkd REST calls made with the session key splunkd hands the alert script.

- ``get_token``: the policy engine's bearer token from ``storage/passwords``
  (realm ``claw_policy_feedback``, user name from the action's
  ``credential_name``); the token is returned, never logged.
- ``KVStore``: the ``claw_policy_proposals`` collection (review mode).
"""
import json
import re
import urllib.parse

from claw_ta import APP_NAME
from claw_ta.feedback import COLLECTION, CREDENTIAL_REALM
from claw_ta.feedback.transport import DeliveryError, is_loopback, request_with_retries, tls_context

NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


class Splunkd(object):
    def __init__(self, server_uri, session_key, policy, timeout=10.0, app=APP_NAME, on_retry=None):
        self.on_retry = on_retry
        self.base = server_uri.rstrip("/")
        self.session_key = session_key
        self.policy = policy
        self.timeout = timeout
        self.app = app
        # splunkd's default certificate is self-signed: verified only when not on loopback.
        self.context = tls_context(verify=not is_loopback(server_uri))

    def url(self, path, **query):
        query.setdefault("output_mode", "json")
        return "%s/servicesNS/nobody/%s/%s?%s" % (
            self.base, urllib.parse.quote(self.app), path, urllib.parse.urlencode(query))

    def call(self, method, path, body=None, **query):
        headers = {"Authorization": "Splunk " + self.session_key}
        if body is not None:
            headers["Content-Type"] = "application/json"
        resp = request_with_retries(method, self.url(path, **query), self.policy, on_retry=self.on_retry, body=body,
                                    headers=headers, timeout=self.timeout, context=self.context)
        return json.loads(resp.body.decode("utf-8")) if resp.body else None

    def get_token(self, credential_name):
        """The clear password stored as realm claw_policy_feedback, user credential_name."""
        if not NAME_RE.match(credential_name or ""):
            raise ValueError("credential_name: expected letters, digits, '_', '.', '-' (got %r)" % credential_name)
        entity = urllib.parse.quote("%s:%s:" % (CREDENTIAL_REALM, credential_name), safe="")
        try:
            answer = self.call("GET", "storage/passwords/" + entity)
        except DeliveryError as err:
            if err.status == 404:
                raise LookupError("no credential realm=%s name=%s in storage/passwords"
                                  % (CREDENTIAL_REALM, credential_name))
            raise
        for entry in (answer or {}).get("entry", []):
            content = entry.get("content", {})
            if content.get("realm") == CREDENTIAL_REALM and content.get("username") == credential_name:
                token = content.get("clear_password")
                if token:
                    return token
        raise LookupError("no credential realm=%s name=%s in storage/passwords" % (CREDENTIAL_REALM, credential_name))


# Fields of a review record besides _key (collections.conf and transforms.conf list the same).
RECORD_FIELDS = (
    "status", "detection_id", "severity", "change_action", "subject_digest", "image_digest", "image_ref",
    "library_path", "library_digest", "namespace", "host", "min_slsa_level", "first_seen", "last_seen",
    "result_count", "times_seen", "sid", "search_name", "created", "updated", "reviewed_by",
    "reviewed_at", "review_note", "allowlist_expires", "proposal",
)
REVIEW_FIELDS = ("status", "reviewed_by", "reviewed_at", "review_note", "allowlist_expires", "created")
KEY_BATCH = 50
SAVE_BATCH = 50


def record_of(proposal, now):
    entity, change, evidence = proposal["entity"], proposal["change"], proposal["evidence"]
    record = {
        "_key": proposal["idempotency_key"],
        "status": "pending",
        "detection_id": proposal["detection"]["id"],
        "severity": proposal["detection"]["severity"],
        "change_action": change["action"],
        "min_slsa_level": change["params"].get("min_slsa_level"),
        "first_seen": evidence["first_seen"],
        "last_seen": evidence["last_seen"],
        "result_count": evidence["result_count"],
        "times_seen": 1,
        "sid": evidence["sid"],
        "search_name": proposal["detection"]["search_name"],
        "created": now,
        "updated": now,
        "proposal": json.dumps(proposal, ensure_ascii=False, sort_keys=True),
    }
    for name in ("subject_digest", "image_digest", "image_ref", "library_path", "library_digest",
                 "namespace", "host"):
        record[name] = entity.get(name)
    # a quarantine of the observed digest reads best with that digest in the image column
    if change["action"] == "quarantine_image" and "image_digest" in change["target"]:
        record["image_digest"] = change["target"]["image_digest"]
    return {k: v for k, v in record.items() if v is not None}


def merge(existing, record):
    """A re-raised proposal: new evidence, the reviewer's decision kept."""
    merged = dict(record)
    for name in REVIEW_FIELDS:
        if name in existing:
            merged[name] = existing[name]
    first = [v for v in (existing.get("first_seen"), record.get("first_seen")) if v]
    if first:
        merged["first_seen"] = min(first)
    try:
        merged["times_seen"] = int(existing.get("times_seen", 1)) + 1
    except (TypeError, ValueError):
        merged["times_seen"] = 2
    return merged


class KVStore(object):
    def __init__(self, splunkd, collection=COLLECTION):
        self.splunkd = splunkd
        self.path = "storage/collections/data/" + collection

    def existing(self, keys):
        found = {}
        for start in range(0, len(keys), KEY_BATCH):
            chunk = keys[start:start + KEY_BATCH]
            query = json.dumps({"$or": [{"_key": k} for k in chunk]})
            for record in self.splunkd.call("GET", self.path, query=query) or []:
                found[record.get("_key")] = record
        return found

    def upsert(self, proposals, now):
        """Save proposals as review records; returns the keys saved."""
        records = [record_of(p, now) for p in proposals]
        found = self.existing([r["_key"] for r in records])
        records = [merge(found[r["_key"]], r) if r["_key"] in found else r for r in records]
        saved = []
        for start in range(0, len(records), SAVE_BATCH):
            chunk = records[start:start + SAVE_BATCH]
            body = json.dumps(chunk, ensure_ascii=False).encode("utf-8")
            self.splunkd.call("POST", self.path + "/batch_save", body=body)
            saved.extend(r["_key"] for r in chunk)
        return saved
