"""Push mode on a search head cluster: two members (two SPLUNK_HOMEs) sharing one KV store stand-in.

The scheduler runs each trigger on whichever member the captain picks, and
each member has its own outbox and applied keys on disk. These tests run the
alert action as splunkd does, once on member A and then on member B:

- a proposal A could not deliver (engine down) is delivered by B's next run,
  once, although B's own results do not contain it;
- a proposal A delivered is not sent again by B when B's results raise it,
  nor by A later from its own outbox copy;
- with the KV store down, each member still delivers from its own files
  (the shared state is an addition, never a dependency);
- review mode: what one member could not save is saved by the next run on
  any member raising the same finding, and by the first member's own next run
  as one more sighting.
"""
import os

from tests.support import feedback_servers as fs
from tests.support.feedback_fixtures import pki, servers, splunkd  # noqa: F401 (fixtures)
from tests.test_feedback_push import ROWS, config, engine, outbox

DELIVERY = "claw_policy_delivery"


def member(tmp_path, name):
    home = tmp_path / name
    home.mkdir()
    return str(home)


def results(home, rows, name="results.csv.gz"):
    return fs.write_results(os.path.join(home, name), rows)


def requests_for(eng, key):
    return [r for r in eng.requests if r["headers"].get("Idempotency-Key") == key]


def test_an_undelivered_proposal_is_delivered_by_the_next_run_on_another_member(splunk_python, tmp_path, splunkd,
                                                                                servers, pki):
    a, b = member(tmp_path, "a"), member(tmp_path, "b")
    down = engine(servers, pki, [{"status": 503}] * 20)
    cfg = config(down, pki, max_retries="1")
    proc = fs.run_action(splunk_python, a, splunkd.url, results(a, ROWS[:1]), cfg)
    assert proc.returncode == 2, proc.stderr  # kept
    (queued,) = [r for r in splunkd.collection(DELIVERY).values() if r["state"] == "queued"]
    key = queued["proposal_key"]
    down.script = []  # the engine is back; the next trigger runs on member B, whose results are other rows
    proc = fs.run_action(splunk_python, b, splunkd.url, results(b, ROWS[1:]), cfg)
    assert proc.returncode == 0, proc.stderr
    assert len(down.apply_count) == 2 and down.apply_count[key] == 1
    assert splunkd.collection(DELIVERY)[queued["_key"]]["state"] == "applied"
    # member A runs again later: its own outbox copy is dropped, not sent again
    sent = len(requests_for(down, key))
    proc = fs.run_action(splunk_python, a, splunkd.url, results(a, ROWS[1:], "later.csv.gz"), cfg)
    assert proc.returncode == 0, proc.stderr
    assert len(requests_for(down, key)) == sent and outbox(a) == []


def test_a_proposal_one_member_applied_is_not_sent_by_another(splunk_python, tmp_path, splunkd, servers, pki):
    a, b = member(tmp_path, "a"), member(tmp_path, "b")
    eng = engine(servers, pki)
    cfg = config(eng, pki)
    assert fs.run_action(splunk_python, a, splunkd.url, results(a, ROWS), cfg).returncode == 0
    assert len(eng.requests) == 2
    proc = fs.run_action(splunk_python, b, splunkd.url, results(b, ROWS), cfg)  # the alert fires again on B
    assert proc.returncode == 0, proc.stderr
    assert len(eng.requests) == 2  # nothing sent twice on the cluster
    assert fs.log_text(b).count("event=already_applied ") == 2


def test_without_the_kv_store_each_member_still_delivers_from_its_own_files(splunk_python, tmp_path, splunkd,
                                                                          servers, pki):
    a = member(tmp_path, "a")
    eng = engine(servers, pki)
    splunkd.down_collections = (DELIVERY,)
    proc = fs.run_action(splunk_python, a, splunkd.url, results(a, ROWS), config(eng, pki, max_retries="0"))
    assert len(eng.requests) == 2 and all(n == 1 for n in eng.apply_count.values()), proc.stderr
    assert "event=shared_state_unavailable" in fs.log_text(a)


def test_review_mode_a_proposal_one_member_could_not_save_is_saved_by_the_next_run_anywhere(splunk_python, tmp_path,
                                                                                         splunkd):
    """Review mode's outbox holds only what the KV store refused: the finding raised again on another
    member is saved there (same key, same record), and the first member's copy is saved by its own next
    run as one more sighting, never as a second record."""
    a, b = member(tmp_path, "a"), member(tmp_path, "b")
    cfg = {"mode": "review", "timeout": "2", "max_retries": "0", "backoff": "0.05", "deadline": "30"}
    splunkd.down_collections = ("claw_policy_proposals",)
    assert fs.run_action(splunk_python, a, splunkd.url, results(a, ROWS[:1]), cfg).returncode == 2
    assert splunkd.kv == {}
    splunkd.down_collections = ()
    assert fs.run_action(splunk_python, b, splunkd.url, results(b, ROWS[:1]), cfg).returncode == 0
    (key,) = splunkd.kv
    assert fs.run_action(splunk_python, a, splunkd.url, results(a, ROWS[1:], "later.csv.gz"), cfg).returncode == 0
    assert splunkd.kv[key]["times_seen"] == 2 and len(splunkd.kv) == 2
    review_outbox = os.path.join(a, "var", "lib", "splunk", "claw_policy_feedback", "review", "outbox")
    assert os.listdir(review_outbox) == []


def test_a_key_another_member_is_sending_now_is_not_sent_until_its_claim_lapses(splunk_python, tmp_path, splunkd,
                                                                               servers, pki):
    """Two members running at once: the one whose insert of the claim lost does not send the key; a claim
    left by a run that died is taken over once its deadline has passed."""
    import time
    b = member(tmp_path, "b")
    eng = engine(servers, pki)
    cfg = config(eng, pki)
    first = results(b, ROWS[:1])
    from claw_ta.feedback import proposal as proposals_mod
    from claw_ta.feedback.store import destination_id
    (item,), _ = proposals_mod.build_proposals(ROWS[:1], {"search_name": "Claw - Unlisted Library Load"})
    claim_key = "%s-%s-sending" % (destination_id("push", cfg["policy_engine_url"]), item["idempotency_key"])
    splunkd.collection(DELIVERY)[claim_key] = {"_key": claim_key, "state": "sending", "member": "sh2",
                                               "until": time.time() + 600}
    proc = fs.run_action(splunk_python, b, splunkd.url, first, cfg)
    assert proc.returncode == 0, proc.stderr
    assert requests_for(eng, item["idempotency_key"]) == [] and outbox(b) == [item["idempotency_key"] + ".json"]
    assert "event=sending_elsewhere" in fs.log_text(b)
    splunkd.collection(DELIVERY)[claim_key]["until"] = time.time() - 1  # that run died
    proc = fs.run_action(splunk_python, b, splunkd.url, results(b, ROWS[1:], "later.csv.gz"), cfg)
    assert proc.returncode == 0, proc.stderr
    assert len(requests_for(eng, item["idempotency_key"])) == 1 and outbox(b) == []
    assert claim_key not in splunkd.collection(DELIVERY)  # released after the attempt
    assert "event=stale_claim" in fs.log_text(b)
