"""claw_ta.feedback without processes: proposals, idempotency keys, the schema,
the results reader, retry timing, the outbox and applied-keys store."""
import gzip
import json
import os

import jsonschema
import pytest

from claw_ta.feedback import proposal, store, transport
from tests import paths

SCHEMA = json.load(open(os.path.join(paths.APP, "README", "claw_policy_proposal.schema.json"), encoding="utf-8"))
EXAMPLE = os.path.join(paths.DATA, "feedback", "proposal_example.json")
SUBJECT = "sha256:" + "1" * 64
IMAGE = "sha256:" + "2" * 64


def build(rows, **kw):
    found, problems = proposal.build_proposals(rows, {"sid": "s1", "search_name": "n"}, **kw)
    for item in found:
        jsonschema.validate(item, SCHEMA)
    return found, problems


@pytest.mark.parametrize("detection,row,action,target", [
    ("claw_unlisted_library_load", {"subject_digest": SUBJECT, "library_path": "/l.so"}, "deny_library",
     {"subject_digest": SUBJECT, "library_path": "/l.so"}),
    ("claw_low_slsa_in_prod", {"subject_digest": SUBJECT, "namespace": "prod-a"}, "require_slsa",
     {"namespace": "prod-a"}),
    ("claw_manifest_digest_mismatch", {"expected_digest": SUBJECT, "observed_digest": IMAGE, "host": "h"},
     "quarantine_image", {"image_digest": IMAGE}),
    ("claw_nonprod_image_in_prod", {"image_digest": IMAGE, "image_ref": "r/x:1"}, "quarantine_image",
     {"image_digest": IMAGE}),
    ("claw_sensor_silent", {"host": "h1", "agent_id": "a1"}, "investigate", {"host": "h1", "agent_id": "a1"}),
    ("claw_unlisted_library_load", {"subject_digest": SUBJECT}, "investigate", {"subject_digest": SUBJECT}),
])
def test_change_per_detection(detection, row, action, target):
    (item,), _ = build([dict(row, detection_id=detection)])
    assert item["change"]["action"] == action and item["change"]["target"] == target
    if action == "require_slsa":
        assert item["change"]["params"] == {"min_slsa_level": 2}


def test_allowlist_candidate_fills_the_allowlist_columns():
    row = {"detection_id": "claw_unlisted_library_load", "subject_digest": SUBJECT, "library_path": "/l.so",
           "namespace": "dev", "host": "h", "image_digest": IMAGE}
    (item,), _ = build([row], change="allowlist")
    assert item["change"]["target"] == {"detection_id": "claw_unlisted_library_load", "subject_digest": SUBJECT,
                                        "library_path": "/l.so", "namespace": "dev", "host": "h",
                                        "image_digest": IMAGE}


def test_key_ignores_evidence_and_hosts_but_not_the_change():
    a = {"detection_id": "claw_unlisted_library_load", "subject_digest": SUBJECT, "library_path": "/l.so",
         "host": "h1", "_time": "1"}
    b = dict(a, host="h2", _time="999", count="4")
    (one,), _ = build([a])
    (merged,), _ = build([a, b])
    assert one["idempotency_key"] == merged["idempotency_key"]
    assert merged["evidence"]["result_count"] == 5 and merged["evidence"]["hosts"] == ["h1", "h2"]
    assert merged["evidence"]["first_seen"] == "1970-01-01T00:00:01Z"
    (other,), _ = build([dict(a, library_path="/m.so")])
    assert other["idempotency_key"] != one["idempotency_key"]
    (slsa3,), _ = build([{"detection_id": "claw_low_slsa_in_prod", "namespace": "p"}], min_slsa_level=3)
    (slsa2,), _ = build([{"detection_id": "claw_low_slsa_in_prod", "namespace": "p"}])
    assert slsa3["idempotency_key"] != slsa2["idempotency_key"]


def test_key_is_the_documented_hash():
    (item,), _ = build([{"detection_id": "claw_unlisted_library_load", "subject_digest": SUBJECT,
                         "library_path": "/l.so"}])
    import hashlib
    canonical = json.dumps({"v": 1, "detection_id": "claw_unlisted_library_load", "change": item["change"]},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert item["idempotency_key"] == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_rows_without_entity_or_with_a_bad_change_are_reported_not_fatal():
    rows = [{"foo": "bar"}, {"detection_id": "x", "host": "h"}]
    found, problems = build(rows)
    assert len(found) == 1 and problems[0][0] == 1
    found, problems = build([{"host": "h"}], change="nuke")
    assert found == [] and "unknown change action 'nuke'" in problems[0][1]


def test_shipped_example_validates_and_schema_rejects_bad_proposals():
    with open(EXAMPLE, encoding="utf-8") as handle:
        example = json.load(handle)
    jsonschema.validate(example, SCHEMA)
    for broken in ({"idempotency_key": "abc"}, {"schema": "v0"},
                   {"change": {"action": "require_slsa", "target": {"namespace": "p"}, "params": {}}},
                   {"change": {"action": "rm -rf", "target": {"a": "b"}, "params": {}}}):
        bad = dict(example, **broken)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, SCHEMA)


