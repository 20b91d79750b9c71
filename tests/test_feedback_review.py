"""claw_policy_feedback in review mode (KV store through splunkd REST), hostile
result values in both modes, and bad payloads/configuration.

Failure cases exercised: KV store answering 503 (retried, then kept in the
outbox and saved on the next trigger), a reviewer's decision surviving a
re-trigger, rows without any entity field, a missing results file, a bad
payload, a bad parameter (named in the error), no ``--execute``.
"""
import json
import os
import subprocess

import jsonschema
import pytest

from tests import paths
from tests.support import feedback_servers as fs
from tests.support.feedback_fixtures import home, pki, splunkd  # noqa: F401 (fixtures)

SCHEMA = json.load(open(os.path.join(paths.APP, "README", "claw_policy_proposal.schema.json"), encoding="utf-8"))
MEGA = "/opt/" + "A" * (1024 * 1024) + ".so"
HOSTILE = [
    {"detection_id": "claw_library_from_writable_path", "subject_digest": 'sha256:"quoted",\'single\'',
     "library_path": "/tmp/line1\nline2\r\nevent=applied key=\"forged\"", "host": "n\u00f6de-\u4e2d\u6587-\U0001F600"},
    {"detection_id": "claw_unlisted_library_load", "subject_digest": "=cmd|' /C calc'!A0",
     "library_path": "+SUM(1,2)", "namespace": "@evil", "host": "-2+3"},
    {"detection_id": "claw_unlisted_library_load", "subject_digest": "sha256:" + "d" * 64, "library_path": MEGA,
     "host": "node-3"},
]
VALUES = [HOSTILE[0]["subject_digest"], HOSTILE[0]["library_path"], HOSTILE[0]["host"],
          HOSTILE[1]["subject_digest"], HOSTILE[1]["library_path"], HOSTILE[1]["namespace"], MEGA]


def review(**over):
    cfg = {"mode": "review", "timeout": "2", "max_retries": "2", "backoff": "0.05", "deadline": "30"}
    cfg.update(over)
    return cfg


def results(home, rows, name="results.csv.gz"):
    return fs.write_results(os.path.join(home, name), rows)


def outbox(home, mode="review"):
    folder = os.path.join(home, "var", "lib", "splunk", "claw_policy_feedback", mode, "outbox")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


ROW = {"detection_id": "claw_low_slsa_in_prod", "subject_digest": "sha256:" + "e" * 64, "namespace": "payments",
       "host": "node-1", "severity": "medium", "_time": "1763647402"}


def test_review_saves_pending_proposals(splunk_python, home, splunkd):
    proc = fs.run_action(splunk_python, home, splunkd.url, results(home, [ROW]), review(min_slsa_level="3"))
    assert proc.returncode == 0, proc.stderr
    (record,) = splunkd.kv.values()
    assert record["status"] == "pending" and record["change_action"] == "require_slsa"
    assert record["min_slsa_level"] == 3 and record["namespace"] == "payments"
    proposal = json.loads(record["proposal"])
    jsonschema.validate(proposal, SCHEMA)
    assert proposal["idempotency_key"] == record["_key"]
    assert proposal["change"] == {"action": "require_slsa", "target": {"namespace": "payments"},
                                  "params": {"min_slsa_level": 3}}
    assert ("GET", "/servicesNS/nobody/TA-claw-runtime/storage/passwords/claw_policy_feedback%3Apolicy_engine%3A") \
        not in splunkd.calls  # review mode never reads the token


def test_retrigger_keeps_the_reviewers_decision(splunk_python, home, splunkd):
    fs.run_action(splunk_python, home, splunkd.url, results(home, [ROW]), review())
    (key,) = splunkd.kv
    splunkd.kv[key].update(status="approved", reviewed_by="alice", review_note="ok")
    later = dict(ROW, _time="1763650000")
    proc = fs.run_action(splunk_python, home, splunkd.url, results(home, [later]), review())
    assert proc.returncode == 0, proc.stderr
    assert list(splunkd.kv) == [key]
    record = splunkd.kv[key]
    assert (record["status"], record["reviewed_by"], record["times_seen"]) == ("approved", "alice", 2)
    assert record["last_seen"] == "2025-11-20T14:46:40Z" and record["first_seen"] == "2025-11-20T14:03:22Z"


