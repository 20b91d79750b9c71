"""What only a real Splunk can show about ingestion (skipped without SPLUNK_HOST).

Each test sends its own events (tagged with this run's id) and checks the
documented behaviour docs/data-collection.md relies on:
- /services/collector/event keeps the envelope time unless something at index
  time changes it: the add-on's claw_runtime_time INGEST_EVAL sets _time from
  the claw timestamp, with or without a fraction (and how many digits survive);
- TIME_FORMAT to the second on file lines (HEC raw endpoint: line breaking and
  timestamp extraction run), with and without a fraction;
- the CRI line breaker with an empty F line, TRUNCATE with a 300 KB record;
- the event's own tier survives the label; `claw_runtime_sensor` drops a workload's forged event;
- _time from the claw object's own timestamp (not a nested one), never one
  outside MAX_DAYS_AGO / MAX_DAYS_HENCE of the index time; the JSON functions,
  time() and the null() of a temporary field at index time;
- a stderr line inside a stdout P...F sequence is an event of its own;
- fields past [spath] extraction_cutoff (a 2.3 KB process path) are extracted.
"""
import json
import time
import uuid

import pytest

from claw_ta_tools.normalize import parse_time

STAMP = "2026-11-20T14:03:08.123456789Z"
WHOLE = "2026-11-20T14:03:09Z"
SENSOR_KUBE = {"namespace_name": "claw-system", "pod_name": "claw-runtime-7xk2p", "host": "node-12"}


def claw(event_id, timestamp=STAMP, **extra):
    event = {"timestamp": timestamp, "event_id": event_id, "event_type": "agent_heartbeat",
             "agent_id": "claw-node-12", "runtime_version": "1.8.2", "host": "node-12"}
    event.update(extra)
    return event


@pytest.fixture(scope="module")
def sent(live_splunk):
    """Sends the events of this module once; returns {name: search for its one event}."""
    run, index = uuid.uuid4().hex[:12], live_splunk.config["index"]
    read_time = "%.6f" % time.time()  # what Fluent Bit sends without the shipped parser
    searches = {}

    def event_endpoint(name, record):
        payload = {"event": record, "time": read_time, "sourcetype": "claw:runtime", "source": "claw-runtime",
                   "index": index, "fields": {"claw_live": name, "claw_run": run}}
        live_splunk._hec("/services/collector/event", json.dumps(payload))
        searches[name] = 'search index="%s" claw_live::%s claw_run::%s' % (index, name, run)

    def raw_endpoint(name, text, sourcetype, term):
        live_splunk._hec("/services/collector/raw", text, {"sourcetype": sourcetype, "index": index,
                                                             "source": "claw-live-" + run})
        searches[name] = 'search index="%s" source="claw-live-%s" "%s"' % (index, run, term)

    event_endpoint("hec_fraction", {"log": json.dumps(claw("h1-" + run)), "stream": "stdout",
                                    "kubernetes": SENSOR_KUBE})
    event_endpoint("hec_whole", dict(claw("h2-" + run, timestamp=WHOLE), kubernetes=SENSOR_KUBE))
    labels = dict(("pad-%05d" % i, "v" * 90) for i in range(3000))
    event_endpoint("hec_padded", dict(claw("h3-" + run), kubernetes=dict(SENSOR_KUBE, labels=labels)))
    event_endpoint("hec_forged", dict(claw("h4-" + run), kubernetes={"namespace_name": "shop-prod",
                                                                     "pod_name": "claw-runtime-fake"}))
    raw_endpoint("raw_whole", json.dumps(claw("r1-" + run, timestamp=WHOLE, tier="backend")) + "\n",
                 "claw:runtime", "r1-" + run)
    cri = "2026-11-20T14:03:10.1Z stdout F\n2026-11-20T14:03:10.2Z stdout F %s\n" % json.dumps(claw("c1-" + run))
    raw_endpoint("cri_after_empty_f", cri, "claw:runtime:cri", "c1-" + run)
    nested = {"kubernetes": dict(SENSOR_KUBE, annotations={"timestamp": "2020-01-01T00:00:00Z"}),
              "log": json.dumps(claw("h5-" + run))}
    event_endpoint("hec_nested_timestamp", nested)
    event_endpoint("hec_far_future", {"log": json.dumps(claw("h6-" + run, timestamp="9999-12-31T23:59:59Z")),
                                      "kubernetes": SENSOR_KUBE})
    long_path = "/opt/app/" + "d" * 2300 + "/bin/server"
    event_endpoint("hec_past_cutoff", dict(claw("h7-" + run, event_type="library_load", subject_name=long_path,
                                                triggering_process_path=long_path, library_path="/usr/lib/libz.so.1",
                                                library_digest="sha256:" + "2" * 64, k8s_namespace="payments"),
                                           kubernetes=SENSOR_KUBE))
    partial = json.dumps(claw("c2-" + run))
    cri_mixed = ("2026-11-20T14:03:11.1Z stdout P %s\n2026-11-20T14:03:11.2Z stderr F panic-%s\n"
                 "2026-11-20T14:03:11.3Z stdout F %s\n" % (partial[:40], run, partial[40:]))
    raw_endpoint("cri_stderr_inside_partials", cri_mixed, "claw:runtime:cri", "panic-" + run)
    deadline = time.time() + live_splunk.config["timeout"]
    pending = dict(searches)
    while pending and time.time() < deadline:
        for name, spl in list(pending.items()):
            if live_splunk.search(spl + " | stats count")[0].get("count", "0") != "0":
                pending.pop(name)
        time.sleep(5 if pending else 0)
    return searches


