"""The alert action's local state under faults (docs/policy-feedback.md): per destination, write-ahead.

- two push destinations: a proposal kept for one engine never reaches the other,
  and a key applied by one engine is not deduplicated against the other;
- a real SIGKILL of the action mid-delivery (the engine on loopback holds the
  answer): the proposal is in the outbox, and the next run delivers it once;
- a poison outbox entry (valid JSON, not an entry) goes to dead/ and the others
  are delivered;
- a full disk (an injected OSError(ENOSPC)) is reported and loses nothing
  already queued;
- a lock left by a killed run is free at once.
Each test fails on the 0.1.0 action (one shared push outbox, outbox written
only after a failed delivery, a malformed entry crashing the run, a lock file
trusted for 15 minutes).
"""
import errno
import glob
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from claw_ta.feedback import action, store
from claw_ta.feedback.log import setup_logging
from tests import paths
from tests.support import feedback_servers as fs
from tests.support.feedback_fixtures import home, pki, servers, splunkd  # noqa: F401 (fixtures)

DETECTION = "claw_unlisted_library_load"


def row(n, **over):
    base = {"detection_id": DETECTION, "subject_digest": "sha256:" + ("%x" % n) * 64, "library_path": "/tmp/l%d.so" % n,
            "host": "node-%d" % n, "severity": "high"}
    base.update(over)
    return base


def engine(servers, pki, script=None):
    server = fs.PolicyEngine(pki["cert"], pki["key"], script)
    servers.append(server)
    return server


def push(eng, pki, **over):
    cfg = {"mode": "push", "policy_engine_url": eng.url + "/v1/proposals", "ca_bundle": pki["ca"], "timeout": "2",
           "max_retries": "0", "backoff": "0.05", "deadline": "30"}
    cfg.update(over)
    return cfg


def results(home, rows, name):
    return fs.write_results(os.path.join(home, name), rows)


def keys_sent(eng):
    return [r["headers"]["Idempotency-Key"] for r in eng.requests]


def state(home, pattern="*", part="outbox"):
    root = os.path.join(home, "var", "lib", "splunk", "claw_policy_feedback")
    names = []
    for folder in glob.glob(os.path.join(root, pattern, part)):
        names.extend(n for n in os.listdir(folder) if ".tmp." not in n)
    return sorted(names)


def test_two_destinations_never_share_an_outbox_or_applied_keys(splunk_python, home, splunkd, servers, pki):
    down = engine(servers, pki, [{"status": 503}] * 5)
    other = engine(servers, pki)
    kept = fs.run_action(splunk_python, home, splunkd.url, results(home, [row(1)], "a.csv.gz"), push(down, pki))
    assert kept.returncode == 2 and len(state(home, "push-*")) == 1
    first_key = keys_sent(down)[0]
    sent = fs.run_action(splunk_python, home, splunkd.url, results(home, [row(2)], "b.csv.gz"), push(other, pki))
    assert sent.returncode == 0, sent.stderr
    assert first_key not in keys_sent(other) and len(keys_sent(other)) == 1  # never misrouted
    assert len(state(home, "push-*")) == 1  # still queued for the engine it was meant for
    # the same finding raised for the second engine is delivered there: not deduplicated against the first
    again = fs.run_action(splunk_python, home, splunkd.url, results(home, [row(1)], "c.csv.gz"), push(other, pki))
    assert again.returncode == 0 and first_key in keys_sent(other)
    labels = [open(p, encoding="utf-8").read() for p in glob.glob(os.path.join(
        home, "var", "lib", "splunk", "claw_policy_feedback", "push-*", "destination"))]
    assert sorted(labels) == sorted([down.url + "/v1/proposals", other.url + "/v1/proposals"])


def test_sigkill_mid_delivery_loses_nothing_and_applies_once(splunk_python, home, splunkd, servers, pki):
    eng = engine(servers, pki, [{"status": 200, "delay": 30}])  # applies, then holds the answer
    proc = fs.start_action(splunk_python, home, splunkd.url, results(home, [row(3)], "r.csv.gz"),
                           push(eng, pki, timeout="60"))
    deadline = time.monotonic() + 30
    while not eng.requests and time.monotonic() < deadline:
        time.sleep(0.02)
    assert eng.requests, "the action never reached the engine"
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    (queued,) = state(home, "push-*")
    key = keys_sent(eng)[0]
    assert queued == key + ".json"
    # next trigger (another search, no results of its own): the queued proposal goes out again, same key
    rerun = fs.run_action(splunk_python, home, splunkd.url, results(home, [], "empty.csv.gz"), push(eng, pki))
    assert rerun.returncode == 0, rerun.stderr
    assert keys_sent(eng) == [key, key] and eng.apply_count[key] == 1
    assert state(home, "push-*") == [] and key in open(glob.glob(os.path.join(
        home, "var", "lib", "splunk", "claw_policy_feedback", "push-*", "applied.keys"))[0]).read()