def test_read_results_handles_megabyte_fields_and_mv_columns(tmp_path):
    path = str(tmp_path / "r.csv.gz")
    big = "x" * (1024 * 1024 + 7)
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        handle.write('library_path,host,__mv_host,empty\r\n"%s","a\nb","$a$;$b$",\r\n' % big)
    (row,) = list(proposal.read_results(path))
    assert row == {"library_path": big, "host": "a\nb"}


def test_iso_time():
    assert proposal.iso_time("1763647402.5") == "2025-11-20T14:03:22Z"
    assert proposal.iso_time("2025-11-20T14:03:22Z") == "2025-11-20T14:03:22Z"
    assert proposal.iso_time("1e300") == "1e300" and proposal.iso_time("") is None


def test_retry_policy_backoff_retry_after_and_deadline():
    clock = [0.0]
    policy = transport.RetryPolicy(max_retries=5, backoff=1, max_backoff=8, max_retry_after=30,
                                   deadline=100, clock=lambda: clock[0])
    for attempt, high in ((1, 1), (2, 2), (3, 4), (4, 8), (5, 8)):
        assert high / 2 <= policy.delay(attempt) <= high
    assert policy.delay(1, retry_after=20) == 20
    assert policy.delay(1, retry_after=31) is None
    clock[0] = 99.9
    assert policy.delay(1) is None
    assert transport.parse_retry_after("7") == 7.0
    assert transport.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470) == 10.0
    assert transport.parse_retry_after("soon") is None


def test_check_url():
    transport.check_url("https://claw.example.com/p")
    transport.check_url("http://claw.example.com/p", allow_http=True)
    for url in ("http://claw.example.com/p", "ftp://x/", "file:///etc/passwd", "https:///nohost", ""):
        with pytest.raises(ValueError, match="policy_engine_url"):
            transport.check_url(url, name="policy_engine_url")
    assert transport.is_loopback("https://127.0.0.1:8089") and transport.is_loopback("https://[::1]:8089")
    assert not transport.is_loopback("https://splunk.example.com:8089")


def _proposal(library="/l.so"):
    (item,), _ = build([{"detection_id": "claw_unlisted_library_load", "subject_digest": SUBJECT,
                         "library_path": library, "host": "h\u00e9\n"}])
    return item


def test_store_outbox_applied_keys_and_dead_letters(tmp_path):
    box = store.Store(str(tmp_path), "push-0123456789abcdef")
    item = _proposal()
    key = item["idempotency_key"]
    box.keep(item, "HTTP 500")
    (entry,) = box.pending()
    assert entry["proposal"] == item and entry["attempts"] == 1
    box.keep(item, "HTTP 500", entry)
    assert box.pending()[0]["attempts"] == 2
    box.mark_applied(key)
    box.drop(key)
    assert box.pending() == [] and box.applied_keys() == {key}
    with open(os.path.join(box.outbox_dir, "b" * 64 + ".json"), "w") as handle:
        handle.write("{truncated")
    assert box.pending() == []  # unreadable entries move to dead/, never crash the run
    assert os.listdir(box.dead_dir) == ["b" * 64 + ".json.malformed"]
    other = _proposal("/other.so")
    entry = {"attempts": store.MAX_TRIGGER_ATTEMPTS - 1}
    assert box.keep(other, "still failing", entry) is False
    assert (other["idempotency_key"] + ".json") in os.listdir(box.dead_dir)
    with pytest.raises(ValueError):
        box.keep(dict(item, idempotency_key="../../etc/passwd"), "x")


def test_store_lock_excludes_a_second_run(tmp_path):
    first = store.Store(str(tmp_path), "review")
    second = store.Store(str(tmp_path), "review")
    first.acquire()
    with pytest.raises(store.LockTimeout):
        second.acquire(wait=0.3, poll=0.05)
    first.release()
    second.acquire(wait=0.3)
    second.release()
