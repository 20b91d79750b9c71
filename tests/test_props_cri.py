"""CRI container log files: the prefix is stripped before the sourcetype rename, and streams never mix.

Splunk documentation relied on:
- props.conf spec: TRANSFORMS-<class> runs the listed transforms in the order
  given; SEDCMD belongs to the source type's stanza, and no document says it
  still runs once a TRANSFORMS rename has given the event another source type,
  so the add-on strips the prefix with an ingest eval listed before the rename:
  https://docs.splunk.com/Documentation/Splunk/latest/Admin/propsconf
- ingest-time eval, `_raw` rewritten at index time:
  https://help.splunk.com/splunk-enterprise/get-started/get-data-in/9.0/configure-indexed-field-extraction/process-events-with-ingest-time-eval
- the CRI log line format `<time> <stream> <P|F> <text>` (stream stdout or
  stderr, P partial, F full or final), each stream's partials closed by an F
  line of the same stream:
  https://github.com/kubernetes/design-proposals-archive/blob/main/node/kubelet-cri-logging.md
"""
import json

import pytest

from claw_ta_tools.emulators import pcre2
from claw_ta_tools.emulators import props_emulator as pe
from tests.test_props_index_time import claw_line, cri

STANZA = pe.PROPS["claw:runtime:cri"]
T = "2026-11-20T14:03:22.200000001Z"


def transforms_of(stanza):
    names = []
    for key in sorted(k for k in stanza if k.startswith("TRANSFORMS-")):
        names += [n.strip() for n in stanza[key].split(",")]
    return names


def test_the_prefix_is_stripped_by_an_ingest_eval_before_the_rename():
    assert not [k for k in STANZA if k.startswith("SEDCMD-")]
    names = transforms_of(STANZA)
    rename = [n for n in names if pe.TRANSFORMS[n].get("DEST_KEY") == "MetaData:Sourcetype"]
    strip = [n for n in names if "_raw" in pe.TRANSFORMS[n].get("INGEST_EVAL", "").split("=")[0]]
    assert len(rename) == 1 and len(strip) == 1
    assert names.index(strip[0]) < names.index("claw_runtime_time") < names.index(rename[0])


def test_a_stderr_line_inside_a_stdout_partial_sequence_is_never_glued_to_it():
    big = claw_line("big", reason="x" * 40000)
    parts = [big[i:i + 16384] for i in range(0, len(big), 16384)]
    data = ("%s stdout P %s\n" % (T, parts[0]) + "%s stderr F panic: boom\n" % T +
            "%s stdout P %s\n" % (T, parts[1]) + "%s stderr P warn-part\n" % T + "%s stderr F -end\n" % T +
            "%s stdout F %s\n" % (T, parts[2]) + cri(claw_line("after")))
    events = [raw for _, raw, _ in pe.index_time("claw:runtime:cri", data)]
    for raw in events:
        assert not (("panic" in raw or "warn-part" in raw or "-end" in raw) and "event_id" in raw), raw[:80]
    assert "panic: boom" in events and claw_line("after") in events
    assert "".join(events).count("x" * 100) >= 3  # every stdout part is still indexed
    assert not [raw for raw in events if " stdout " in raw or " stderr " in raw]  # every prefix stripped


def test_stderr_lines_between_stdout_lines_are_events_of_their_own():
    data = cri(claw_line("a")) + cri("goroutine 1 [running]:", stream="stderr") + cri(claw_line("b"))
    events = [(st, raw) for st, raw, _ in pe.index_time("claw:runtime:cri", data)]
    assert events == [("claw:runtime", claw_line("a")), ("claw:runtime", "goroutine 1 [running]:"),
                      ("claw:runtime", claw_line("b"))]


@pytest.mark.parametrize("chunk", [4096, 16384 + 7, 65536])
def test_stdout_partials_stay_one_event_across_read_boundaries(chunk):
    big = claw_line("big", reason="y" * 50000)
    data = cri(claw_line("a")) + cri(big) + cri("err", stream="stderr") + cri(claw_line("c"))
    events = [raw for _, raw, _ in pe.index_time("claw:runtime:cri", data, chunk_bytes=chunk)]
    assert events == [claw_line("a"), big, "err", claw_line("c")]
    assert json.loads(events[1])["event_id"] == "big"


def test_the_event_breaker_is_the_line_breaker():
    assert STANZA["EVENT_BREAKER"] == STANZA["LINE_BREAKER"]


@pytest.mark.skipif(not pcre2.available(), reason="libpcre2-8 is not installed: PCRE's depth limit cannot be checked")
def test_the_strip_and_the_breaker_stay_within_the_depth_limit_on_a_merged_megabyte():
    big = claw_line("big", reason="z" * 1000000)
    block = cri(big).rstrip("\n")
    strip = [n for n in transforms_of(STANZA) if "_raw" in pe.TRANSFORMS[n].get("INGEST_EVAL", "").split("=")[0]][0]
    from tests.test_props_ingest_eval import ingest_regexes
    regexes = [r for name, r in ingest_regexes() if name == strip]
    assert regexes
    for regex in regexes + [STANZA["LINE_BREAKER"].replace("(?<", "(?<")]:
        assert pcre2.match(regex, block) != pcre2.ERROR_DEPTHLIMIT, regex