POISON = [
    ("valid JSON, not an object", []),
    ("proposal without a detection", {"proposal": {"idempotency_key": "0" * 64}, "attempts": 1, "queued": 1.0}),
    ("queued is a string", "QUEUED"),
    ("key of another proposal", "OTHERKEY"),
]


def test_poison_entries_go_to_dead_and_never_block_the_others(splunk_python, home, splunkd):
    cfg = {"mode": "review", "timeout": "2", "max_retries": "0", "deadline": "30"}
    splunkd.fail_next = [503]
    first = fs.run_action(splunk_python, home, splunkd.url, results(home, [row(4), row(5)], "r.csv.gz"), cfg)
    assert first.returncode == 2
    outbox = os.path.join(home, "var", "lib", "splunk", "claw_policy_feedback", "review", "outbox")
    good = sorted(os.listdir(outbox))
    template = json.load(open(os.path.join(outbox, good[0]), encoding="utf-8"))
    poison_names = []
    for n, (_, content) in enumerate(POISON):
        name = ("%x" % (n + 1)) * 64 + ".json"
        if content == "QUEUED":
            content = dict(template, queued="yesterday")
            name = good[0]  # the first real entry itself is corrupted
        elif content == "OTHERKEY":
            content = template
        poison_names.append(name)
        with open(os.path.join(outbox, name), "w", encoding="utf-8") as handle:
            json.dump(content, handle)
    second = fs.run_action(splunk_python, home, splunkd.url, results(home, [], "e.csv.gz"), cfg)
    assert second.returncode == 0, second.stderr
    assert set(splunkd.kv) == {good[1][:-5]}  # the intact entry was delivered
    dead = os.listdir(os.path.join(home, "var", "lib", "splunk", "claw_policy_feedback", "review", "dead"))
    assert sorted(dead) == sorted(n + ".malformed" for n in poison_names)
    assert os.listdir(outbox) == []
    assert fs.log_text(home).count("event=dead_lettered") == len(POISON)


