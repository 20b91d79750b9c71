"""Scenario tests of the tier logic (claw_ta.tiers train/detect on normalized events).

A small fleet: frontend nodes fe-1..4 run WEB, backend nodes be-1..4 run API,
SHARED (a proxy image) runs in both tiers; a week of history is trained day by
day (incremental), then one detection hour is scored with each scenario added.
"""
import random

import pytest

from claw_ta import tiers

DAY, HOUR = 86400.0, 3600.0
START = 1794528000.0           # 2026-11-13 00:00 UTC
DETECT = START + 7 * DAY        # detection hour starts here
WEB, API, SHARED, NEW = ("sha256:" + c * 64 for c in "abcd")
FRONT = ["fe-%d" % i for i in range(1, 5)]
BACK = ["be-%d" % i for i in range(1, 5)]
RUNS = [(WEB, FRONT, "frontend"), (API, BACK, "backend"),
        (SHARED, FRONT, "frontend"), (SHARED, BACK, "backend")]


def train(*args, **params):
    """The site trusts the pod labels of its own namespace "shop" (trusted_namespaces)."""
    params.setdefault("trusted_namespaces", "shop")
    return tiers.train_from_events(*args, **params)


def detect_events(*args, **params):
    params.setdefault("trusted_namespaces", "shop")
    return tiers.detect_from_events(*args, **params)


def ev(digest, host, t, tier=None, event_type="binary_attestation", namespace="shop"):
    event = {"event_type": event_type, "image_digest": digest, "dest": host, "host": host, "_time": t,
             "namespace": namespace}
    if tier:
        event["tier"] = tier
    return event


def normal_hour(start, rng, skip_hosts=(), per_hour=6):
    out = []
    for digest, hosts, tier in RUNS:
        for host in hosts:
            if host in skip_hosts:
                continue
            for _ in range(rng.randint(per_hour - 2, per_hour + 2)):
                out.append(ev(digest, host, start + rng.uniform(0, HOUR), tier))
    return out


def burst(digest, host, n, tier=None, start=DETECT, spread=600.0, namespace="shop"):
    return [ev(digest, host, start + 60 + spread * i / max(n, 1), tier, namespace=namespace) for i in range(n)]


@pytest.fixture(scope="module")
def baseline():
    rng = random.Random(42)
    rows = None
    for day in range(7):  # the nightly saved search: one day at a time, merged
        events = []
        for hour in range(24):
            events.extend(normal_hour(START + day * DAY + hour * HOUR, rng))
        rows = train(events, rows, now=START + (day + 1) * DAY)
    return rows


def detect(baseline, extra, host_tiers=None, skip_hosts=(), **params):
    events = normal_hour(DETECT, random.Random(7), skip_hosts) + extra
    return {(r["image_digest"], r["host"]): r
            for r in detect_events(events, baseline, host_tiers, **params)}


def anomalies(results):
    return sorted(key for key, r in results.items() if r["is_anomaly"])


def test_the_baseline_learned_the_tiers(baseline):
    rows = {r["image_digest"]: r for r in baseline}
    assert rows[WEB]["tiers"] == "frontend" and rows[API]["tiers"] == "backend"
    assert rows[SHARED]["tiers"] == "backend;frontend"
    assert rows[API]["host_count"] == "4" and 4 < float(rows[API]["rate_median"]) < 8


def test_normal_hour_raises_nothing(baseline):
    results = detect(baseline, [])
    assert anomalies(results) == []
    assert {r["tier_status"] for r in results.values()} == {tiers.IN_TIER}


def test_backend_image_bursting_on_a_frontend_node_is_an_anomaly(baseline):
    results = detect(baseline, burst(API, "fe-2", 40, tier="backend"))
    assert anomalies(results) == [(API, "fe-2")]
    hit = results[(API, "fe-2")]
    assert hit["tier_status"] == tiers.OUTSIDE_TIER and hit["tier"] == ["frontend"]
    assert hit["tier_source"] == "pod_labels" and hit["pod_tier"] == ["backend"]
    assert hit["count"] == 40 and hit["expected_count"] == 0 and hit["spike_score"] >= 3
    # the attacker's pod label does not turn the frontend node into a backend one for WEB
    assert results[(WEB, "fe-2")]["tier_status"] == tiers.IN_TIER


def test_burst_on_a_node_where_nothing_else_ran_uses_the_nodes_history(baseline):
    results = detect(baseline, burst(API, "fe-4", 30, tier="backend"), skip_hosts=("fe-4",))
    assert results[(API, "fe-4")]["tier_source"] == "history"
    assert anomalies(results) == [(API, "fe-4")]


