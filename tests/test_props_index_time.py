"""Index-time settings of props.conf, exercised on CRI and raw streams."""
import json

import pytest

from tests import props_emulator as pe

DIGEST = "sha256:" + "a" * 64
CONTAINER = "c" * 64
CRI_SOURCE = "/var/log/containers/payments-api-7d9f_payments_claw-runtime-%s.log" % CONTAINER


def claw_line(event_id, **extra):
    event = {"timestamp": "2026-11-20T14:03:22.123456789Z", "event_id": event_id,
             "event_type": "binary_attestation", "agent_id": "claw-node-12", "runtime_version": "1.8.2",
             "host": "node-12", "verdict": "Allowed", "subject_digest": DIGEST,
             "subject_name": "/usr/local/bin/payments-api", "slsa_level": 3, "policy_name": "prod-baseline",
             "triggering_process_path": "/usr/local/bin/payments-api", "pid": 4121}
    event.update(extra)
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def cri(line, stream="stdout", when="2026-11-20T14:03:22.200000001Z", size=16384):
    """The line as the container runtime writes it: P partials of `size` bytes, then F."""
    parts = [line[i:i + size] for i in range(0, len(line), size)] or [""]
    return "".join("%s %s %s %s\n" % (when, stream, "P" if i < len(parts) - 1 else "F", part)
                   for i, part in enumerate(parts))


def test_raw_lines_break_one_event_per_line_lf_and_crlf():
    data = claw_line("a") + "\n" + claw_line("b") + "\r\n\r\n" + claw_line("c")
    events = pe.index_time("claw:runtime", data)
    assert [json.loads(raw)["event_id"] for _, raw, _ in events] == ["a", "b", "c"]
    assert all(st == "claw:runtime" for st, _, _ in events)


def test_cri_full_lines_are_stripped_and_renamed():
    data = cri(claw_line("a")) + cri(claw_line("b"), stream="stderr")
    events = pe.index_time("claw:runtime:cri", data)
    assert [(st, raw) for st, raw, _ in events] == [
        ("claw:runtime", claw_line("a")), ("claw:runtime", claw_line("b"))]


def test_cri_partials_over_16k_are_reassembled_with_their_f_line():
    big = claw_line("big", reason="x" * 50000)
    data = cri(claw_line("before")) + cri(big) + cri(claw_line("after"))
    assert data.count(" P ") >= 3
    events = pe.index_time("claw:runtime:cri", data)
    assert [raw for _, raw, _ in events] == [claw_line("before"), big, claw_line("after")]


def test_cri_partial_boundary_inside_a_multibyte_path_and_a_space():
    line = claw_line("utf8", subject_name="/opt/ünïcode bin/ärger " * 900)
    events = pe.index_time("claw:runtime:cri", cri(line, size=1000))
    assert [raw for _, raw, _ in events] == [line]


@pytest.mark.parametrize("stamp,expected", [
    ("2026-11-20T14:03:22.123456789Z", 1795183402.123456789),
    ("2026-11-20T14:03:22.5Z", 1795183402.5),
    ("2026-11-20T14:03:22.000001Z", 1795183402.000001),
])
def test_time_format_reads_the_claw_timestamp_with_nanoseconds(stamp, expected):
    line = claw_line("t", timestamp=stamp)
    for sourcetype, data in (("claw:runtime", line + "\n"), ("claw:runtime:cri", cri(line))):
        (_, _, when), = pe.index_time(sourcetype, data)
        assert when == pytest.approx(expected, abs=1e-6)


def test_cri_time_is_the_claw_timestamp_not_the_runtime_write_time():
    line = claw_line("t", timestamp="2026-11-20T10:00:00.000000001Z")
    (_, _, when), = pe.index_time("claw:runtime:cri", cri(line, when="2026-11-21T00:00:00Z"))
    assert when == pytest.approx(1795168800.0, abs=1e-6)


def test_timestamp_lookahead_is_bounded_and_covers_nine_digits():
    stanza = pe.PROPS["claw:runtime"]
    lookahead = int(stanza["MAX_TIMESTAMP_LOOKAHEAD"])
    assert len("2026-11-20T14:03:22.123456789Z") <= lookahead <= 64