def _disk_full_open(real_open, folder):
    """open() for the store module: writing under ``folder`` fails half-way with ENOSPC."""
    class Full(object):
        def __init__(self, handle):
            self.handle = handle

        def write(self, text):
            self.handle.write(text[: len(text) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    def fake_open(path, mode="r", *args, **kwargs):
        handle = real_open(path, mode, *args, **kwargs)
        if str(path).startswith(folder) and ("w" in mode or "a" in mode):
            return Full(handle)
        return handle
    return fake_open


def test_full_disk_is_reported_and_loses_nothing_already_queued(home, splunkd, monkeypatch):
    cfg = {"mode": "review", "timeout": "2", "max_retries": "0", "deadline": "30"}
    setup_logging(home)
    splunkd.fail_next = [503]
    payload = fs.action_payload(results(home, [row(6)], "a.csv.gz"), splunkd.url, cfg)
    assert action.run(payload, home) == 2  # kept in the outbox
    root = store.state_root(home)
    outbox = os.path.join(root, "review", "outbox")
    (queued,) = os.listdir(outbox)
    before = open(os.path.join(outbox, queued), encoding="utf-8").read()
    # the disk fills up; the KV store is down again: nothing may be lost, the new proposal is reported
    monkeypatch.setattr(store, "open", _disk_full_open(open, root), raising=False)
    splunkd.fail_next = [503]
    payload = fs.action_payload(results(home, [row(7)], "b.csv.gz"), splunkd.url, cfg)
    assert action.run(payload, home) == 2
    assert os.listdir(outbox) == [queued]  # no temporary file left, the queued entry intact
    assert open(os.path.join(outbox, queued), encoding="utf-8").read() == before
    log = fs.log_text(home)
    assert "event=disk_full" in log and "NOT KEPT" in log
    # still full, but the KV store is back: both are delivered (the new one from memory)
    payload = fs.action_payload(results(home, [row(7)], "c.csv.gz"), splunkd.url, cfg)
    assert action.run(payload, home) == 2  # reported: the new proposal could not be queued
    assert len(splunkd.kv) == 2 and queued[:-5] in splunkd.kv
    monkeypatch.undo()
    assert os.listdir(outbox) == []


HOLD_LOCK = """
import sys, time
sys.path.insert(0, sys.argv[1])
from claw_ta.feedback import store
box = store.Store(sys.argv[2], "review")
box.acquire(wait=5)
print("locked", flush=True)
time.sleep(120)
"""


def test_lock_of_a_killed_run_is_free_at_once(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, paths.APP_BIN, str(tmp_path)],
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"locked"
        with pytest.raises(store.LockTimeout):  # held by a live process: excluded
            store.Store(str(tmp_path), "review").acquire(wait=0.3, poll=0.05)
    finally:
        holder.kill()
        holder.wait(10)
        holder.stdout.close()
    started = time.monotonic()
    box = store.Store(str(tmp_path), "review")
    box.acquire(wait=1.0, poll=0.05)
    box.release()
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("moment", ["claw_policy_proposals", "claw_policy_decisions"])
def test_a_decision_made_while_the_action_runs_is_never_overwritten(splunk_python, home, splunkd, moment):
    """The reviewer decides between the action's read and its write (after it read the proposals,
    or after it read the decisions): the record ends with the reviewer's decision and the new evidence."""
    cfg = {"mode": "review", "timeout": "2", "max_retries": "0", "deadline": "30"}
    assert fs.run_action(splunk_python, home, splunkd.url, results(home, [row(8)], "a.csv.gz"), cfg).returncode == 0
    (key,) = splunkd.kv
    decision = {"_key": key, "decision": "reject", "status": "rejected", "reviewed_by": "alice",
                "reviewed_at": "2026-01-02T03:04:05Z", "review_note": "benign", "allowlist_expires": "",
                "allowlist_row": "", "state": "complete"}
    fired = []

    def reviewer_decides(name):  # what the review endpoint writes, in its order
        if name == moment and not fired:
            fired.append(name)
            splunkd.collection("claw_policy_decisions")[key] = dict(decision)
            splunkd.kv[key] = dict(splunkd.kv[key], status="rejected", reviewed_by="alice",
                                   reviewed_at=decision["reviewed_at"], review_note="benign")
    splunkd.after_read = reviewer_decides
    again = fs.run_action(splunk_python, home, splunkd.url, results(home, [row(8)], "b.csv.gz"), cfg)
    assert again.returncode == 0, again.stderr
    assert fired
    record = splunkd.kv[key]
    assert (record["status"], record["reviewed_by"], record["review_note"]) == ("rejected", "alice", "benign")
    assert record["times_seen"] == 2


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs mounted where the action keeps its state (root only; skipped elsewhere)."""
    home = str(tmp_path)
    root = store.state_root(home)
    os.makedirs(root)
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (the injected-ENOSPC test covers the logic)")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", root], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: %s" % mounted.stderr.decode("utf-8", "replace").strip())
    try:
        yield home, root
    finally:
        subprocess.run(["umount", root], capture_output=True)


def test_a_really_full_disk_loses_nothing_already_queued(splunk_python, small_disk, splunkd):
    home, root = small_disk
    cfg = {"mode": "review", "timeout": "2", "max_retries": "0", "deadline": "30"}
    splunkd.fail_next = [503]
    assert fs.run_action(splunk_python, home, splunkd.url, results(home, [row(9)], "a.csv.gz"), cfg).returncode == 2
    outbox = os.path.join(root, "review", "outbox")
    (queued,) = os.listdir(outbox)
    before = open(os.path.join(outbox, queued), encoding="utf-8").read()
    with open(os.path.join(root, "filler"), "wb", buffering=0) as handle:  # fill the disk up
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as err:
            assert err.errno == errno.ENOSPC
    splunkd.fail_next = [503]
    full = fs.run_action(splunk_python, home, splunkd.url, results(home, [row(10)], "b.csv.gz"), cfg)
    assert full.returncode == 2, full.stderr
    assert sorted(n for n in os.listdir(outbox)) == [queued]
    assert open(os.path.join(outbox, queued), encoding="utf-8").read() == before
    assert "event=disk_full" in fs.log_text(home) and b"disk full" in full.stderr
    os.unlink(os.path.join(root, "filler"))
    after = fs.run_action(splunk_python, home, splunkd.url, results(home, [], "c.csv.gz"), cfg)
    assert after.returncode == 0 and queued[:-5] in splunkd.kv and os.listdir(outbox) == []
