"""Index-time settings of props.conf, exercised on CRI and raw streams."""
import json

import pytest

from claw_ta_tools.emulators import props_emulator as pe

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


def test_truncate_is_bounded_and_keeps_a_300_kb_record_whole():
    """TRUNCATE counts bytes (props.conf spec,
    https://docs.splunk.com/Documentation/Splunk/latest/Admin/propsconf): at
    262144 a 300 KB event lost its JSON, hence every field, event_type included."""
    for sourcetype in ("claw:runtime", "claw:runtime:cri"):
        truncate = int(pe.PROPS[sourcetype]["TRUNCATE"])
        assert 300000 < truncate <= 4 * 1048576
    padded = claw_line("huge", reason="r" * 300000)
    for sourcetype, data in (("claw:runtime", padded + "\n"), ("claw:runtime:cri", cri(padded))):
        (_, raw, when), = pe.index_time(sourcetype, data)
        assert raw == padded and when == pytest.approx(1795183402.123456789, abs=1e-6)
        fields = pe.search_time(raw)
        assert fields["event_type"] == "binary_attestation" and fields["subject_digest"] == DIGEST


def test_padding_with_thousands_of_pod_labels_keeps_the_claw_fields():
    """A 300 KB Fluent Bit record (HEC event endpoint) padded with pod labels."""
    labels = dict(("padding-%05d" % i, "v" * 90) for i in range(3000))
    record = {"log": claw_line("pad") + "\n", "stream": "stdout",
              "kubernetes": {"pod_name": "claw-runtime-7xk2p", "namespace_name": "claw-system", "labels": labels}}
    (_, raw, when), = [pe.hec_event(record, envelope_time=1795190000.5)]
    assert len(raw.encode("utf-8")) > 300000
    fields = pe.search_time(raw)
    assert (fields["event_type"], fields["verdict"], fields["subject_digest"]) == ("binary_attestation", "Allowed", DIGEST)
    assert when == pytest.approx(1795183402.123456789, abs=1e-6)


def test_emulated_truncate_counts_bytes_and_keeps_whole_characters():
    stanza = {"LINE_BREAKER": "([\\r\\n]+)", "TRUNCATE": "10"}
    assert pe.break_lines(stanza, "\u00e9" * 8 + "\n") == ["\u00e9" * 5]  # 16 bytes -> 10 bytes
    assert pe.break_lines(stanza, "a" + "\u00e9" * 8 + "\n") == ["a" + "\u00e9" * 4]  # 9 bytes: no half character


def test_lookbehind_covers_a_whole_partial():
    assert int(pe.PROPS["claw:runtime:cri"]["LINE_BREAKER_LOOKBEHIND"]) > 16384 + 64


@pytest.mark.parametrize("chunk", [4096, 8192, 16384 + 7, 65536])
def test_a_partial_split_across_read_boundaries_stays_one_event(chunk):
    """Splunk applies LINE_BREAKER to raw chunks, looking back only
    LINE_BREAKER_LOOKBEHIND bytes into the previous one (props.conf spec,
    https://docs.splunk.com/Documentation/Splunk/latest/Admin/propsconf)."""
    big = claw_line("big", reason="x" * 50000)
    data = cri(claw_line("a")) + cri(big) + cri(claw_line("b", reason="y" * 15000)) + cri(claw_line("c"))
    events = pe.index_time("claw:runtime:cri", data, chunk_bytes=chunk)
    assert [raw for _, raw, _ in events] == [
        claw_line("a"), big, claw_line("b", reason="y" * 15000), claw_line("c")]


def test_the_default_lookbehind_would_merge_events_at_a_read_boundary():
    """What LINE_BREAKER_LOOKBEHIND = 20000 is for: with the default (100), an F
    line that starts more than 100 bytes before a chunk's end is never a boundary."""
    stanza = dict(pe.PROPS["claw:runtime:cri"], LINE_BREAKER_LOOKBEHIND="100")
    data = cri(claw_line("a", reason="y" * 15000)) + cri(claw_line("b"))
    assert len(pe.break_lines(stanza, data, chunk_bytes=8192)) == 1
    assert len(pe.break_lines(pe.PROPS["claw:runtime:cri"], data, chunk_bytes=8192)) == 2


def test_cri_separators_are_spaces_so_an_empty_f_line_does_not_swallow_the_next():
    """\\s after F matched the newline of an empty F line, gluing the next CRI line to it."""
    data = "2026-11-20T14:03:22.1Z stdout F\n" + cri(claw_line("b")) + \
        "2026-11-20T14:03:23.1Z stdout F \n" + cri(claw_line("c"))
    events = pe.index_time("claw:runtime:cri", data)
    assert [raw for _, raw, _ in events if raw] == [claw_line("b"), claw_line("c")]


def test_a_cri_prefix_inside_a_partial_is_no_boundary():
    """The workload chooses library paths: a path that looks like a CRI F prefix
    inside a P partial's JSON must not end the event there."""
    path = "/tmp/x 2026-11-20T14:03:22Z stdout F y/" + "z" * 20000 + ".so"
    line = claw_line("evil", event_type="library_load", library_path=path)
    events = pe.index_time("claw:runtime:cri", cri(line) + cri(claw_line("next")))
    assert [raw for _, raw, _ in events] == [line, claw_line("next")]


