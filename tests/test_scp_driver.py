"""tools/claw_ta_tools/emulators/scp_driver.py speaks splunkd's SCP v2 dialect, and catches commands that die silently.

What splunkd sends is checked against recorded traffic (see the driver's
docstring): the splunk-sdk-python recording kept in tests/data/scp_recordings
(Apache-2.0) and the Splunk 8.2 captures in
https://github.com/NDietrich/Splunk-CustomSearchProtocol-v2/tree/master/example_messages
(cited, not copied). A raw probe command (no splunklib) records what it
receives, so each behaviour is checked on the wire.
"""
import io
import json
import os
import sys
from urllib.parse import unquote

import pytest

from claw_ta_tools.emulators import PASSTHROUGH, scp_driver
from tests.paths import DATA, REPO

RECORDING = os.path.join(DATA, "scp_recordings", "splunk-sdk-python_sum.reduce.input")

# A command written against the protocol alone. MODE (env) picks a misbehaviour.
PROBE = r'''
import json, os, sys
out, inp = sys.stdout.buffer, sys.stdin.buffer
mode, log = os.environ.get("MODE", ""), open(os.environ["LOG"], "a")
def send(meta, body=b""):
    m = json.dumps(meta).encode()
    out.write(b"chunked 1.0,%d,%d\n" % (len(m), len(body)) + m + body)
    out.flush()
n = 0
while True:
    header = inp.readline()
    if not header:
        break
    mlen, blen = (int(x) for x in header.decode().strip().split(",")[1:])
    meta = json.loads(inp.read(mlen))
    body = inp.read(blen) if blen else b""
    log.write(json.dumps({"meta": meta, "body": body.decode()}) + "\n"); log.flush()
    if meta["action"] == "getinfo":
        if mode == "silent_exit_after_getinfo":
            send({"type": "streaming"}); sys.exit(1)
        send({"type": os.environ.get("TYPE", "streaming")})
        continue
    if mode == "die" and n == 1:
        sys.exit(1)
    if mode == "error" and n == 1:
        send({"finished": True, "inspector": {"messages": [["ERROR", "probe: bad chunk"]]}}); sys.exit(1)
    send({"finished": meta["finished"]}, body)
    n += 1
'''


