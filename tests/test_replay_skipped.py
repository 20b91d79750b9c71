"""`claw-ta replay` says, per scenario, how many events it skipped and why (never silent).

A user who writes a Fluent Bit HEC scenario from an old reading of the log
format (the workload pod in the `kubernetes` object) gets no alert: every
event names a writer that is not the sensor. The replay must say so in one
line per scenario on stderr, with the counts per reason (`not_sensor` with
the writers it saw, `no_time`, `malformed`), not five identical lines.
"""
import json
import re
import subprocess
import sys

from tests import paths
from tests.replay_support import ev, lib, make_scenario


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "claw_ta_tools.cli"] + list(args), cwd=paths.REPO,
                          env=paths.source_env(), capture_output=True, text=True, timeout=120)


def hec(event, namespace, pod):
    """A Fluent Bit record whose `kubernetes` object names ``namespace/pod`` as the writer."""
    record = dict(event, stream="stdout")
    record["kubernetes"] = {"namespace_name": namespace, "pod_name": pod, "host": event["host"]}
    return json.dumps({"time": 1795176000, "host": event["host"], "sourcetype": "claw:runtime",
                       "event": record}) + "\n"


def test_skipped_events_are_counted_per_reason_and_writer(tmp_path):
    loads = [lib("12:%02d:00" % m, "/usr/lib/libx.so", pod="api-%d" % (m % 3)) for m in range(30)]
    misread = "".join(hec(e, "payments", e["k8s_pod"]) for e in loads)  # workload pod as the writer
    misread += hec(ev("12:40:00", "agent_heartbeat"), "payments", "api-0")
    sensor = "".join(hec(ev("12:%02d:10" % m, "agent_heartbeat"), "claw-system", "claw-runtime-x1")
                     for m in range(3))
    no_time = json.dumps(dict(ev("12:00:00", "agent_heartbeat"), timestamp="not a time")) + "\n"
    path = make_scenario(tmp_path, "misread", [], raw_files={
        "fleet.hec.jsonl": misread + sensor, "other.jsonl": no_time + "{broken\n"})
    done = _cli("replay", path)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if re.search(r": skipped \d+ of \d+ events: ", line)]
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert line.startswith("claw-ta: misread: skipped 33 of 36 events: ")
    assert "not_sensor=31 (writers: pod payments/api-0: 11, pod payments/api-1: 10, pod payments/api-2: 10;" in line
    assert "the sensor is namespace claw-system, pod claw-runtime-*" in line
    assert "no_time=1" in line and "malformed=1" in line
    assert "skipped an event not written by the sensor" not in done.stderr  # no repeated per-event lines


def test_nothing_skipped_prints_no_summary(tmp_path):
    path = make_scenario(tmp_path, "clean", [ev("12:%02d:00" % m, "agent_heartbeat") for m in range(5)])
    done = _cli("replay", path)
    assert done.returncode == 0 and "skipped" not in done.stderr, done.stderr


def test_writers_beyond_the_limit_are_summed_not_listed(tmp_path):
    text = "".join(hec(ev("12:00:%02d" % (i % 60), "agent_heartbeat"), "tenant", "pod-%02d" % i) for i in range(30))
    path = make_scenario(tmp_path, "many", [], raw_files={"x.hec.jsonl": text})
    done = _cli("replay", path)
    line = [x for x in done.stderr.splitlines() if "not_sensor=30" in x][0]
    assert line.count("pod tenant/pod-") == 20 and "(other writers): 10" in line
