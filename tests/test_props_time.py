"""_time of claw events as Splunk sets it, for every shape, and as the replay reads it.

Splunk documentation relied on:
- props.conf spec (TIME_PREFIX, TIME_FORMAT, MAX_TIMESTAMP_LOOKAHEAD; a format
  that does not match falls back to automatic recognition):
  https://docs.splunk.com/Documentation/Splunk/latest/Admin/propsconf
- HEC /services/collector/event: no timestamp extraction unless
  auto_extract_timestamp=true, and the envelope time wins even then:
  https://help.splunk.com/en/splunk-enterprise/get-data-in/collect-http-event-data/http-event-collector-rest-api-endpoints
- INGEST_EVAL runs at index time on every event of the sourcetype:
  https://help.splunk.com/splunk-enterprise/get-started/get-data-in/9.0/configure-indexed-field-extraction/process-events-with-ingest-time-eval
- Fluent Bit's splunk output puts the record's time in the envelope `time`:
  https://docs.fluentbit.io/manual/pipeline/outputs/splunk
"""
import json

import pytest

from claw_ta_tools import normalize
from claw_ta_tools.emulators import props_emulator as pe
from tests.test_props_index_time import claw_line, cri

READ_TIME = 1795190000.25  # when Fluent Bit read the line: never the event's time
STAMPS = [
    ("2026-11-20T14:03:08Z", 1795183388.0),  # Go writes no fraction when it is zero
    ("2026-11-20T14:03:08.5Z", 1795183388.5),
    ("2026-11-20T14:03:08.000001Z", 1795183388.000001),
    ("2026-11-20T14:03:08.123456789Z", 1795183388.123456789),
]


def hec_shapes(line):
    """The Fluent Bit records of one claw line: Merge_Log Off / On, systemd."""
    kube = {"pod_name": "claw-runtime-7xk2p", "namespace_name": "claw-system", "host": "node-12"}
    merged = dict(json.loads(line), stream="stdout", kubernetes=kube)
    return {
        "hec_log": {"log": line + "\n", "stream": "stdout", "kubernetes": kube},
        "hec_merged": merged,
        "fluentbit_systemd": {"MESSAGE": line, "_SYSTEMD_UNIT": "claw-runtime.service", "_HOSTNAME": "node-12"},
    }


@pytest.mark.parametrize("stamp,expected", STAMPS)
def test_file_shapes_take_the_claw_timestamp_with_or_without_a_fraction(stamp, expected):
    line = claw_line("t", timestamp=stamp)
    for sourcetype, data in (("claw:runtime", line + "\n"), ("claw:runtime:cri", cri(line))):
        (_, raw, when), = pe.index_time(sourcetype, data)
        assert not isinstance(when, pe.TimeFailed), when
        assert when == pytest.approx(expected, abs=1e-6), (sourcetype, stamp)


@pytest.mark.parametrize("stamp,expected", STAMPS)
def test_hec_events_take_the_claw_timestamp_not_the_envelope_time(stamp, expected):
    for shape, record in hec_shapes(claw_line("t", timestamp=stamp)).items():
        (_, _, when) = pe.hec_event(record, envelope_time=READ_TIME)
        assert when == pytest.approx(expected, abs=1e-6), shape


def test_a_timestamp_further_in_the_event_cannot_set_time():
    """Only the first `timestamp` key counts: a later one is attacker-written text."""
    line = claw_line("t", timestamp="not a time", library_path='/x/"timestamp":"2020-01-01T00:00:00Z"/lib.so')
    (_, _, when) = pe.hec_event({"log": line, "stream": "stdout"}, envelope_time=READ_TIME)
    assert when == READ_TIME
    (_, _, when), = pe.index_time("claw:runtime", line + "\n")
    assert isinstance(when, pe.TimeFailed)


def test_hec_event_without_a_claw_timestamp_keeps_the_envelope_time():
    (_, _, when) = pe.hec_event({"log": "claw-runtime: warning: ring buffer overrun"}, envelope_time=READ_TIME)
    assert when == READ_TIME


def test_a_time_format_that_fails_is_reported_not_index_time():
    stanza = dict(pe.PROPS["claw:runtime"], TIME_FORMAT="%Y-%m-%dT%H:%M:%S.%9N%Z")
    failed = pe.extract_time(stanza, claw_line("t", timestamp="2026-11-20T14:03:08Z"))
    assert isinstance(failed, pe.TimeFailed) and "does not match" in failed.reason
    assert pe.extract_time(dict(stanza, DATETIME_CONFIG="CURRENT"), "x") is None


@pytest.mark.parametrize("stamp,expected", STAMPS)
def test_the_replay_reads_the_same_time_as_splunk(stamp, expected):
    """normalize gives integer nanoseconds and the float _time Splunk keeps (microseconds)."""
    line = claw_line("t", timestamp=stamp)
    event = normalize.normalize_text(line)
    whole, frac = (stamp[:-1].split(".") + [""])[:2]
    assert event["_time_ns"] == int(expected) * 10 ** 9 + int((frac + "000000000")[:9])
    assert event["_time"] == pytest.approx(expected, abs=1e-6)
    assert event["_time"] <= expected + 1e-9  # truncated, never rounded up into the next second


def test_the_replay_takes_the_hec_envelope_time_only_without_a_claw_timestamp(tmp_path):
    path = tmp_path / "x.hec.jsonl"
    lines = [{"time": READ_TIME, "host": "node-12", "event": {"log": claw_line("a", timestamp="2026-11-20T14:03:08Z")}},
             {"time": "1795190001.000000002", "event": {"log": json.dumps({"event_type": "agent_heartbeat"})}},
             {"time": READ_TIME, "event": {"log": claw_line("b", timestamp="garbage")}}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    events = list(normalize.read_events(str(path)))
    assert [e["_time_ns"] for e in events] == [1795183388 * 10 ** 9, 1795190001000000002, 1795190000250000000]


@pytest.mark.parametrize("stamp,inside", [
    ("2026-11-20T11:59:59.999999999Z", False),
    ("2026-11-20T12:00:00Z", True),
    ("2026-11-20T12:00:00.000000001Z", True),
    ("2026-11-20T12:59:59.999999999Z", True),   # a float made this 13:00:00: outside
    ("2026-11-20T12:59:59.9999999999Z", True),  # a tenth digit is dropped, never rounded up
    ("2026-11-20T13:00:00Z", False),
    ("2026-11-20T13:00:00.000000001Z", False),
])
def test_window_edges_in_integer_nanoseconds(tmp_path, stamp, inside):
    """[detect_from, detect_to) = [12:00, 13:00), as a scheduled search over that window."""
    from tests.replay_support import alerts_of, lib, make_scenario
    path = make_scenario(tmp_path, "edge", [lib(stamp, "/dev/shm/edge.so")])
    found = [a for a in alerts_of(path) if a["detection_id"] == "claw_library_from_writable_path"]
    assert bool(found) is inside