@pytest.fixture
def probe(tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(PROBE, encoding="utf-8")
    log = tmp_path / "log.jsonl"

    def run(chunks, mode="", kind="streaming", **kwargs):
        env = dict(os.environ, LOG=str(log), MODE=mode, TYPE=kind)
        result = scp_driver.run(str(script), ["a=1", 'b="x y"'], chunks, python=sys.executable, env=env, **kwargs)
        seen = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
        return result, seen
    return run


def test_the_driver_reads_a_recorded_splunkd_exchange_and_writes_its_body():
    """splunk-sdk-python's recording of splunkd (Splunk 6.3): `"__mv_total"` and
    `"2147943.07811"` are quoted (a `_` or `.` is outside [A-Za-z0-9]), `total` and
    the empty twin are not, lines end with \\n and `search` is URL-encoded."""
    with open(RECORDING, "rb") as handle:
        getinfo, body = scp_driver.read_chunk(handle)
        execute, records_body = scp_driver.read_chunk(handle)
        assert scp_driver.read_chunk(handle) is None
    assert getinfo["action"] == "getinfo" and body == b""
    assert unquote(getinfo["searchinfo"]["search"]).startswith("| inputlookup random_data")
    assert execute == {"action": "execute", "finished": True}
    assert scp_driver.records_to_csv([{"total": "2147943.07811"}]) == records_body
    assert scp_driver.csv_to_records(records_body) == [{"total": "2147943.07811"}]


def test_every_mv_column_follows_the_plain_ones():
    """countmatches.input in the same recordings: `"_serial","_time",text,"__mv__serial","__mv__time","__mv_text"`."""
    body = scp_driver.records_to_csv([{"_serial": 0, "_time": 1380899494, "text": "a, \"b\"\nc"}])
    header, row = body.decode().split("\n", 1)
    assert header == '"_serial","_time",text,"__mv__serial","__mv__time","__mv_text"'
    assert row == '0,1380899494,"a, ""b""\nc",,,\n'
    multi = scp_driver.records_to_csv([{"tag": ["web", "a$b"], "n": 1}]).decode()
    assert multi == 'tag,n,"__mv_tag","__mv_n"\n"web\na$b",1,"$web$;$a$$b$",\n'
    assert scp_driver.csv_to_records(multi.encode()) == [{"tag": ["web", "a$b"], "n": "1"}]


def test_streaming_commands_get_chunked_idx_and_header_only_chunks(probe):
    """doubleage (streaming).md / accumages (stateful).md: `_chunked_idx` is the last
    plain column; an execute chunk without data is the header line alone, mid-stream
    (finished:false) and at the end (finished:true)."""
    result, seen = probe([[{"x": "1"}, {"x": "2"}], [], [{"x": "3"}], []])
    getinfo, executes = seen[0], seen[1:]
    assert getinfo["meta"]["searchinfo"]["search"] == "%7C%20probe%20a%3D1%20b%3D%22x%20y%22"
    assert [e["meta"]["finished"] for e in executes] == [False, False, False, True]
    assert executes[0]["body"] == 'x,"_chunked_idx","__mv_x","__mv__chunked_idx"\n1,0,,\n2,1,,\n'
    header_only = 'x,"_chunked_idx","__mv_x","__mv__chunked_idx"\n'
    assert executes[1]["body"] == header_only and executes[3]["body"] == header_only
    assert result.chunked_idx == [["0", "1"], [], ["0"], []]
    assert [r["x"] for r in result.records] == ["1", "2", "3"]  # _chunked_idx is kept out of the records


def test_reporting_commands_get_no_chunked_idx_and_an_empty_first_chunk(probe):
    """averageage (reporting).md: no `_chunked_idx`; nothing known yet: an empty body."""
    _, seen = probe([[], [{"x": "1"}], []], kind="reporting")
    assert [e["body"] for e in seen[1:]] == ["", 'x,"__mv_x"\n1,\n', 'x,"__mv_x"\n']


def test_preview_getinfo_only_and_missing_dispatch_folder(probe):
    result, seen = probe([[{"x": "1"}], []], preview=True, preview_chunks=(0,), dispatch_exists=False)
    assert seen[0]["meta"]["preview"] is True
    assert [e["meta"].get("preview") for e in seen[1:]] == [True, None]
    assert not os.path.exists(seen[0]["meta"]["searchinfo"]["dispatch_dir"])
    only, seen = probe(None)
    assert len(seen) == 4 and seen[3]["meta"]["action"] == "getinfo" and only.returncode == 0  # log appends


@pytest.mark.parametrize("mode", ["die", "silent_exit_after_getinfo"])
def test_a_command_that_dies_without_replying_fails_the_test(probe, mode):
    with pytest.raises(scp_driver.ProtocolError) as caught:
        probe([[{"x": "1"}], [{"x": "2"}], []], mode=mode)
    assert "without an inspector ERROR" in str(caught.value)


def test_a_command_that_reports_its_error_is_not_a_protocol_error(probe):
    result, _ = probe([[{"x": "1"}], [{"x": "2"}], []], mode="error")
    assert result.returncode == 1 and result.errors() == ["probe: bad chunk"]
    scp_driver.assert_error_reported(result, "bad chunk")
    with pytest.raises(AssertionError):
        scp_driver.assert_error_reported(result, "something else")


def test_splunklib_passthrough_speaks_the_dialect(splunk_python, built_app):
    """The splunklib the app ships (from the built app) reads what the driver sends and echoes `_chunked_idx`."""
    records = [{"a": "x,y", "b": ["1", "2"], "_raw": 'line\n"two"'}, {"a": "ü"}]
    result = scp_driver.run(PASSTHROUGH, [], [records, [], records[:1], []], python=splunk_python,
                            dispatch_exists=False)
    assert result.returncode == 0 and result.getinfo["type"] == "streaming"
    assert result.records == records + records[:1]
    assert result.chunked_idx == [["0", "1"], [], ["0"], []]
    only = scp_driver.run(PASSTHROUGH, [], None, python=splunk_python)
    assert only.returncode == 0 and only.chunks == [] and only.errors() == []


def test_records_to_csv_is_read_back_by_splunklib():
    from splunklib.searchcommands.search_command import SearchCommand
    records = [{"a": "1", "b": ["x", "y$"], "c": 'q"uote'}, {"a": "", "c": "line\nbreak"}]
    text = scp_driver.records_to_csv(records, chunked_idx=True).decode()
    got = list(SearchCommand._read_csv_records(SearchCommand(), io.StringIO(text, newline="")))
    assert [dict(r) for r in got] == [{"a": "1", "b": ["x", "y$"], "c": 'q"uote', "_chunked_idx": "0"},
                                      {"a": "", "b": "", "c": "line\nbreak", "_chunked_idx": "1"}]