def test_hpa_scale_out_to_a_new_node_of_the_same_tier(baseline):
    new_node = burst(API, "be-9", 7, tier="backend", spread=3000)
    results = detect(baseline, new_node)
    assert results[(API, "be-9")]["tier_status"] == tiers.IN_TIER
    assert results[(API, "be-9")]["tier_source"] == "own_pod_label"
    # the lookup names the node (no labels at all): still in tier
    unlabeled = burst(API, "BE-10", 7, spread=3000)
    results = detect(baseline, unlabeled, host_tiers={"be-10": "backend"})
    assert results[(API, "BE-10")]["tier_status"] == tiers.IN_TIER
    assert results[(API, "BE-10")]["tier_source"] == "lookup"
    assert anomalies(results) == []


def test_node_drain_moves_pods_within_the_tier(baseline):
    moved = burst(API, "be-2", 6, "backend", spread=3000) + burst(API, "be-3", 6, "backend", spread=3000)
    results = detect(baseline, moved, skip_hosts=("be-1",))
    assert (API, "be-1") not in results and anomalies(results) == []
    assert results[(API, "be-2")]["count"] > results[(API, "be-2")]["expected_count"]


def test_a_drained_node_decays_out_of_the_baseline(baseline):
    rows, rng = baseline, random.Random(1)
    for day in range(7, 23):
        events = []
        for hour in range(0, 24, 6):
            events.extend(normal_hour(START + day * DAY + hour * HOUR, rng, skip_hosts=("be-1",)))
        rows = train(events, rows, now=START + (day + 1) * DAY)
    api = [r for r in rows if r["image_digest"] == API][0]
    assert api["host_count"] == "3" and "be-1|" not in api["hosts"]


def test_new_digest_rollout_is_never_an_anomaly_on_its_own(baseline):
    rollout = [e for host in BACK + ["fe-1"] for e in burst(NEW, host, 25, "backend")]
    results = detect(baseline, rollout)
    assert {results[(NEW, h)]["tier_status"] for h in BACK + ["fe-1"]} == {tiers.NEW_DIGEST}
    assert anomalies(results) == []


def test_host_with_no_known_tier(baseline):
    results = detect(baseline, burst(API, "mystery-1", 30))
    hit = results[(API, "mystery-1")]
    assert hit["tier_status"] == tiers.UNKNOWN_HOST_TIER and hit["tier"] is None and not hit["is_anomaly"]
    strict = detect(baseline, burst(API, "mystery-1", 30), unknown_tier_anomaly=True)
    assert anomalies(strict) == [(API, "mystery-1")]


def test_digest_that_legitimately_runs_in_two_tiers(baseline):
    extra = burst(SHARED, "fe-3", 9, "frontend", spread=3000) + burst(SHARED, "be-3", 9, "backend", spread=3000)
    extra += burst(SHARED, "fe-7", 8, "frontend", spread=3000) + [ev(WEB, "fe-7", DETECT + 5, "frontend")]
    results = detect(baseline, extra)
    assert anomalies(results) == []
    assert results[(SHARED, "fe-7")]["tier_status"] == tiers.IN_TIER  # a new frontend node
    batch = burst(SHARED, "batch-1", 30, "frontend") + burst(NEW, "batch-1", 5, "batch")
    assert anomalies(detect(baseline, batch)) == [(SHARED, "batch-1")]


def test_single_out_of_tier_event_stays_below_threshold(baseline):
    for n in (1, 4):
        hit = detect(baseline, burst(API, "fe-1", n, "backend"))[(API, "fe-1")]
        assert hit["tier_status"] == tiers.OUTSIDE_TIER and hit["is_anomaly"] == 0
        assert "below threshold" in hit["reason"]
    tuned = detect(baseline, burst(API, "fe-1", 1, "backend"), min_count=1, min_score=1)
    assert anomalies(tuned) == [(API, "fe-1")]
    strict = detect(baseline, burst(API, "fe-1", 40, "backend"), min_score=1000)
    assert anomalies(strict) == []