def test_kvstore_down_keeps_proposals_for_the_next_trigger(splunk_python, home, splunkd):
    splunkd.fail_next = [503, 503, 503]
    proc = fs.run_action(splunk_python, home, splunkd.url, results(home, [ROW]), review())
    assert proc.returncode == 2
    assert splunkd.kv == {} and len(outbox(home)) == 1
    assert fs.log_text(home).count("event=retry") == 2
    proc = fs.run_action(splunk_python, home, splunkd.url, results(home, [], "empty.csv.gz"), review())
    assert proc.returncode == 0, proc.stderr
    assert outbox(home) == [] and list(splunkd.saves.values()) == [1]


@pytest.mark.parametrize("mode", ["review", "push"])
def test_hostile_values_are_carried_verbatim(splunk_python, home, splunkd, pki, mode):
    rows = HOSTILE + [{"unrelated": "no entity here"}]
    engine = fs.PolicyEngine(pki["cert"], pki["key"])
    try:
        cfg = review() if mode == "review" else {
            "mode": "push", "policy_engine_url": engine.url + "/p", "ca_bundle": pki["ca"], "backoff": "0.05"}
        proc = fs.run_action(splunk_python, home, splunkd.url, results(home, rows), cfg)
        assert proc.returncode == 0, proc.stderr
        if mode == "review":
            proposals = [json.loads(r["proposal"]) for r in splunkd.kv.values()]
            assert {r["library_path"] for r in splunkd.kv.values()} == {r["library_path"] for r in HOSTILE}
        else:
            proposals = [json.loads(r["body"].decode("utf-8")) for r in engine.requests]
    finally:
        engine.stop()
    assert len(proposals) == 3  # the row without an entity is skipped, the others are not
    carried = set()
    for proposal in proposals:
        jsonschema.validate(proposal, SCHEMA)
        carried.update(proposal["entity"].values())
    assert set(VALUES) <= carried
    log = fs.log_text(home)
    assert "event=result_skipped row=4" in log
    lines = log.splitlines()
    assert all(line[:4].isdigit() for line in lines), "a value broke out of its log line"
    assert len(log) < 20000  # the megabyte value is not copied into the log
    assert fs.TOKEN not in log and fs.SESSION_KEY not in log


def test_bad_parameter_is_named_and_proposals_are_kept(splunk_python, home, splunkd):
    proc = fs.run_action(splunk_python, home, splunkd.url, results(home, [ROW]), review(timeout="soon"))
    assert proc.returncode == 3
    assert "timeout: expected a number" in proc.stderr.decode("utf-8")
    assert len(outbox(home)) == 1 and splunkd.kv == {}
    proc = fs.run_action(splunk_python, home, splunkd.url, results(home, []), review())
    assert proc.returncode == 0 and len(splunkd.kv) == 1


@pytest.mark.parametrize("param,value", [("mode", "block"), ("change", "delete_cluster"),
                                         ("min_slsa_level", "9"), ("insecure_http", "maybe"),
                                         ("credential_name", "a:b"), ("max_retries", "-1")])
def test_each_bad_parameter_gives_an_error_naming_it(splunk_python, home, splunkd, param, value):
    proc = fs.run_action(splunk_python, home, splunkd.url, results(home, [ROW]), review(**{param: value}))
    assert proc.returncode == 3
    assert param + ":" in proc.stderr.decode("utf-8")
    assert splunkd.kv == {}


def test_missing_results_file_and_bad_payloads(splunk_python, home, splunkd):
    proc = fs.run_action(splunk_python, home, splunkd.url, os.path.join(home, "gone.csv.gz"), review())
    assert proc.returncode == 3 and "event=results_unreadable" in fs.log_text(home)
    env = dict(os.environ, SPLUNK_HOME=home)
    for stdin, args in ((b"{not json", ["--execute"]), (b"[1, 2]", ["--execute"]), (b"{}", [])):
        bad = subprocess.run([splunk_python, fs.SCRIPT] + args, input=stdin, capture_output=True, env=env,
                             timeout=60)
        assert bad.returncode == 3, (stdin, args)
        assert b"Traceback" not in bad.stderr