def test_truncate_is_bounded_and_holds_real_events():
    for sourcetype in ("claw:runtime", "claw:runtime:cri"):
        truncate = int(pe.PROPS[sourcetype]["TRUNCATE"])
        assert 65536 <= truncate <= 1048576
    oversized = claw_line("huge", reason="r" * 300000)
    (_, raw, when), = pe.index_time("claw:runtime", oversized + "\n")
    assert len(raw) == int(pe.PROPS["claw:runtime"]["TRUNCATE"])
    assert when is not None  # the key fields lead the line, inside TRUNCATE
    fields = pe.search_time(raw)  # truncated JSON: raw event, no JSON fields, still searchable
    assert fields["_raw"] == raw and fields["vendor_product"] == "Claw Runtime"


def test_lookbehind_covers_a_whole_partial():
    assert int(pe.PROPS["claw:runtime:cri"]["LINE_BREAKER_LOOKBEHIND"]) > 16384 + 64


def test_no_indexed_extractions_with_kv_mode_json():
    for stanza in pe.PROPS.values():
        assert not ("INDEXED_EXTRACTIONS" in stanza and stanza.get("KV_MODE") == "json")
    assert pe.PROPS["claw:runtime"]["KV_MODE"] == "json"


def test_not_json_lines_stay_events():
    data = "garbage line\n" + claw_line("ok") + "\n{\"truncated\": \n"
    events = pe.index_time("claw:runtime", data)
    assert len(events) == 3
    assert events[0][2] is None  # no timestamp: Splunk falls back to the index time


def test_cri_file_name_extraction_and_hostile_names():
    fields = pe.search_time(claw_line("n"), source=CRI_SOURCE)
    assert (fields["namespace"], fields["pod"], fields["container_id"]) == ("payments", "payments-api-7d9f", CONTAINER)
    for hostile in ("/var/log/containers/../../etc/passwd", "/var/log/containers/a_b_c-short.log",
                    "/tmp/x_y_z-%s.log.gz" % CONTAINER):
        fields = pe.search_time(claw_line("n"), source=hostile)
        assert "namespace" not in fields and "pod" not in fields


def test_event_namespace_beats_the_file_name():
    fields = pe.search_time(claw_line("n", k8s_namespace="checkout", k8s_pod="co-1"), source=CRI_SOURCE)
    assert (fields["namespace"], fields["pod"]) == ("checkout", "co-1")


def test_policy_feedback_log_lines_break_and_parse():
    data = ('2026-11-20 14:20:01,123 +0000 INFO pid=42 event=applied key="k1"\n'
            '2026-11-20 15:20:01,500 +0100 ERROR pid=42 event=kept reason="HTTP 500"\n')
    events = pe.index_time("claw:policy_feedback:log", data)
    assert [when for _, _, when in events] == [pytest.approx(1795184401.123), pytest.approx(1795184401.5)]


def test_replay_reads_pod_identity_from_scenario_cri_file_names():
    from claw_ta.normalize import normalize
    source = "scenario/events/payments-api-7d9f_payments_claw-runtime-%s.cri.log" % CONTAINER
    fields = normalize(json.loads(claw_line("n")), source=source)
    assert (fields["namespace"], fields["pod"], fields["container_id"]) == ("payments", "payments-api-7d9f", CONTAINER)


def test_sbom_documents_stay_one_event_each():
    stanza = pe.PROPS["claw:sbom"]
    document = json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5",
                           "components": [{"type": "file", "name": "/usr/lib/libssl.so.3"}] * 500}, indent=2)
    xml = '<?xml version="1.0"?>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.5">\n' + \
        "  <components/>\n" * 300 + "</bom>\n"
    for text in (document, xml):
        events = pe.index_time("claw:sbom", text)
        assert [raw for _, raw, _ in events] == [text]
    assert stanza["DATETIME_CONFIG"] == "CURRENT" and stanza["KV_MODE"] == "none"
    assert 10 * 2 ** 20 <= int(stanza["TRUNCATE"]) <= 2 ** 30
