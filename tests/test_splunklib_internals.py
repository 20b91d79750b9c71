"""The splunklib internals the fast paths use, guarded for each bundled splunk-sdk.

clawsbomcheck, clawtierbaseline and claw_ta.scp replace splunklib's record loop
(``_execute_v2``) and answer chunks through the record writer's private state
(``_inspector``, ``_committed_record_count``, ``_chunk_count``, ``is_flushed``,
``ofile``), repeating what splunklib's own loop does around each chunk
(``_finished``, ``_metadata``, ``_record_writer``, ``_as_binary_stream``). An
SDK upgrade may change any of it without an error. Under each Splunk Python,
the copy the built app gives that Python (claw_ta/sdk.py) is probed:

- every internal is present, of the kind and behaviour the fast paths expect;
- the source of every splunklib function those paths repeat or depend on has
  the fingerprint reviewed for that SDK version (tests/data/splunklib_internals.json):
  a new pin, or a changed function, fails naming the function to re-read;
- every private name the scripts use that splunklib also has is in the guarded
  list (an override of a new splunklib method fails too), and every other
  private name they use is their own.

After reviewing a new SDK version's functions against the fast paths, run
``python tests/test_splunklib_internals.py --print`` under each interpreter and
record the fingerprints it prints.
"""
import json
import os
import re
import subprocess
import sys

import pytest

from tests import paths

GUARDED = ("_execute_v2", "_as_binary_stream", "_finished", "_metadata", "_record_writer", "_inspector",
           "_committed_record_count", "_chunk_count", "is_flushed", "ofile")
USERS = ("clawsbomcheck.py", "clawsbomindex.py", "clawtierbaseline.py", "claw_ta/scp.py")
FINGERPRINTS = os.path.join(paths.DATA, "splunklib_internals.json")

PROBE = r"""
import hashlib, inspect, io, json, sys
sys.path.insert(0, sys.argv[1])
from claw_ta.sdk import use_splunklib
folder = use_splunklib()
import splunklib
from splunklib.searchcommands import ReportingCommand, StreamingCommand
from splunklib.searchcommands import internals
from splunklib.searchcommands.search_command import SearchCommand
problems = []

def need(name, ok, what):
    if not ok:
        problems.append("%s: %s" % (name, what))

FUNCTIONS = [
    ("SearchCommand._execute_v2", SearchCommand, "_execute_v2"),
    ("SearchCommand._execute_chunk_v2", SearchCommand, "_execute_chunk_v2"),
    ("SearchCommand._read_chunk", SearchCommand, "_read_chunk"),
    ("SearchCommand._as_binary_stream", SearchCommand, "_as_binary_stream"),
    ("SearchCommand._execute", SearchCommand, "_execute"),
    ("SearchCommand._process_protocol_v2", SearchCommand, "_process_protocol_v2"),
    ("SearchCommand.finish", SearchCommand, "finish"),
    ("SearchCommand.flush", SearchCommand, "flush"),
    ("SearchCommand.__init__", SearchCommand, "__init__"),
    ("StreamingCommand._execute", StreamingCommand, "_execute"),
    ("ReportingCommand._execute", ReportingCommand, "_execute"),
    ("RecordWriter.__init__", internals.RecordWriter, "__init__"),
    ("RecordWriter.is_flushed", internals.RecordWriter, "is_flushed"),
    ("RecordWriter.ofile", internals.RecordWriter, "ofile"),
    ("RecordWriter.write_message", internals.RecordWriter, "write_message"),
    ("RecordWriterV2.flush", internals.RecordWriterV2, "flush"),
    ("RecordWriterV2.write_chunk", internals.RecordWriterV2, "write_chunk"),
    ("RecordWriterV2._write_chunk", internals.RecordWriterV2, "_write_chunk"),
    ("ObjectView.update", internals.ObjectView, "update"),
    ("MetadataDecoder.decode", internals.MetadataDecoder, "decode"),
]
fingerprints = {}
for label, owner, name in FUNCTIONS:
    raw = inspect.getattr_static(owner, name, None)
    if raw is None:
        problems.append("%s: gone" % label)
        continue
    parts = [raw.fget, raw.fset] if isinstance(raw, property) else [getattr(raw, "__func__", raw)]
    text = "".join(inspect.getsource(p) for p in parts if p is not None)
    fingerprints[label] = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

execute = inspect.getattr_static(SearchCommand, "_execute_v2", None)
if execute is not None:
    need("SearchCommand._execute_v2", list(inspect.signature(execute).parameters) == ["self", "ifile", "process"],
         "signature is not (self, ifile, process)")
stream = SearchCommand._as_binary_stream(io.BytesIO(b"chunked 1.0,0,0\nx"))
need("SearchCommand._as_binary_stream", stream.readline() == b"chunked 1.0,0,0\n" and stream.read(1) == b"x",
     "does not give the bytes stream back")
command = StreamingCommand()
for name in ("_finished", "_metadata", "_record_writer"):
    need("SearchCommand." + name, hasattr(command, name), "not set by SearchCommand.__init__")
writer = internals.RecordWriterV2(io.BytesIO())
need("RecordWriter._inspector", isinstance(getattr(writer, "_inspector", None), dict), "not a dict")
for name in ("_committed_record_count", "_chunk_count"):
    need("RecordWriter." + name, type(getattr(writer, name, None)) is int, "not an int counter")
writer.write_message("WARN", "probe")
need("RecordWriter._inspector", writer._inspector.get("messages") == [("WARN", "probe")],
     "write_message no longer files messages under 'messages'")
for value in (False, True):
    writer.is_flushed = value
    need("RecordWriter.is_flushed", writer.is_flushed is value, "does not keep what is set")
need("RecordWriter.ofile", hasattr(writer.ofile, "write") and hasattr(writer.ofile, "flush"), "not a stream")
meta = internals.MetadataDecoder().decode('{"action": "execute", "finished": true}')
need("MetadataDecoder.decode", getattr(meta, "action", None) == "execute" and getattr(meta, "finished", None) is True,
     "no attribute access to the metadata")
need("ObjectView.update", callable(getattr(meta, "update", None)), "no update()")
names = set(dir(command)) | set(vars(command)) | set(dir(writer)) | set(vars(writer))
print(json.dumps({"folder": folder, "version": ".".join(map(str, getattr(splunklib, "__version_info__", ()))),
                  "file": splunklib.__file__, "problems": problems, "fingerprints": fingerprints,
                  "names": sorted(n for n in names if n.startswith("_") or n in ("is_flushed", "ofile"))}))
"""


