"""Node labels as a tier source: out of the box on Kubernetes, and never from a workload.

A node's labels reach the add-on only in its sensor's ``agent_heartbeat``
(``k8s_node_labels``, set by the cluster's administrators and the node pool);
a pod's labels (``k8s_labels``) are written by whoever deploys the pod. With
no claw_host_tiers.csv and no trusted namespace (the shipped defaults), the
node labels alone must make a backend digest's burst on a frontend node
``outside_tier`` and keep an HPA scale-out onto a new node of the same pool
``in_tier``; neither a pod labelling itself nor a heartbeat some pod other than
the sensor printed may change a node's tier.
"""
import json
import os
import random

import pytest

from claw_ta import nodelabels, tiers
from claw_ta.tiers import stream
from claw_ta_tools.detections import engine, skips
from claw_ta_tools.detections.scenario import ScenarioError, read_tier_node_label
from claw_ta_tools.sensor import SensorRule
from tests import paths
from tests.test_tier_protocol import app, run  # noqa: F401  (the command under the SCP driver)

HOUR, DAY = 3600.0, 86400.0
T0 = 1794528000.0
WEB, LEDGER = "sha256:" + "a" * 64, "sha256:" + "b" * 64
FRONT, BACK = ["fe-1", "fe-2", "fe-3"], ["be-1", "be-2", "be-3"]


