"""claw_policy_feedback in push mode, run as splunkd runs it, against loopback servers.

Failure cases exercised: success; 500 then success; 429 with Retry-After;
a timeout (within a run, and across two triggers with the engine having
applied the first attempt); a certificate from an untrusted CA; a
certificate for another host name; plain http:// without the insecure flag
(refused) and with it; a missing token. Every test checks that neither the
token nor the session key reaches the log, stdout or stderr.
"""
import glob
import json
import os

import jsonschema
import pytest

from tests import paths
from tests.support import feedback_servers as fs
from tests.support.feedback_fixtures import home, pki, servers, splunkd  # noqa: F401 (fixtures)

DETECTION = "claw_unlisted_library_load"
SCHEMA = json.load(open(os.path.join(paths.APP, "README", "claw_policy_proposal.schema.json"), encoding="utf-8"))
ROWS = [
    {"detection_id": DETECTION, "subject_digest": "sha256:" + "a" * 64, "library_path": "/tmp/libevil.so",
     "library_digest": "sha256:" + "b" * 64, "host": "node-1", "namespace": "payments", "count": "3",
     "firstTime": "1763647402", "lastTime": "1763647502", "severity": "high"},
    {"detection_id": DETECTION, "subject_digest": "sha256:" + "c" * 64, "library_path": "/usr/lib/libx.so",
     "host": "node-2", "namespace": "payments", "severity": "high"},
]


def engine(servers, pki, script=None, prefix="", tls=True):
    server = fs.PolicyEngine(pki[prefix + "cert"] if tls else None, pki[prefix + "key"] if tls else None, script)
    servers.append(server)
    return server


def config(engine_server, pki, **over):
    cfg = {"mode": "push", "policy_engine_url": engine_server.url + "/v1/proposals", "ca_bundle": pki["ca"],
           "timeout": "2", "max_retries": "3", "backoff": "0.05", "max_retry_after": "5", "deadline": "30"}
    cfg.update(over)
    return cfg


def results(home, rows=ROWS, name="results.csv.gz"):
    return fs.write_results(os.path.join(home, name), rows)


def outbox(home):
    """Every push destination's outbox (one folder per engine URL: push-<hash>)."""
    root = os.path.join(home, "var", "lib", "splunk", "claw_policy_feedback")
    names = []
    for folder in glob.glob(os.path.join(root, "push-*", "outbox")):
        names.extend(os.listdir(folder))
    return sorted(names)


