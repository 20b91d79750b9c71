"""The claw_runtime_time INGEST_EVAL: linear, the claw object's own key, a sane _time.

Splunk documentation relied on:
- transforms.conf spec, DEPTH_LIMIT (PCRE's backtracking depth, default 1000):
  https://help.splunk.com/en/data-management/splunk-enterprise-admin-manual/10.0/10.0.0-configuration-file-reference/transforms.conf
- ingest-time eval (assignments in order, eval functions at index time):
  https://help.splunk.com/splunk-enterprise/get-started/get-data-in/9.0/configure-indexed-field-extraction/process-events-with-ingest-time-eval
- props.conf spec, MAX_DAYS_AGO (default 2000) and MAX_DAYS_HENCE (default 2):
  a timestamp outside them is not taken as the event's time. An INGEST_EVAL
  that sets _time bypasses them, so the transform applies the same bounds:
  https://docs.splunk.com/Documentation/Splunk/latest/Admin/propsconf
"""
import json
import re

import pytest

from claw_ta_tools.emulators import pcre2
from claw_ta_tools.emulators import props_emulator as pe
from tests.test_props_index_time import claw_line, cri

STAMP, EXPECTED = "2026-11-20T14:03:22.123456789Z", 1795183402.123456789
NOW = 1795190000.0  # index time: two hours after the claw timestamp
ENVELOPE = 1795189000.5

OLD_REGEX = (r'^(?:(?!\\?"timestamp\\?")[\s\S])*\\?"timestamp\\?"\s*:\s*\\?"'
             r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,9})Z\\?"[\s\S]*$')


def ingest_regexes():
    """Every regex literal of every INGEST_EVAL (match / replace second argument)."""
    found = []
    for name, stanza in pe.TRANSFORMS.items():
        if "INGEST_EVAL" in stanza:
            for literal in re.findall(r'(?:match|replace)\(\s*[^,()]+,\s*"((?:[^"\\]|\\.)*)"', stanza["INGEST_EVAL"]):
                found.append((name, literal.replace('\\"', '"').replace("\\\\", "\\")))
    return found