def heartbeat(host, t, **labels):
    node = {"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
    node.update(labels)
    return {"event_type": "agent_heartbeat", "host": host, "dest": host, "_time": t, "k8s_node_labels": node}


def attestation(digest, host, t, namespace="shop", **pod_labels):
    event = {"event_type": "image_attestation", "image_digest": digest, "host": host, "dest": host, "_time": t,
             "namespace": namespace}
    if pod_labels:
        event["k8s_labels"] = json.dumps(pod_labels)  # the normalized event holds the object as text
    return event


def pools(t, extra=()):
    """One heartbeat per node: the pools label their nodes tier=frontend / tier=backend."""
    nodes = [(h, "frontend") for h in FRONT] + [(h, "backend") for h in BACK] + list(extra)
    return [heartbeat(h, t, tier=tier) for h, tier in nodes]


def history(days=2, seed=3):
    rng = random.Random(seed)
    out = []
    for hour in range(days * 24):
        start = T0 + hour * HOUR
        out += pools(start)
        for digest, hosts in ((WEB, FRONT), (LEDGER, BACK)):
            for host in hosts:
                out += [attestation(digest, host, start + rng.uniform(0, HOUR)) for _ in range(rng.randint(1, 3))]
    return out


@pytest.fixture(scope="module")
def baseline():
    return tiers.train_from_events(history(), now=T0 + 2 * DAY)  # shipped defaults: nothing trusted


def window(extra=(), nodes=()):
    start = T0 + 2 * DAY
    out = pools(start + 5, nodes)
    out += [attestation(WEB, h, start + 60 * i) for h in FRONT for i in range(3)]
    out += [attestation(LEDGER, h, start + 60 * i) for h in BACK for i in range(3)]
    return out + list(extra)


def rows_by_pair(events, baseline, **params):
    return {(r["image_digest"], r["host"]): r for r in tiers.detect_from_events(events, baseline, **params)}


def burst(digest, host, n=30, **pod_labels):
    start = T0 + 2 * DAY + 600
    return [attestation(digest, host, start + 20 * i, namespace="payments", **pod_labels) for i in range(n)]


def test_training_learns_the_tiers_from_the_node_labels_alone(baseline):
    rows = {r["image_digest"]: r for r in baseline}
    assert rows[WEB]["tiers"] == "frontend" and rows[LEDGER]["tiers"] == "backend"


def test_burst_on_a_frontend_node_is_outside_tier_and_a_same_pool_scale_out_is_not(baseline):
    new_node = [attestation(WEB, "fe-9", T0 + 2 * DAY + 300 + 10 * i) for i in range(40)]  # HPA onto fe-9
    rows = rows_by_pair(window(burst(LEDGER, "fe-2") + new_node, nodes=[("fe-9", "frontend")]), baseline)
    spike = rows[(LEDGER, "fe-2")]
    assert (spike["tier_status"], spike["tier_source"], spike["tier"], spike["is_anomaly"]) == \
        ("outside_tier", "node_labels", ["frontend"], 1)
    scale = rows[(WEB, "fe-9")]
    assert (scale["tier_status"], scale["tier_source"], scale["is_anomaly"]) == ("in_tier", "node_labels", 0)


def test_the_host_table_still_comes_first(baseline):
    rows = rows_by_pair(window(burst(LEDGER, "fe-2")), baseline, host_tiers={"fe-2": "backend"})
    assert (rows[(LEDGER, "fe-2")]["tier_source"], rows[(LEDGER, "fe-2")]["tier_status"]) == ("lookup", "in_tier")


@pytest.mark.parametrize("trusted", ["", "payments,shop", "*"])
def test_a_pod_labelling_itself_cannot_move_a_node_to_its_tier(baseline, trusted):
    """The attacker labels its ledger pods, and decoys of another digest, tier=backend on
    frontend node fe-2. Untrusted: the labels are ignored; trusted: the node labels still win."""
    decoys = [attestation("sha256:" + "d" * 64, "fe-2", T0 + 2 * DAY + 100 + i, namespace="payments",
                          tier="backend") for i in range(10)]
    rows = rows_by_pair(window(burst(LEDGER, "fe-2", tier="backend") + decoys), baseline,
                        trusted_namespaces=trusted)
    spike = rows[(LEDGER, "fe-2")]
    assert (spike["tier_status"], spike["tier_source"], spike["is_anomaly"]) == ("outside_tier", "node_labels", 1)
    assert spike["pod_tier"] == ["backend"]  # the claim is visible, not believed


def test_node_labels_come_only_from_heartbeats_and_node_rows(baseline):
    """An attestation carrying k8s_node_labels, or a stats row of a real digest with a
    node_labels column, names no node's tier: only heartbeats (the macro's node rows) do."""
    agg = tiers.Aggregator()
    forged = attestation(LEDGER, "fe-2", T0)
    forged["k8s_node_labels"] = {"tier": "backend"}
    agg.add_record(forged)
    agg.add_record({"image_digest": LEDGER, "host": "fe-2", "count": "3", "first_time": str(T0),
                    "last_time": str(T0), "hours": "1", "node_labels": json.dumps({"tier": "backend"})})
    assert agg.nodes == {}
    agg.add_record({"image_digest": tiers.NODE_ROW, "host": "FE-2", "count": "60", "first_time": str(T0),
                    "last_time": str(T0), "hours": "1",
                    "node_labels": [json.dumps({"tier": "frontend"}), "not json", json.dumps({"tier": 7})]})
    assert agg.nodes == {"fe-2": frozenset(["frontend"])}
    assert (tiers.NODE_ROW, "FE-2") not in agg.pairs


def test_the_commands_csv_path_reads_node_rows():
    header = "image_digest,host,count,first_time,last_time,hours,tier,namespace,node_labels,__mv_node_labels\r\n"
    labels = json.dumps({"tier": "backend"}).replace('"', '""')
    node = '"%s",be-9,60,%s,%s,1,,,"%s",\r\n' % (tiers.NODE_ROW, T0, T0, labels)
    pair = "%s,be-9,4,%s,%s,1,,,,\r\n" % (LEDGER, T0, T0 + 60)
    agg = tiers.Aggregator()
    assert stream.ingest(header + node + pair, agg) == 2
    assert agg.nodes == {"be-9": frozenset(["backend"])}
    assert list(agg.pairs) == [(LEDGER, "be-9")] and agg.pairs[(LEDGER, "be-9")].count == 4


def test_the_node_label_key_is_the_sites(tmp_path):
    events = [heartbeat("gke-a-1", T0, **{"cloud.google.com/gke-nodepool": "frontend-pool"}),
              attestation(WEB, "gke-a-1", T0 + 10)]
    trained = tiers.train_from_events(events, now=T0 + 60, node_tier_label="cloud.google.com/gke-nodepool")
    assert trained[0]["tiers"] == "frontend-pool"
    assert tiers.train_from_events(events, now=T0 + 60)[0]["tiers"] == ""  # no tier label on that node
    with pytest.raises(ValueError, match="node_tier_label"):
        tiers.check_params({"node_tier_label": "tier|evil"})
    for key in ("node-restriction.kubernetes.io/tier", "eks.amazonaws.com/nodegroup", "karpenter.sh/nodepool",
                "kubernetes.azure.com/agentpool"):
        assert tiers.check_params({"node_tier_label": key})["node_tier_label"] == key
    local = tmp_path / "local"
    local.mkdir()
    (local / "macros.conf").write_text('[claw_tier_node_label]\ndefinition = node_tier_label="karpenter.sh/nodepool"\n')
    assert read_tier_node_label(str(tmp_path)) == "karpenter.sh/nodepool"
    (local / "macros.conf").write_text('[claw_tier_node_label]\ndefinition = node_tier_label="a b"\n')
    with pytest.raises(ScenarioError, match="claw_tier_node_label"):
        read_tier_node_label(str(tmp_path))
    assert read_tier_node_label(paths.APP) == "tier"


SCENARIO = os.path.join(paths.SCENARIOS, "attack-tier-spike-node-labels")


def test_replay_of_a_node_label_only_cluster():
    """No claw_host_tiers.csv, no trusted namespace: the spike alerts, the scale-out onto
    a new node of the same pool does not, and the forged heartbeats are counted and named."""
    assert not os.path.exists(os.path.join(SCENARIO, "lookups", "claw_host_tiers.csv"))
    result = engine.replay(SCENARIO)
    assert [(a["detection_id"], a["host"], a["tier"]) for a in result.alerts] == [
        ("claw_attestation_spike_outside_tier", "prod-fe-02", "frontend")]
    assert result.stats["not_sensor"] == 40
    assert "pod payments-prod/ledger-7d9f8b6c5-z000: 40" in result.skipped_summary()


def test_a_forged_heartbeat_would_hide_the_spike_if_it_were_believed():
    """The same scenario with a sensor rule that accepts any writer: the attacker's
    heartbeats make prod-fe-02 a backend node too, and the lateral movement goes unseen."""
    fooled = engine.replay(SCENARIO, sensor=SensorRule("*", "*", "*"))
    assert fooled.stats["not_sensor"] == 0
    assert [a for a in fooled.alerts if a["detection_id"] == "claw_attestation_spike_outside_tier"] == []


def test_train_from_events_takes_claw_events_as_parsed():
    """Claw JSON lines parsed as they are (timestamp, host, k8s_namespace, k8s_labels): rows, nothing malformed."""
    path = os.path.join(paths.SCENARIOS, "attack-tier-spike-lateral-movement", "events", "history.jsonl")
    with open(path, encoding="utf-8") as handle:
        events = [json.loads(line) for line in handle if line.strip()]
    report = {}
    rows = tiers.train_from_events(events, report=report)
    assert len(rows) == 3 and "malformed" not in report
    agg = tiers.Aggregator().add_all([dict(events[0], timestamp="yesterday", event_type="image_attestation",
                                           image_digest=WEB)])
    assert agg.report == {"malformed": 1}


def test_train_from_events_reads_the_workload_pods_labels():
    event = {"timestamp": "2026-11-20T12:00:00.5Z", "event_type": "image_attestation", "host": "n1",
             "image_digest": WEB, "k8s_namespace": "shop", "k8s_labels": {"tier": "frontend", "app": "web"}}
    pairs = tiers.Aggregator().add_all([event]).pairs
    state = pairs[(WEB, "n1")]
    assert state.tiers == frozenset(["frontend"]) and state.namespaces == frozenset(["shop"])
    assert state.first == 1795176000.5


@pytest.mark.parametrize("value, platform", [
    ({"kubernetes.io/os": "linux", "kubernetes.io/arch": "arm64"}, "linux/arm64"),
    ('{"kubernetes.io/os":"Linux","kubernetes.io/arch":"AMD64"}', "linux/amd64"),
    ({"kubernetes.io/os": "linux"}, None),
    ({"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64/../x"}, None),
    ("[1, 2]", None), ("{broken", None), (42, None), (None, None),
])
def test_node_platform(value, platform):
    assert nodelabels.node_platform(value) == platform


def test_replay_gives_library_loads_the_nodes_platform():
    """claw_node_platform on the unlisted-library rule's rows: the host's latest heartbeat."""
    result = engine.replay(os.path.join(paths.SCENARIOS, "attack-unlisted-library-preload-rootkit"))
    rows = [r for r in result.results if r["detection_id"] == "claw_unlisted_library_load"]
    assert rows and {r["claw_node_platform"] for r in rows} == {"linux/amd64"}
    multi = engine.replay(os.path.join(paths.SCENARIOS, "benign-multi-arch-image"))
    assert multi.platforms["prod-arm-01"][1] == "linux/arm64" and multi.platforms["prod-fe-01"][1] == "linux/amd64"


def test_the_latest_heartbeat_decides_the_platform():
    platforms = {}
    later = heartbeat("n1", 0, **{"kubernetes.io/arch": "arm64"})
    skips.note_platform(platforms, later, 20)
    skips.note_platform(platforms, heartbeat("N1", 0), 10)  # an older one, read afterwards
    assert platforms == {"n1": (20, "linux/arm64")}


def test_train_merge_false_reads_and_warns_about_no_baseline(app, splunk_python):  # noqa: F811
    events = history(days=1)
    fresh = run(app, ["mode=train", "merge=false", "now=%d" % (T0 + DAY)], tiers.aggregate_events(events),
                splunk_python)
    assert fresh.errors() == [], fresh.stderr
    warnings = " ".join(t for level, t in fresh.messages if level == "WARN")
    assert "does not exist yet" not in warnings
    merged = run(app, ["mode=train", "now=%d" % (T0 + DAY)], tiers.aggregate_events(events), splunk_python)
    assert "does not exist yet" in " ".join(t for level, t in merged.messages if level == "WARN")
    # the node rows reach the command: the tiers come from the node labels
    assert {r["image_digest"]: r["tiers"] for r in fresh.records} == {WEB: "frontend", LEDGER: "backend"}


def test_spl_writes_and_reads_the_node_platforms_lookup():
    """The lookup claw_node_platforms (host -> os/arch) comes from the sensor's heartbeats only
    and the unlisted-library rule reads it before clawsbomcheck. json_extract_exact takes the
    label keys literally (their dots are no path):
    https://help.splunk.com/splunk-enterprise/search/spl-search-reference/9.4/evaluation-functions/json-functions"""
    from claw_ta import conffile as conf
    searches = conf.app_conf("savedsearches")
    writer = " ".join(searches["Claw - Node Platforms"]["search"].split())
    assert writer.startswith("`claw_runtime_index` `claw_runtime_sensor` event_type=agent_heartbeat |")
    for label in (nodelabels.OS_LABEL, nodelabels.ARCH_LABEL):
        assert 'json_extract_exact(claw_node_labels, "%s")' % label in writer
    assert "by host" in writer and writer.endswith("| outputlookup override_if_empty=false claw_node_platforms")
    # a KV store collection: empty before the first run, a lookup that matches nothing (a
    # missing CSV would fail the rule); hosts are written and looked up lowercased
    transforms = conf.app_conf("transforms")["claw_node_platforms"]
    assert (transforms["external_type"], transforms["collection"]) == ("kvstore", "claw_node_platforms")
    assert [f.strip() for f in transforms["fields_list"].split(",")] == ["_key", "host", "platform", "last_seen"]
    assert "claw_node_platforms" in conf.app_conf("collections")
    assert "host=mvdedup(mvappend(lower(dest), lower(host)))" in writer
    rule = " ".join(searches["Claw - Unlisted Library Load - Rule"]["search"].split())
    lookup = ("| eval claw_node_host=lower(host) | lookup claw_node_platforms host AS claw_node_host "
              "OUTPUTNEW platform AS claw_node_platform | fields - claw_node_host |")
    assert lookup in rule and rule.index(lookup) < rule.index("| clawsbomcheck")


def _macro_evals():
    from claw_ta import conffile as conf
    definition = " ".join(conf.app_conf("macros")["claw_tier_aggregate"]["definition"].replace("\\\n", " ").split())
    labels = definition.split("| eval claw_node_labels=", 1)[1].split(" | eval image_digest=", 1)[0]
    digest = definition.split("| eval image_digest=", 1)[1].split(", host=coalesce", 1)[0]
    return labels, digest


@pytest.mark.parametrize("shape", ["raw", "cri", "hec_merged", "hec_log", "journald", "fluentbit_systemd"])
def test_the_macro_reads_the_heartbeats_node_labels_in_every_shape(shape):
    """claw_tier_aggregate's evals (the props emulator's SPL interpreter) turn a heartbeat of
    any delivery shape into a node row whose labels name the node's tier and platform,
    as the replay's normalized event does; an attestation is no node row."""
    from claw_ta_tools.emulators import spl_eval
    from tests.test_fields_by_shape import SAMPLES, python_fields, splunk_fields
    labels_expr, digest_expr = (spl_eval.compile_expression(text) for text in _macro_evals())
    by_case = {s.case: s for s in SAMPLES if s.shape == shape}
    fields = splunk_fields(by_case["agent_heartbeat"])
    fields["claw_node_labels"] = labels_expr(fields)
    assert digest_expr(fields) == tiers.NODE_ROW
    assert nodelabels.node_tier(fields["claw_node_labels"]) == "backend"
    assert nodelabels.node_platform(fields["claw_node_labels"]) == "linux/amd64"
    replay_event = python_fields(by_case["agent_heartbeat"])
    assert nodelabels.node_labels(replay_event["k8s_node_labels"]) == nodelabels.node_labels(fields["claw_node_labels"])
    attestation_fields = splunk_fields(by_case["image_attestation_allowed"])
    attestation_fields["claw_node_labels"] = labels_expr(attestation_fields)
    assert attestation_fields["claw_node_labels"] is None
    assert digest_expr(attestation_fields) == attestation_fields["image_digest"]


@pytest.mark.parametrize("labels", [
    "{" + '"tier": "x",' * 20000 + '"a": "b"}',   # over MAX_TEXT: not parsed
    ["tier=frontend"], {"tier": {"nested": "frontend"}}, {"tier": ""}, {"tier": "f" * 300}, "not json", 12,
])
def test_bad_node_labels_give_no_tier_and_lose_nothing(labels):
    event = heartbeat("n1", T0)
    event["k8s_node_labels"] = labels
    agg = tiers.Aggregator().add_all([event, attestation(WEB, "n1", T0 + 5)])
    assert agg.nodes == {} and agg.report == {}
    assert agg.pairs[(WEB, "n1")].count == 1
