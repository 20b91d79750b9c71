"""Spoofed sensor events: only what the claw-runtime sensor wrote reaches the detections.

A workload can print claw-shaped JSON lines. The shipped inputs (inputs.conf
monitor path, the Fluent Bit tail Path) read only the sensor pod's log files,
and every search and the replay keep only events whose writer (the
`kubernetes` object or the CRI file name; a journal record's _SYSTEMD_UNIT)
is the configured sensor: `claw_runtime_sensor` (macros.conf), claw_ta_tools.sensor.
Splunk search semantics relied on (OR binds before the implicit AND, `*`
wildcards, `field=*` means the field exists):
https://help.splunk.com/en/splunk-enterprise/spl-search-reference/9.4/search-commands/search
"""
import fnmatch
import json
import os
import re

import pytest

from claw_ta_tools.detections import engine
from claw_ta_tools.detections.scenario import read_sensor_rule
from claw_ta_tools.sensor import SensorRule
from claw_ta import conffile as conf
from tests import paths
from tests.replay_support import ev, make_scenario

MACROS = conf.app_conf("macros")
ID = "0123456789abcdef" * 4


def expand(text, depth=0):
    """Argument-less macro calls expanded literally, as Splunk does."""
    assert depth < 10
    return re.sub(r"`([A-Za-z0-9_]+)`", lambda m: expand(MACROS[m.group(1)]["definition"], depth + 1), text)


def search_matches(expression, event):
    """The search-command subset `claw_runtime_sensor` uses, evaluated on one event:
    terms field=value (`*` wildcard, case-insensitive) and field=*, NOT, OR, parentheses,
    implicit AND; OR binds before AND."""
    tokens = re.findall(r'\(|\)|NOT\b|OR\b|[A-Za-z_][\w.]*=(?:"[^"]*"|\S+?)(?=[\s)]|$)', expression)
    assert "".join(tokens).replace(" ", "") == re.sub(r"\s+", "", expression), "unparsed text"
    pos = [0]

    def peek():
        return tokens[pos[0]] if pos[0] < len(tokens) else None

    def take():
        pos[0] += 1
        return tokens[pos[0] - 1]

    def term():
        tok = take()
        if tok == "NOT":
            return not term()
        if tok == "(":
            value = conjunction()
            assert take() == ")"
            return value
        field, value = tok.split("=", 1)
        have = event.get(field)
        if value == "*":
            return have is not None
        if have is None:
            return False
        pattern = "^%s$" % ".*".join(re.escape(p) for p in value.strip('"').split("*"))
        return re.match(pattern, have, re.I) is not None

    def disjunction():
        value = term()
        while peek() == "OR":
            take()
            value = term() or value
        return value

    def conjunction():
        value = True
        while peek() not in (None, ")"):
            value = disjunction() and value
        return value

    result = conjunction()
    assert peek() is None
    return result


SENSOR = {"sensor_namespace": "claw-system", "sensor_pod": "claw-runtime-7xk2p"}
CASES = [
    ({}, True),  # raw file, Splunk's journald input without the field: the input decides
    (SENSOR, True),
    ({"sensor_namespace": "CLAW-SYSTEM", "sensor_pod": "claw-runtime-ab12c"}, True),
    ({"sensor_namespace": "shop-prod", "sensor_pod": "claw-runtime-fake"}, False),
    ({"sensor_namespace": "claw-system", "sensor_pod": "debug-shell"}, False),
    ({"sensor_namespace": "claw-system"}, False),
    ({"sensor_namespace": "evil", "sensor_pod": "claw-runtime-7xk2p"}, False),
    ({"_SYSTEMD_UNIT": "claw-runtime.service"}, True),
    ({"_SYSTEMD_UNIT": "backup.service"}, False),
    (dict(SENSOR, _SYSTEMD_UNIT="claw-runtime.service"), True),
]


@pytest.mark.parametrize("event,accepted", CASES)
def test_the_macro_and_the_replay_accept_the_same_events(event, accepted):
    rule = read_sensor_rule()
    assert search_matches(expand("`claw_runtime_sensor`"), event) is accepted
    assert rule.accepts(event) is accepted


@pytest.mark.parametrize("event,accepted", CASES)
def test_the_drops_report_shows_exactly_what_the_filter_drops(event, accepted):
    """"Claw - Sensor Filter Drops": every event the filter drops, none it keeps, per writer."""
    search = conf.app_conf("savedsearches")["Claw - Sensor Filter Drops"]["search"]
    base = search.split("|")[0].replace("`claw_runtime_index`", "").strip()
    assert base == "NOT (`claw_runtime_sensor`)"
    assert search_matches(expand(base), event) is (not accepted)
    by = re.search(r"\| stats .* by ([^|\\]*)", search).group(1)
    assert [f.strip() for f in by.split(",")] == ["writer", "sensor_namespace", "sensor_pod", "_SYSTEMD_UNIT"]
    # stats drops rows whose by-field is null: every by-field is filled first
    assert 'fillnull value="-" sensor_namespace sensor_pod _SYSTEMD_UNIT' in search


def test_the_replay_reads_the_site_values(tmp_path):
    local = tmp_path / "local"
    local.mkdir()
    (local / "macros.conf").write_text('[claw_sensor_namespace]\ndefinition = "security"\n\n'
                                       '[claw_sensor_pod]\ndefinition = "claw-*"\n')
    rule = read_sensor_rule(str(tmp_path))
    assert (rule.namespace, rule.pod, rule.unit) == ("security", "claw-*", "claw-runtime.service")
    assert rule.accepts({"sensor_namespace": "security", "sensor_pod": "claw-abc"})
    assert not rule.accepts(SENSOR)