def systemd_record(padding):
    """A Fluent Bit systemd record: journal fields (here `padding` bytes of them) before MESSAGE."""
    record = dict(("_JOURNAL_FIELD_%04d" % i, "v" * 90) for i in range(padding // 110 + 1))
    record.update({"_SYSTEMD_UNIT": "claw-runtime.service", "_HOSTNAME": "node-12",
                   "MESSAGE": claw_line("sys", timestamp=STAMP)})
    return record



@pytest.mark.skipif(not pcre2.available(), reason="libpcre2-8 is not installed: PCRE's depth limit cannot be checked")
def test_the_old_regex_fails_under_splunks_depth_limit_at_a_few_kilobytes():
    """Why the transform changed: a repeated group per character before the key."""
    raw = json.dumps(systemd_record(2048))
    assert pcre2.match(OLD_REGEX, json.dumps(systemd_record(100))[:900] + raw[-300:]) > 0
    assert pcre2.match(OLD_REGEX, raw) == pcre2.ERROR_DEPTHLIMIT


@pytest.mark.skipif(not pcre2.available(), reason="libpcre2-8 is not installed: PCRE's depth limit cannot be checked")
@pytest.mark.parametrize("size", [2048, 65536, 1048576])
def test_every_ingest_regex_stays_within_the_depth_limit_on_a_large_event(size):
    regexes = ingest_regexes()
    assert regexes
    raw = json.dumps(systemd_record(size))
    for subject in (raw, STAMP, "x" * size):
        for name, regex in regexes:
            assert pcre2.match(regex, subject) != pcre2.ERROR_DEPTHLIMIT, (name, regex)


@pytest.mark.parametrize("padding", [0, 2048, 65536, 600000])
def test_time_is_set_however_much_comes_before_the_claw_object(padding):
    (_, _, when) = pe.hec_event(systemd_record(padding), envelope_time=ENVELOPE, now=NOW)
    assert when == pytest.approx(EXPECTED, abs=1e-6)


@pytest.mark.parametrize("shape", ["merged", "log", "message"])
def test_a_nested_timestamp_before_the_claw_object_is_not_the_time(shape):
    """A workload-chosen annotation or label named `timestamp` precedes the claw keys."""
    kube = {"pod_name": "claw-runtime-7xk2p", "namespace_name": "claw-system",
            "annotations": {"timestamp": "2020-01-01T00:00:00Z"}, "labels": {"x": {"timestamp": "2021-01-01T00:00:00Z"}}}
    line = claw_line("n", timestamp=STAMP)
    if shape == "merged":
        record = dict([("kubernetes", kube)] + list(json.loads(line).items()))
    elif shape == "log":
        record = {"kubernetes": kube, "log": line + "\n", "stream": "stdout"}
    else:
        record = {"meta": {"timestamp": "2020-01-01T00:00:00Z"}, "MESSAGE": line}
    (_, _, when) = pe.hec_event(record, envelope_time=ENVELOPE, now=NOW)
    assert when == pytest.approx(EXPECTED, abs=1e-6)


@pytest.mark.parametrize("stamp", ["9999-12-31T23:59:59Z", "1970-01-01T00:00:01Z", "2026-11-25T00:00:00Z",
                                   "2021-01-01T00:00:00Z"])
def test_a_time_far_from_the_index_time_is_not_taken(stamp):
    """Outside MAX_DAYS_AGO / MAX_DAYS_HENCE of the index time: the envelope time (HEC), Splunk's fallback (files)."""
    line = claw_line("far", timestamp=stamp)
    (_, _, when) = pe.hec_event({"log": line}, envelope_time=ENVELOPE, now=NOW)
    assert when == ENVELOPE
    (_, _, when), = pe.index_time("claw:runtime", line + "\n", now=NOW)
    assert isinstance(when, pe.TimeFailed)


def test_the_bounds_are_the_stanzas_max_days():
    for sourcetype in ("claw:runtime", "claw:runtime:cri"):
        stanza = pe.PROPS[sourcetype]
        ago, hence = pe.days_bounds(stanza)
        assert (stanza.get("MAX_DAYS_AGO"), stanza.get("MAX_DAYS_HENCE")) == (str(ago), str(hence))
        text = pe.TRANSFORMS["claw_runtime_time"]["INGEST_EVAL"]
        assert "time() - %d" % (ago * 86400) in text and "time() + %d" % (hence * 86400) in text
        line = claw_line("edge")
        for offset, taken in ((-ago * 86400 + 60, True), (-ago * 86400 - 60, False),
                              (hence * 86400 - 60, True), (hence * 86400 + 60, False)):
            (_, _, when) = pe.hec_event({"log": line}, envelope_time=ENVELOPE, now=EXPECTED - offset)
            assert (when == ENVELOPE) is not taken, (sourcetype, offset)


def test_no_temporary_field_is_indexed():
    for record in ({"log": claw_line("t")}, {"log": "not json"}, systemd_record(10)):
        raw = json.dumps(record)
        fields = pe.typing_fields(pe.PROPS["claw:runtime"], "claw:runtime", raw, ENVELOPE, NOW)
        assert set(fields) == {"_raw", "_time", "sourcetype"}
    (_, raw, _), = pe.index_time("claw:runtime:cri", cri(claw_line("c")), now=NOW)
    assert raw == claw_line("c")


@pytest.mark.parametrize("bad", ["2026-11-20T14:03:22.123+02:00", "2026-11-20 14:03:22Z", "2026-11-20T14:03:22.Z",
                                 "2026-11-20T14:03:22.1234567890Z", "x2026-11-20T14:03:22Z", 1795183402])
def test_a_claw_timestamp_of_another_form_keeps_the_time(bad):
    (_, _, when) = pe.hec_event({"log": claw_line("b", timestamp=bad)}, envelope_time=ENVELOPE, now=NOW)
    assert when == ENVELOPE


def test_the_emulator_splits_assignments_outside_strings_and_calls():
    assert pe.split_assignments('a:=f(x, "y,=z"), b=g(a) , c:=null()') == [
        ("a", 'f(x, "y,=z")'), ("b", "g(a) "), ("c", "null()")]
    with pytest.raises(SyntaxError):
        pe.split_assignments("a==b")