def assert_no_secrets(home, *procs):
    texts = [fs.log_text(home)]
    for proc in procs:
        texts.extend([proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")])
    for root, _, files in os.walk(os.path.join(home, "var")):
        for name in files:
            with open(os.path.join(root, name), encoding="utf-8", errors="replace") as handle:
                texts.append(handle.read())
    for text in texts:
        assert fs.TOKEN not in text
        assert fs.SESSION_KEY not in text


def test_success_applies_each_key_once_and_sends_the_token_only_in_the_header(splunk_python, home, splunkd,
                                                                              servers, pki):
    eng = engine(servers, pki)
    proc = fs.run_action(splunk_python, home, splunkd.url, results(home), config(eng, pki))
    assert proc.returncode == 0, proc.stderr
    assert len(eng.requests) == 2
    for req in eng.requests:
        assert req["headers"]["Authorization"] == "Bearer " + fs.TOKEN
        body = json.loads(req["body"].decode("utf-8"))
        jsonschema.validate(body, SCHEMA)
        assert req["headers"]["Idempotency-Key"] == body["idempotency_key"]
        assert body["change"]["action"] == "deny_library"
        assert fs.TOKEN not in req["body"].decode("utf-8")
    first = json.loads(eng.requests[0]["body"])
    assert first["evidence"]["result_count"] == 3 and first["evidence"]["first_seen"] == "2025-11-20T14:03:22Z"
    assert first["entity"]["library_digest"] == "sha256:" + "b" * 64
    # the same results again (the alert fires again): nothing is sent twice
    again = fs.run_action(splunk_python, home, splunkd.url, results(home), config(eng, pki))
    assert again.returncode == 0
    assert len(eng.requests) == 2 and all(n == 1 for n in eng.apply_count.values())
    log = fs.log_text(home)
    assert log.count("event=applied ") == 2 and log.count("event=already_applied ") == 2
    assert outbox(home) == []
    assert_no_secrets(home, proc, again)


def test_500_then_success_is_retried_within_the_run(splunk_python, home, splunkd, servers, pki):
    eng = engine(servers, pki, [{"status": 500}, {"status": 200}])
    proc = fs.run_action(splunk_python, home, splunkd.url, results(home, ROWS[:1]), config(eng, pki))
    assert proc.returncode == 0, proc.stderr
    assert len(eng.requests) == 2 and list(eng.apply_count.values()) == [1]
    assert "event=retry" in fs.log_text(home) and "HTTP 500" in fs.log_text(home)
    assert_no_secrets(home, proc)


def test_429_waits_for_retry_after(splunk_python, home, splunkd, servers, pki):
    eng = engine(servers, pki, [{"status": 429, "headers": {"Retry-After": "1"}}, {"status": 201}])
    proc = fs.run_action(splunk_python, home, splunkd.url, results(home, ROWS[:1]), config(eng, pki))
    assert proc.returncode == 0, proc.stderr
    assert len(eng.requests) == 2
    assert eng.requests[1]["time"] - eng.requests[0]["time"] >= 0.95
    assert_no_secrets(home, proc)


def test_429_longer_than_allowed_is_kept_for_the_next_trigger(splunk_python, home, splunkd, servers, pki):
    eng = engine(servers, pki, [{"status": 429, "headers": {"Retry-After": "3600"}}])
    proc = fs.run_action(splunk_python, home, splunkd.url, results(home, ROWS[:1]), config(eng, pki))
    assert proc.returncode == 2
    assert len(eng.requests) == 1 and len(outbox(home)) == 1


def test_timeout_is_retried_and_applied_once(splunk_python, home, splunkd, servers, pki):
    # the engine applies the first attempt but answers after the client gave up
    eng = engine(servers, pki, [{"status": 200, "delay": 3}, {"status": 200}])
    proc = fs.run_action(splunk_python, home, splunkd.url, results(home, ROWS[:1]), config(eng, pki, timeout="1"))
    assert proc.returncode == 0, proc.stderr
    assert len(eng.requests) == 2
    assert eng.requests[0]["headers"]["Idempotency-Key"] == eng.requests[1]["headers"]["Idempotency-Key"]
    assert list(eng.apply_count.values()) == [1]
    assert "timed out" in fs.log_text(home)


def test_failed_delivery_is_kept_then_retried_on_next_trigger_and_applied_once(splunk_python, home, splunkd,
                                                                               servers, pki):
    eng = engine(servers, pki, [{"status": 200, "delay": 3}])
    first = fs.run_action(splunk_python, home, splunkd.url, results(home, ROWS[:1]),
                          config(eng, pki, timeout="1", max_retries="0"))
    assert first.returncode == 2
    assert len(outbox(home)) == 1 and "event=kept" in fs.log_text(home)
    # next trigger of another detection run: no new results, the outbox goes first
    second = fs.run_action(splunk_python, home, splunkd.url, results(home, [], "empty.csv.gz"), config(eng, pki))
    assert second.returncode == 0, second.stderr
    assert outbox(home) == []
    assert len(eng.requests) == 2 and list(eng.apply_count.values()) == [1]
    third = fs.run_action(splunk_python, home, splunkd.url, results(home, ROWS[:1]), config(eng, pki))
    assert third.returncode == 0 and len(eng.requests) == 2
    assert_no_secrets(home, first, second, third)


@pytest.mark.parametrize("prefix", ["rogue_", "wronghost_"])
def test_bad_certificate_is_refused_and_not_retried(splunk_python, home, splunkd, servers, pki, prefix):
    eng = engine(servers, pki, prefix=prefix)
    proc = fs.run_action(splunk_python, home, splunkd.url, results(home), config(eng, pki))
    assert proc.returncode == 2
    assert eng.requests == []
    log = fs.log_text(home)
    assert "certificate" in log.lower() and "event=retry" not in log
    assert len(outbox(home)) == 2  # kept, not lost
    assert_no_secrets(home, proc)


def test_plain_http_is_refused_without_the_insecure_flag(splunk_python, home, splunkd, servers, pki):
    eng = engine(servers, pki, tls=False)
    proc = fs.run_action(splunk_python, home, splunkd.url, results(home), config(eng, pki))
    assert proc.returncode == 3
    assert eng.requests == []
    assert "policy_engine_url: plain http:// is refused" in fs.log_text(home)
    assert "policy_engine_url" in proc.stderr.decode("utf-8")
    assert len(outbox(home)) == 2
    # with the explicit flag, the kept proposals are delivered
    allowed = fs.run_action(splunk_python, home, splunkd.url, results(home, [], "none.csv.gz"),
                            config(eng, pki, insecure_http="1"))
    assert allowed.returncode == 0, allowed.stderr
    assert len(eng.requests) == 2 and outbox(home) == []
    assert_no_secrets(home, proc, allowed)


def test_missing_token_keeps_proposals(splunk_python, home, splunkd, servers, pki):
    eng = engine(servers, pki)
    proc = fs.run_action(splunk_python, home, splunkd.url, results(home),
                         config(eng, pki, credential_name="other_engine"))
    assert proc.returncode == 2
    assert eng.requests == [] and len(outbox(home)) == 2
    assert "no credential realm=claw_policy_feedback name=other_engine" in fs.log_text(home)


def test_engine_down_keeps_everything(splunk_python, home, splunkd, servers, pki):
    eng = engine(servers, pki)
    url = eng.url
    eng.stop()
    servers.remove(eng)
    cfg = config(eng, pki, max_retries="1")
    cfg["policy_engine_url"] = url + "/v1/proposals"
    proc = fs.run_action(splunk_python, home, splunkd.url, results(home), cfg)
    assert proc.returncode == 2
    assert len(outbox(home)) == 2
    log = fs.log_text(home)
    assert log.count("event=retry") == 1  # the second proposal is not attempted once the engine is down
    assert_no_secrets(home, proc)


def test_409_counts_as_applied_and_a_400_is_kept_without_stopping_the_others(splunk_python, home, splunkd,
                                                                              servers, pki):
    eng = engine(servers, pki, [{"status": 400, "apply": False}, {"status": 409, "apply": False}])
    proc = fs.run_action(splunk_python, home, splunkd.url, results(home), config(eng, pki))
    assert proc.returncode == 2
    assert len(eng.requests) == 2  # the 400 is not retried, the second proposal is still sent
    assert len(outbox(home)) == 1
    log = fs.log_text(home)
    assert "HTTP 400" in log and "event=already_applied_by_engine" in log and "event=retry" not in log
