"""splunkd REST calls made with the session key splunkd hands the alert script.

- ``get_token``: the policy engine's bearer token from ``storage/passwords``
  (realm ``claw_policy_feedback``, user name from the action's
  ``credential_name``); the token is returned, never logged.
- ``Collection``: one KV store collection (get by key, query by keys, insert,
  delete, batch_save).
- ``KVStore``: the ``claw_policy_proposals`` collection (review mode), merged
  with the decisions of ``claw_policy_decisions``.
"""
import json
import re
import urllib.parse

from claw_ta import APP_NAME
from claw_ta.feedback import COLLECTION, CREDENTIAL_REALM
from claw_ta.records import DECISIONS, REVIEW_FIELDS, with_review
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
KEPT_FIELDS = ("created",)  # kept from the first record of a key
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


def merge(existing, record, decision=None):
    """A re-raised proposal: new evidence; the review fields come from the decision of record
    (``claw_policy_decisions``), else stay as the existing record has them."""
    merged = dict(record)
    for name in KEPT_FIELDS + REVIEW_FIELDS:
        if name in existing:
            merged[name] = existing[name]
    if decision:
        merged = with_review(merged, decision)
    first = [v for v in (existing.get("first_seen"), record.get("first_seen")) if v]
    if first:
        merged["first_seen"] = min(first)
    try:
        merged["times_seen"] = int(existing.get("times_seen", 1)) + 1
    except (TypeError, ValueError):
        merged["times_seen"] = 2
    return merged


class Collection(object):
    """One KV store collection of the app, through splunkd's storage/collections/data API."""

    def __init__(self, splunkd, name):
        self.splunkd = splunkd
        self.path = "storage/collections/data/" + name

    def get(self, key):
        """The record with ``_key`` = key, or None."""
        try:
            return self.splunkd.call("GET", self.path + "/" + urllib.parse.quote(key, safe=""))
        except DeliveryError as err:
            if err.status == 404:
                return None
            raise

    def by_keys(self, keys):
        found = {}
        for start in range(0, len(keys), KEY_BATCH):
            chunk = keys[start:start + KEY_BATCH]
            query = json.dumps({"$or": [{"_key": k} for k in chunk]})
            for record in self.splunkd.call("GET", self.path, query=query) or []:
                found[record.get("_key")] = record
        return found

    def insert(self, record):
        """Insert a new record (POST to the collection): the KV store refuses a ``_key`` that exists.

        Raises DeliveryError (a 409 from splunkd when the key exists). Callers that
        use the insert as a commit point read the key back after any failure: an
        insert whose answer was lost may have landed.
        """
        body = json.dumps(record, ensure_ascii=False).encode("utf-8")
        return self.splunkd.call("POST", self.path, body=body)

    def delete(self, key):
        """Delete the record ``key``; False when there was none."""
        try:
            self.splunkd.call("DELETE", self.path + "/" + urllib.parse.quote(key, safe=""))
        except DeliveryError as err:
            if err.status == 404:
                return False
            raise
        return True

    def save(self, records):
        """Insert or replace whole records (batch_save, by _key)."""
        for start in range(0, len(records), SAVE_BATCH):
            body = json.dumps(records[start:start + SAVE_BATCH], ensure_ascii=False).encode("utf-8")
            self.splunkd.call("POST", self.path + "/batch_save", body=body)


class KVStore(object):
    """The proposals the action saves for review, merged with the reviewers' decisions."""

    def __init__(self, splunkd):
        self.proposals = Collection(splunkd, COLLECTION)
        self.decisions = Collection(splunkd, DECISIONS)

    def upsert(self, proposals, now):
        """Save proposals as review records; returns the keys saved.

        A decision is never overwritten: the review fields come from the
        decision of record, read before the save and read again after it; a
        decision made in between (the endpoint writes it before it touches
        the proposal) is put back at once.
        """
        records = [record_of(p, now) for p in proposals]
        keys = [r["_key"] for r in records]
        found = self.proposals.by_keys(keys)
        decided = self.decisions.by_keys(keys)
        records = [merge(found[r["_key"]], r, decided.get(r["_key"])) if r["_key"] in found
                   else with_review(r, decided[r["_key"]]) if r["_key"] in decided else r for r in records]
        self.proposals.save(records)
        late = self.decisions.by_keys(keys)
        repaired = [with_review(r, late[r["_key"]]) for r in records
                    if r["_key"] in late and late[r["_key"]] != decided.get(r["_key"])]
        if repaired:
            self.proposals.save(repaired)
        return keys