@pytest.mark.parametrize("sourcetype", ["claw:runtime", "claw:runtime:cri"])
def test_universal_forwarders_break_events_like_the_indexer(sourcetype):
    """EVENT_BREAKER_ENABLE / EVENT_BREAKER (props.conf spec): without them a
    universal forwarder cannot switch indexer mid-file and sticks to one."""
    stanza = pe.PROPS[sourcetype]
    assert stanza.get("EVENT_BREAKER_ENABLE") == "true"
    as_uf = dict(stanza, LINE_BREAKER=stanza["EVENT_BREAKER"])
    big = claw_line("big", reason="x" * 40000)
    data = (cri(claw_line("a")) + cri(big) + cri(claw_line("b"))) if sourcetype.endswith(":cri") else \
        "\n".join((claw_line("a"), big, claw_line("b"))) + "\n"
    assert pe.break_lines(as_uf, data) == pe.break_lines(stanza, data)
    assert len(pe.break_lines(as_uf, data)) == 3


def test_no_indexed_extractions_with_kv_mode_json():
    for stanza in pe.PROPS.values():
        assert not ("INDEXED_EXTRACTIONS" in stanza and stanza.get("KV_MODE") == "json")
    assert pe.PROPS["claw:runtime"]["KV_MODE"] == "json"


def test_not_json_lines_stay_events():
    data = "garbage line\n" + claw_line("ok") + "\n{\"truncated\": \n"
    events = pe.index_time("claw:runtime", data)
    assert len(events) == 3
    assert isinstance(events[0][2], pe.TimeFailed)  # no claw timestamp: Splunk's fallback decides


def test_cri_file_name_is_the_sensor_not_the_workload():
    """The CRI file is the log of the pod that wrote the line: the claw-runtime sensor."""
    fields = pe.search_time(claw_line("n"), source=CRI_SOURCE)
    assert (fields["sensor_namespace"], fields["sensor_pod"]) == ("payments", "payments-api-7d9f")
    assert "namespace" not in fields and "pod" not in fields and "container_id" not in fields
    for hostile in ("/var/log/containers/../../etc/passwd", "/var/log/containers/a_b_c-short.log",
                    "/tmp/x_y_z-%s.log.gz" % CONTAINER):
        fields = pe.search_time(claw_line("n"), source=hostile)
        assert "sensor_namespace" not in fields and "sensor_pod" not in fields


def test_workload_identity_comes_from_the_claw_event():
    fields = pe.search_time(claw_line("n", k8s_namespace="checkout", k8s_pod="co-1"), source=CRI_SOURCE)
    assert (fields["namespace"], fields["pod"]) == ("checkout", "co-1")
    assert (fields["sensor_namespace"], fields["sensor_pod"]) == ("payments", "payments-api-7d9f")


def test_policy_feedback_log_lines_break_and_parse():
    data = ('2026-11-20 14:20:01,123 +0000 INFO pid=42 event=applied key="k1"\n'
            '2026-11-20 15:20:01,500 +0100 ERROR pid=42 event=kept reason="HTTP 500"\n')
    events = pe.index_time("claw:policy_feedback:log", data)
    assert [when for _, _, when in events] == [pytest.approx(1795184401.123), pytest.approx(1795184401.5)]


def test_replay_reads_the_sensor_identity_from_scenario_cri_file_names():
    from claw_ta_tools.normalize import normalize
    source = "scenario/events/payments-api-7d9f_payments_claw-runtime-%s.cri.log" % CONTAINER
    fields = normalize(json.loads(claw_line("n")), source=source)
    assert (fields["sensor_namespace"], fields["sensor_pod"]) == ("payments", "payments-api-7d9f")
    assert "namespace" not in fields and "pod" not in fields and "container_id" not in fields


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


def test_field_alias_as_removes_the_destination_and_asnew_keeps_it():
    """Since Splunk 7.2.4, AS removes an existing destination field when the source
    is absent; ASNEW never overwrites or removes it
    (https://help.splunk.com/splunk-enterprise/release-notes-and-updates/release-notes/9.4/known-issues-for-this-release/field-alias-behavior-change)."""
    fields = {"tier": "backend"}
    pe.field_alias(fields, '"kubernetes.labels.tier" AS tier')
    assert "tier" not in fields
    fields = {"tier": "backend"}
    pe.field_alias(fields, '"kubernetes.labels.tier" ASNEW tier')
    assert fields["tier"] == "backend"
    fields = {"tier": "backend", "kubernetes.labels.tier": "frontend"}
    pe.field_alias(fields, '"kubernetes.labels.tier" AS tier')
    assert fields["tier"] == "frontend"
    fields = {"tier": "backend", "kubernetes.labels.tier": "frontend"}
    pe.field_alias(fields, '"kubernetes.labels.tier" ASNEW tier')
    assert fields["tier"] == "backend"


def test_tier_is_the_workload_pods_label_never_the_sensor_pods():
    """`tier` is the claw event's k8s_labels.tier (the workload pod, as the sensor read it):
    the `kubernetes` object's labels are the sensor pod's own and never become a tier.
    The props emulator and the replay's normalization agree on every shape."""
    from claw_ta_tools.normalize import normalize
    record = json.loads(claw_line("n", k8s_labels={"app": "ledger", "tier": "backend"}))
    record["kubernetes"] = {"namespace_name": "claw-system", "pod_name": "claw-runtime-x",
                            "labels": {"tier": "platform-security"}}
    assert pe.search_time(json.dumps(record))["tier"] == normalize(dict(record))["tier"] == "backend"
    wrapped = {"log": json.dumps({k: v for k, v in record.items() if k != "kubernetes"}),
               "kubernetes": record["kubernetes"]}
    assert pe.search_time(json.dumps(wrapped))["tier"] == normalize(wrapped)["tier"] == "backend"
    del record["k8s_labels"]  # no workload labels: the sensor's labels do not stand in
    assert "tier" not in pe.search_time(json.dumps(record))
    assert "tier" not in normalize(dict(record))
    # a top-level tier field (no k8s_labels) is still read, after the label
    assert pe.search_time(claw_line("n", tier="data"))["tier"] == "data"