def probe(python, bin_dir):
    proc = subprocess.run([python, "-c", PROBE, bin_dir], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def pinned_version(python_label):
    from claw_ta_tools.package import requirements_for
    pins = [r for r in requirements_for(python_label) if r.startswith("splunk-sdk==")]
    assert len(pins) == 1, pins
    return pins[0].split("==")[1]


@pytest.fixture(params=["3.9", "3.13"])
def sdk(request, built_app):
    python = paths.splunk_pythons().get(request.param)
    if not python:
        pytest.skip("Python %s is not installed (pyenv install %s)" % (request.param, request.param))
    return request.param, pinned_version(request.param), probe(python, os.path.join(built_app, "bin"))


def test_each_python_gets_its_own_pinned_copy(sdk):
    label, version, found = sdk
    assert os.path.basename(found["folder"]) == {"3.9": "py39", "3.13": "py313"}[label]
    assert os.sep + os.path.join("sdk", os.path.basename(found["folder"]), "splunklib") in found["file"]
    assert version == {"3.9": "2.1.1", "3.13": "3.0.1"}[label]
    if found["version"]:  # 2.x says its version; 3.x reads it from package metadata
        assert found["version"] == version


def test_every_internal_the_fast_paths_use_is_there_and_behaves(sdk):
    label, version, found = sdk
    assert found["problems"] == [], "splunk-sdk %s (Python %s) changed: %s" % (version, label, found["problems"])


def test_the_functions_the_fast_paths_repeat_are_the_reviewed_ones(sdk):
    label, version, found = sdk
    with open(FINGERPRINTS, encoding="utf-8") as handle:
        reviewed = json.load(handle)
    assert version in reviewed, ("splunk-sdk %s has no reviewed fingerprints: read %s against "
                                 "claw_ta/scp.py and the commands' _execute_v2, then record them"
                                 % (version, ", ".join(sorted(found["fingerprints"]))))
    changed = sorted(name for name in set(reviewed[version]) | set(found["fingerprints"])
                     if reviewed[version].get(name) != found["fingerprints"].get(name))
    assert changed == [], ("splunk-sdk %s (Python %s): these splunklib functions changed or disappeared; "
                           "re-read them against the fast paths: %s" % (version, label, changed))


def private_names(path):
    """(private attribute names the file uses, those it defines itself)."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    used = set(re.findall(r"\.(_[A-Za-z]\w*|is_flushed|ofile)\b", text))
    own = set(re.findall(r"\bdef (_\w+)", text)) | set(re.findall(r"\bself\.(_\w+) = ", text))
    return used, own


def test_the_scripts_use_no_unguarded_splunklib_internal(sdk):
    label, version, found = sdk
    splunklib_names = set(found["names"])
    for rel in USERS:
        used, own = private_names(os.path.join(paths.APP_BIN, rel))
        unguarded = sorted(n for n in used if n in splunklib_names and n not in GUARDED)
        assert unguarded == [], "%s uses (or overrides) splunklib internals %s of splunk-sdk %s: add them to " \
                                "GUARDED and to the probe" % (rel, unguarded, version)
        gone = sorted(n for n in used if n not in splunklib_names and n not in own)
        assert gone == [], "%s uses %s, not in splunk-sdk %s (Python %s)" % (rel, gone, version, label)
    assert set(GUARDED) <= splunklib_names, sorted(set(GUARDED) - splunklib_names)


def test_the_name_check_can_fail(tmp_path):
    script = tmp_path / "x.py"
    script.write_text("class C:\n    def _mine(self):\n        self._state = 1\n"
                      "        self._record_writer._pending_record_count += 1\n")
    used, own = private_names(str(script))
    assert used == {"_state", "_record_writer", "_pending_record_count"}
    assert own == {"_mine", "_state"}


if __name__ == "__main__" and sys.argv[1:2] == ["--print"]:
    sys.path.insert(0, paths.REPO)
    out = {}
    for _label, _python in sorted(paths.splunk_pythons().items()):
        _found = probe(_python, os.path.join(paths.built_bin()))
        out[pinned_version(_label)] = _found["fingerprints"]
        print("Python %s: %s, problems: %s" % (_label, _found["file"], _found["problems"]), file=sys.stderr)
    print(json.dumps(out, indent=2, sort_keys=True))