def one(live_splunk, spl):
    rows = live_splunk.search(spl + " | eval claw_live_epoch=printf(\"%.9f\", _time) | table *")
    assert len(rows) == 1, (spl, len(rows))
    return rows[0]


@pytest.mark.parametrize("name,stamp", [("hec_fraction", STAMP), ("hec_whole", WHOLE), ("raw_whole", WHOLE)])
def test_time_is_the_claw_timestamp_not_the_envelope_or_index_time(live_splunk, sent, name, stamp):
    row = one(live_splunk, sent[name])
    assert float(row["claw_live_epoch"]) == pytest.approx(parse_time(stamp), abs=1e-6)


def test_how_many_fraction_digits_survive(live_splunk, sent):
    """docs/data-collection.md says microseconds (6 digits); this shows what this Splunk keeps."""
    digits = one(live_splunk, sent["hec_fraction"])["claw_live_epoch"].split(".")[1]
    assert digits[:6] == "123456", digits


def test_a_300_kb_record_keeps_its_claw_fields(live_splunk, sent):
    row = one(live_splunk, sent["hec_padded"])
    assert row.get("event_type") == "agent_heartbeat" and row.get("sensor_namespace") == "claw-system"


def test_an_empty_f_line_does_not_swallow_the_next_cri_line(live_splunk, sent):
    row = one(live_splunk, sent["cri_after_empty_f"])
    assert row["_raw"].startswith('{"timestamp"') and row.get("sourcetype") == "claw:runtime"


def test_an_event_tier_survives_the_label(live_splunk, sent):
    assert one(live_splunk, sent["raw_whole"]).get("tier") == "backend"


def test_the_sensor_filter_drops_a_forged_event(live_splunk, sent):
    forged = sent["hec_forged"] + " `claw_runtime_sensor` | stats count"
    real = sent["hec_fraction"] + " `claw_runtime_sensor` | stats count"
    assert live_splunk.search(forged)[0]["count"] == "0"
    assert live_splunk.search(real)[0]["count"] == "1"


def test_a_nested_timestamp_is_not_the_time(live_splunk, sent):
    row = one(live_splunk, sent["hec_nested_timestamp"])
    assert float(row["claw_live_epoch"]) == pytest.approx(parse_time(STAMP), abs=1e-6)
    assert "claw_ts" not in row  # the temporary field of the ingest eval is not indexed


def test_a_time_far_from_the_index_time_is_not_taken(live_splunk, sent):
    row = one(live_splunk, sent["hec_far_future"])
    assert float(row["claw_live_epoch"]) < parse_time("2100-01-01T00:00:00Z")


def test_a_stderr_line_inside_stdout_partials_is_an_event_of_its_own(live_splunk, sent):
    row = one(live_splunk, sent["cri_stderr_inside_partials"])
    assert row["_raw"].startswith("panic-") and "event_id" not in row["_raw"]


def test_fields_past_the_json_extraction_cutoff(live_splunk, sent):
    row = one(live_splunk, sent["hec_past_cutoff"])
    assert (row.get("library_path"), row.get("library_digest"), row.get("namespace")) == (
        "/usr/lib/libz.so.1", "sha256:" + "2" * 64, "payments")