def test_clock_skew_and_out_of_order_events(baseline):
    attack = burst(API, "fe-2", 40, tier="backend")
    reference = detect(baseline, attack)
    skewed = [dict(e, _time=e["_time"] - 1800 if i % 3 == 0 else e["_time"]) for i, e in enumerate(attack)]
    random.Random(5).shuffle(skewed)
    results = detect(baseline, skewed)
    assert anomalies(results) == anomalies(reference) == [(API, "fe-2")]
    assert results[(API, "fe-2")]["count"] == 40 and results[(API, "fe-2")]["hours"] == 2
    # training on a node whose clock runs a day ahead does not push the baseline into the future
    ahead = burst(API, "be-1", 20, "backend", start=DETECT + DAY)
    rows = train(ahead, baseline, now=DETECT)
    api = [r for r in rows if r["image_digest"] == API][0]
    assert float(api["last_seen"]) <= DETECT
    # and the row order of the training input does not matter
    events = normal_hour(START, random.Random(3))
    assert train(events, now=START + DAY) == \
        train(list(reversed(events)), now=START + DAY)


# --- The workload is the attacker: pod labels and namespaces ---------------------------

def decoy(host, tier="frontend", namespace="attacker", n=3):
    """Pods of another image, labelled to vouch for the host's tier."""
    return [ev(NEW, host, DETECT + 30 * i, tier, namespace=namespace) for i in range(n)]


@pytest.mark.parametrize("skip", [(), ("be-2",)])
def test_a_decoy_pod_in_an_untrusted_namespace_cannot_put_a_host_in_tier(baseline, skip):
    """Regression: a decoy pod labelled tier=frontend turned a lateral-movement burst into in_tier."""
    attack = burst(WEB, "be-2", 30, "frontend", namespace="attacker") + decoy("be-2")
    hit = detect(baseline, attack, skip_hosts=skip)[(WEB, "be-2")]
    assert hit["tier_status"] == tiers.OUTSIDE_TIER and hit["is_anomaly"] == 1
    assert hit["tier"] == ["backend"] and hit["tier_source"] == ("history" if skip else "pod_labels")
    # what the labels did when every namespace was trusted (the behaviour before the fix)
    trusting = detect(baseline, attack, skip_hosts=skip, trusted_namespaces="*")[(WEB, "be-2")]
    assert trusting["tier_status"] == tiers.IN_TIER and trusting["is_anomaly"] == 0


def test_labels_count_only_when_every_namespace_of_the_pair_is_trusted(baseline):
    # a decoy with one pod in the trusted namespace and one in the attacker's: not trusted
    mixed = decoy("be-2", namespace="shop", n=1) + decoy("be-2", namespace="attacker", n=1)
    attack = burst(WEB, "be-2", 30, "frontend", namespace="attacker") + mixed
    assert detect(baseline, attack, skip_hosts=("be-2",))[(WEB, "be-2")]["is_anomaly"] == 1
    # no namespace at all (a record without Kubernetes metadata): not trusted
    bare = [dict(e, namespace=None) for e in decoy("be-2")]
    assert detect(baseline, burst(WEB, "be-2", 30) + bare, skip_hosts=("be-2",))[(WEB, "be-2")]["is_anomaly"] == 1
    # the site's own namespace vouches (its choice, documented in docs/tiers.md)
    vouched = detect(baseline, burst(WEB, "be-2", 30) + decoy("be-2", namespace="shop"), skip_hosts=("be-2",))
    assert vouched[(WEB, "be-2")]["tier_status"] == tiers.IN_TIER


def test_an_attackers_own_label_does_not_give_a_new_node_a_tier(baseline):
    hit = detect(baseline, burst(API, "x-9", 30, "backend", namespace="attacker"))[(API, "x-9")]
    assert hit["tier_status"] == tiers.UNKNOWN_HOST_TIER and hit["tier_source"] == "none"
    strict = detect(baseline, burst(API, "x-9", 30, "frontend", namespace="attacker"), unknown_tier_anomaly=True)
    assert strict[(API, "x-9")]["is_anomaly"] == 1


def test_untrusted_labels_do_not_train_a_host_into_a_tier(baseline):
    # a week of an attacker's frontend-labelled pods on a new node, then the burst
    planted = [ev(NEW, "x-7", START + 6 * DAY + 60 * i, "frontend", namespace="attacker") for i in range(50)]
    rows = train(planted, baseline, now=DETECT)
    hit = detect(rows, burst(WEB, "x-7", 30, "frontend", namespace="attacker"))[(WEB, "x-7")]
    assert hit["tier_status"] == tiers.UNKNOWN_HOST_TIER


def test_trusted_namespaces_argument_is_checked():
    for bad in ("Shop", "a b", "x" * 64, "-x", "shop,../y"):
        with pytest.raises(ValueError, match="trusted_namespaces"):
            tiers.check_params({"trusted_namespaces": bad})
    assert tiers.check_params({"trusted_namespaces": " shop, web ,"})["trusted_namespaces"] == {"shop", "web"}
    assert tiers.check_params({})["trusted_namespaces"] == frozenset()