# Reports about ingestion itself count every indexed event, forged ones included.
INGESTION_REPORTS = ("Claw - Daily Volume Estimate",)


def test_every_search_over_claw_events_keeps_only_the_sensor():
    searches = conf.app_conf("savedsearches")
    checked = 0
    for name, stanza in searches.items():
        spl = stanza.get("search", "")
        if "`claw_runtime_index`" not in spl or spl.lstrip().startswith("| tstats") or name in INGESTION_REPORTS:
            continue
        checked += 1
        assert "claw_runtime_sensor" in spl or "(NOT sensor_namespace=*" in expand(spl), name
    assert checked >= 9  # eight detections and the tier baseline training


def sensor_log(pod="claw-runtime-7xk2p", namespace="claw-system", container="claw-runtime"):
    return "%s_%s_%s-%s.log" % (pod, namespace, container, ID)


@pytest.mark.parametrize("name,read", [
    (sensor_log(), True),
    (sensor_log(pod="claw-runtime-ab12c"), True),
    (sensor_log(pod="claw-runtime-fake", namespace="shop-prod"), False),
    (sensor_log(pod="my-claw-runtime-x", namespace="default"), False),
    (sensor_log(pod="debug", namespace="claw-system", container="claw-runtime"), False),
    (sensor_log(pod="claw-runtime-x", namespace="claw-system-evil"), False),
])
def test_shipped_ingestion_paths_read_only_the_sensor_pods(name, read):
    """Kubernetes names contain no `_`, so the pattern's two `_` pin pod and namespace."""
    inputs = [s[len("monitor://"):] for s in conf.app_conf("inputs") if s.startswith("monitor:///var/log/containers/")]
    with open(os.path.join(paths.APP, "README", "fluent-bit", "fluent-bit.conf"), encoding="utf-8") as handle:
        tail = re.findall(r"^\s*Path\s+(\S+)", handle.read(), re.M)
    assert len(inputs) == 1 and len(tail) == 1
    for pattern in inputs + tail:
        assert fnmatch.fnmatchcase("/var/log/containers/" + name, pattern) is read, pattern
    ns = MACROS["claw_sensor_namespace"]["definition"].strip('"')
    pod = MACROS["claw_sensor_pod"]["definition"].strip('"')
    assert inputs[0] == tail[0] == "/var/log/containers/%s_%s_claw-runtime-*.log" % (pod, ns)


def hec(ts, event, namespace="claw-system", pod="claw-runtime-7xk2p"):
    record = dict(event, stream="stdout", kubernetes={"namespace_name": namespace, "pod_name": pod,
                                                     "host": event["host"]})
    return json.dumps({"time": 1795190000.0, "host": event["host"], "source": "claw-runtime",
                       "sourcetype": "claw:runtime", "event": record}) + "\n"


def test_forged_events_from_a_workload_neither_alert_nor_hide_a_silent_sensor(tmp_path):
    """The real sensor on node-9 stops at 12:20; a pod in shop-prod named claw-runtime-fake
    keeps printing its heartbeats and forges a digest mismatch; a CRI log of a pod in another
    namespace forges one too. Only claw_sensor_silent for node-9 may alert."""
    real = [hec(None, ev("%02d:%02d:00" % (11 + m // 60, m % 60), "agent_heartbeat", host="node-9"))
            for m in range(0, 80)]
    forged = [hec(None, ev("12:%02d:30" % m, "agent_heartbeat", host="node-9"),
                  namespace="shop-prod", pod="claw-runtime-fake") for m in range(20, 60)]
    mismatch = ev("12:30:00", "manifest_digest_mismatch", host="node-9", subject_digest="sha256:" + "1" * 64,
                  expected_digest="sha256:" + "1" * 64, observed_digest="sha256:" + "2" * 64,
                  image_ref="registry.example.com/shop/web:1", k8s_namespace="shop-prod")
    forged.append(hec(None, mismatch, namespace="shop-prod", pod="claw-runtime-fake"))
    cri_name = sensor_log(pod="claw-runtime-evil", namespace="tenant-a").replace(".log", ".cri.log")
    cri = "2026-11-20T12:31:00Z stdout F %s\n" % json.dumps(dict(mismatch, event_id="cri-1"))
    path = make_scenario(tmp_path, "spoof", [], raw_files={"fleet.hec.jsonl": "".join(real + forged), cri_name: cri})
    result = engine.replay(path)
    assert [(a["detection_id"], a["host"]) for a in result.alerts] == [("claw_sensor_silent", "node-9")]
    assert result.stats["not_sensor"] == len(forged) + 1
    summary = result.skipped_summary()  # named per writer, printed by claw-ta replay
    assert "not_sensor=%d" % (len(forged) + 1) in summary
    assert "pod shop-prod/claw-runtime-fake: %d" % len(forged) in summary
    assert "pod tenant-a/claw-runtime-evil: 1" in summary
    # The same scenario with a rule naming the forger as the sensor: the forgeries work.
    fooled = engine.replay(path, sensor=SensorRule("*", "*", "*"))
    assert "claw_sensor_silent" not in [a["detection_id"] for a in fooled.alerts]
    assert "claw_manifest_digest_mismatch" in [a["detection_id"] for a in fooled.alerts]
