"""| clawsbomcheck and | clawsbomindex as subprocesses speaking SCP v2, under Python 3.9 and 3.13."""
import csv
import hashlib
import io
import json
import os

import pytest

from benchmarks.sbom_app import make_app
from claw_ta.sbom.index import build_tables
from claw_ta_tools.emulators import PASSTHROUGH, scp_driver
from tests.paths import DATA, REPO

csv.field_size_limit(2 ** 31 - 1)  # the driver reads back our oversized field (300,000 chars)


def sha(text):
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


BIN = sha("bin")
ROWS = [
    {"subject_digest": BIN, "library_path": "/usr/lib/x86_64-linux-gnu/libssl.so.3", "library_digest": sha("ssl"),
     "package_name": "libssl3", "package_version": "3", "purl": "", "sbom_format": "cyclonedx", "sbom_ref": "doc,1"},
    {"subject_digest": BIN, "library_path": "/opt/app/lib/libünï.so.1", "library_digest": "",
     "package_name": "", "package_version": "", "purl": "", "sbom_format": "cyclonedx", "sbom_ref": "doc,1"},
]


def events():
    """Library loads and other events, with missing fields, multivalues and non-ASCII."""
    return [
        {"event_type": "library_load", "subject_digest": BIN, "library_path": "/lib/x86_64-linux-gnu/libssl.so.3",
         "library_digest": sha("ssl"), "event_id": "1", "tag": ["library", "process"]},
        {"event_type": "library_load", "subject_digest": BIN, "library_path": "/usr/lib/x86_64-linux-gnu/libssl.so.3",
         "library_digest": sha("evil"), "event_id": "2", "_raw": 'line one\nline "two", with $dollars$'},
        {"event_type": "library_load", "subject_digest": BIN, "library_path": "/opt/app/lib/libünï.so.1", "event_id": "3"},
        {"event_type": "binary_attestation", "subject_digest": BIN, "verdict": "Allowed", "event_id": "4"},
        {"event_id": "5"},  # no event_type at all
        {"event_type": "library_load", "subject_digest": sha("unknown"), "library_path": "/x.so", "event_id": "6"},
        {"event_type": "library_load", "subject_digest": BIN, "library_path": ["/memfd:a (deleted)", "/b.so"],
         "library_digest": sha("zzz"), "event_id": "7"},
        {"event_type": "library_load", "subject_digest": BIN, "event_id": "8", "library_path": "x" * 300000},
    ]


EXPECTED = {"1": ("listed", "digest"), "2": ("unlisted", "path"), "3": ("listed", "path"),
            "4": (None, None), "5": (None, None), "6": ("no_sbom", None), "7": ("unlisted", None),
            "8": ("unlisted", None)}


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path, lookup_rows=ROWS)


def strip(record):
    return dict((k, v) for k, v in record.items() if not k.startswith("sbom_"))


def test_getinfo_chunks_and_final_empty_chunk(app, splunk_python):
    chunks = [events(), events()[:3], []]
    result = scp_driver.run(app["clawsbomcheck"], [], chunks, python=splunk_python)
    assert result.returncode == 0, result.stderr
    assert result.getinfo["type"] == "streaming"
    assert "Traceback" not in result.stderr
    assert [len(records) for _, records in result.chunks] == [8, 3, 0]
    assert [meta.get("finished") for meta, _ in result.chunks] == [False, False, True]
    for record in result.chunks[0][1]:
        status, match = EXPECTED[record["event_id"]]
        assert (record.get("sbom_status"), record.get("sbom_match")) == (status, match), record["event_id"]
    listed = result.chunks[0][1][0]
    assert listed["sbom_name"] == "doc,1" and listed["tag"] == ["library", "process"]


def test_records_are_what_splunklib_passes_through_plus_status(app, splunk_python):
    """Same records, same order, no record dropped or duplicated, fields unchanged."""
    chunks = [events(), events(), []]
    mine = scp_driver.run(app["clawsbomcheck"], [], chunks, python=splunk_python)
    base = scp_driver.run(PASSTHROUGH, [], chunks, python=splunk_python)
    assert [len(c) for _, c in mine.chunks] == [len(c) for _, c in base.chunks]
    assert [strip(r) for r in mine.records] == base.records
    assert base.records[1]["_raw"] == 'line one\nline "two", with $dollars$'
    assert mine.records[6]["library_path"] == ["/memfd:a (deleted)", "/b.so"]
    assert len(mine.records[7]["library_path"]) == 300000


def test_output_csv_is_splunklib_compatible(app, tmp_path):
    """Parse the raw body with splunklib's own reader: header order stable, status columns appended."""
    from claw_ta.sbom.matcher import SbomIndex
    from claw_ta.sbom.stream import Sink, annotate
    from splunklib.searchcommands.search_command import SearchCommand

    body = scp_driver.records_to_csv(events()).decode("utf-8")
    sink = Sink()
    count = annotate(body, SbomIndex.from_rows(ROWS).check_values, sink)
    sink.flush()
    text = b"".join(sink.blocks).decode("utf-8")
    assert count == 8 and sink.length == len(text.encode("utf-8"))
    header = next(csv.reader(io.StringIO(text)))
    original = next(csv.reader(io.StringIO(body)))
    assert header[:len(original)] == original
    assert header[len(original):] == ["sbom_status", "__mv_sbom_status", "sbom_match", "__mv_sbom_match",
                                      "sbom_ref", "__mv_sbom_ref", "sbom_reason", "__mv_sbom_reason",
                                      "sbom_trust", "__mv_sbom_trust", "sbom_signer", "__mv_sbom_signer",
                                      "sbom_name", "__mv_sbom_name"]
    records = list(SearchCommand._read_csv_records(SearchCommand(), io.StringIO(text, newline="")))
    inputs = list(SearchCommand._read_csv_records(SearchCommand(), io.StringIO(body, newline="")))
    assert len(records) == 8
    for got, sent in zip(records, inputs):
        assert [(k, v) for k, v in got.items() if not k.startswith("sbom_")] == list(sent.items())
    # each record's original text is carried through byte for byte
    assert text.split("\r\n", 1)[1].startswith(body.split("\n", 1)[1].split("\n", 1)[0])  # splunkd ends lines with \n


def test_rerun_over_existing_status_columns_replaces_them(app, splunk_python):
    first = scp_driver.run(app["clawsbomcheck"], [], [events(), []], python=splunk_python)
    again = scp_driver.run(app["clawsbomcheck"], [], [first.records, []], python=splunk_python)
    assert again.records == first.records


def test_path_and_digest_field_options(app, splunk_python):
    records = [{"event_type": "library_load", "subject_digest": BIN, "so": "/usr/lib/x86_64-linux-gnu/libssl.so.3",
                "hash": sha("ssl")}]
    result = scp_driver.run(app["clawsbomcheck"], ["path_field=so", "digest_field=hash"], [records, []],
                            python=splunk_python)
    assert result.records[0]["sbom_match"] == "digest"


@pytest.mark.parametrize("arg", ["sbom_lookup=../../etc/passwd", "sbom_lookup=/etc/passwd",
                                 "sbom_lookup=..", "sbom_lookup=a\\b"])
def test_hostile_lookup_name_is_rejected_naming_the_option(app, splunk_python, arg):
    result = scp_driver.run(app["clawsbomcheck"], [arg], [events(), []], python=splunk_python)
    assert any("sbom_lookup" in e for e in result.errors()), result.messages
    assert "Traceback" not in result.stderr


def test_bad_option_names_the_option(app, splunk_python):
    result = scp_driver.run(app["clawsbomcheck"], ["path_field=not a field!"], [events(), []], python=splunk_python)
    assert any("path_field" in e for e in result.errors())


def test_missing_tables_are_empty_with_a_clear_warning(tmp_path, splunk_python):
    """The SBOM tables are generated state, never shipped; a missing one is empty."""
    app = make_app(tmp_path)
    result = scp_driver.run(app["clawsbomcheck"], [], [events(), []], python=splunk_python)
    assert result.errors() == [] and "Traceback" not in result.stderr
    warnings = [t for level, t in result.messages if level == "WARN"]
    assert any("claw_sbom_subjects.csv" in t and "claw_sbom_libraries.csv" in t and "claw-ta sbom-index" in t
               for t in warnings), warnings
    statuses = [(r["event_id"], r.get("sbom_status")) for r in result.records]
    assert statuses == [(k, "no_sbom" if k not in ("4", "5") else None) for k in "12345678"]


def test_the_app_ships_no_sbom_table(splunk_python):
    assert not os.path.exists(os.path.join(REPO, "TA-claw-runtime", "lookups", "claw_sbom_libraries.csv"))
    assert not os.path.exists(os.path.join(REPO, "TA-claw-runtime", "lookups", "claw_sbom_subjects.csv"))


def test_lookup_that_is_not_the_sbom_index_is_a_clear_error(tmp_path, splunk_python):
    app = make_app(tmp_path, lookup_text="host,tier\nnode-1,web\n")
    result = scp_driver.run(app["clawsbomcheck"], [], [events(), []], python=splunk_python)
    assert "claw_sbom_libraries.csv: no column sbom_id" in result.errors()[0]


def test_nul_byte_is_replaced_with_a_warning_and_the_record_kept(app, splunk_python):
    """Regression: a NUL byte failed the whole search under Python 3.9 (csv: line contains NUL)."""
    records = events()
    records[0] = dict(records[0], _raw="before\x00after")
    result = scp_driver.run(app["clawsbomcheck"], [], [records, []], python=splunk_python)
    assert result.errors() == []
    assert len(result.records) == len(records)
    assert result.records[0]["_raw"] == "before\ufffdafter" and result.records[0]["sbom_status"] == "listed"
    assert any("NUL" in t for level, t in result.messages if level == "WARN")


def test_a_failing_chunk_reaches_splunkd_as_an_error(app, splunk_python, tmp_path):
    """Regression: the flushed flag was never reset, so a failing chunk exited without a message.

    splunklib's own loop marks the record writer unflushed before each chunk and its
    finish() then answers with the ERROR (splunk-sdk-python,
    splunklib/searchcommands/search_command.py, _execute_v2 and _process_protocol_v2;
    splunk-sdk 2.1.1, pinned in app-requirements.txt)."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import claw_ta.sbom.stream as s\n"
        "def boom(self, raw, length, out):\n"
        "    raise OSError('disk full while spilling the chunk')\n"
        "calls = []\n"
        "original = s.Annotator.chunk\n"
        "def chunk(self, raw, length, out):\n"
        "    calls.append(1)\n"
        "    return original(self, raw, length, out) if len(calls) == 1 else boom(self, raw, length, out)\n"
        "s.Annotator.chunk = chunk\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(hook), os.path.dirname(app["clawsbomcheck"])]))
    # before the fix the driver raised ProtocolError: exit 1 without an ERROR message
    result = scp_driver.run(app["clawsbomcheck"], [], [events(), events(), []], python=splunk_python, env=env)
    assert any("disk full" in e for e in result.errors()), (result.messages, result.stderr[-500:])


def test_multivalue_library_path_every_value_is_checked(app, splunk_python):
    records = [{"event_type": "library_load", "subject_digest": BIN, "event_id": "mv",
                "library_path": ["/usr/lib/x86_64-linux-gnu/libssl.so.3", "/tmp/evil.so"],
                "library_digest": [sha("ssl"), sha("evil")]}]
    result = scp_driver.run(app["clawsbomcheck"], [], [records, []], python=splunk_python)
    assert result.records[0]["sbom_status"] == "unlisted"


# --- | clawsbomindex -------------------------------------------------------------------

def sbom_events(shared=None):
    found = []
    for name in sorted(os.listdir(os.path.join(DATA, "sbom"))):
        with open(os.path.join(DATA, "sbom", name), encoding="utf-8") as handle:
            found.append({"_raw": handle.read(), "source": "/ci/sboms/" + name, "sourcetype": "claw:sbom",
                          "index": "claw_sbom"})
    return found


def test_clawsbomindex_rows_equal_the_cli_rows(app, splunk_python):
    docs = sbom_events()
    bad = {"_raw": '<!DOCTYPE x [<!ENTITY a "b">]><bom/>', "source": "evil.cdx.xml"}
    chunks = [docs[:2], [bad] + docs[2:], []]
    result = scp_driver.run(app["clawsbomindex"], [], chunks, python=splunk_python)
    assert result.getinfo["type"] == "reporting" and "streaming_preop" not in result.getinfo
    assert [len(c) for _, c in result.chunks][:2] == [0, 0]  # rows only once every document was seen
    tables, errors = build_tables([os.path.join(DATA, "sbom")])
    assert errors == []
    expected = [dict(r, claw_table="subjects") for r in tables.subject_rows()] + \
        [dict(r, claw_table="libraries") for r in tables.library_rows()]
    got = [dict((k, r.get(k, "")) for k in e) for r, e in zip(result.records, expected)]
    assert got == expected and len(result.records) == len(expected)
    assert any("evil.cdx.xml" in t and "DOCTYPE" in t for _, t in result.messages)


def test_clawsbomindex_trusts_only_the_declared_sbom_index(app, splunk_python):
    """A document posted to another index (the runtime events' one, whose HEC token every node
    holds) or with another sourcetype is untrusted; with signatures required, every document is."""
    docs = sbom_events()
    moved = [dict(docs[0], index="main"), dict(docs[1], sourcetype="claw:sbom:fake")]
    result = scp_driver.run(app["clawsbomindex"], ["channel_index=claw_sbom"], [moved + docs[2:], []],
                            python=splunk_python)
    trust = {}  # the document's content digest (its sbom_ref) -> its trust levels
    for row in result.records:
        if row["claw_table"] == "subjects":
            trust.setdefault(row["sbom_ref"].split("#")[0], set()).add(row["sbom_trust"])
    refs = ["sha256:" + hashlib.sha256(d["_raw"].encode("utf-8")).hexdigest() for d in docs]
    assert trust.pop(refs[0]) == {"untrusted"} and trust.pop(refs[1]) == {"untrusted"}
    assert sorted(trust) == sorted(refs[2:]) and all(v == {"channel"} for v in trust.values())
    assert any("2 of %d SBOM events indexed as untrusted" % len(docs) in t for _, t in result.messages)
    strict = scp_driver.run(app["clawsbomindex"], ["require_signatures=true"], [docs, []], python=splunk_python)
    assert set(r["sbom_trust"] for r in strict.records if r["claw_table"] == "subjects") == {"untrusted"}
    assert any("signatures are required" in t for _, t in strict.messages)


def test_clawsbomindex_skips_and_names_a_lone_surrogate_document(app, splunk_python):
    docs = sbom_events()
    poisoned = docs[0]["_raw"].replace('"specVersion"', '"serialNumber": "urn:uuid:\\ud800", "x": "\\udfff", '
                                       '"specVersion"', 1)
    assert "\\ud800" in poisoned
    chunks = [[{"_raw": poisoned, "source": "/ci/poisoned.cdx.json"}] + docs, []]
    result = scp_driver.run(app["clawsbomindex"], [], chunks, python=splunk_python)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    tables, _ = build_tables([os.path.join(DATA, "sbom")])
    assert len(result.records) == len(list(tables.subject_rows())) + len(list(tables.library_rows()))
    assert any("poisoned.cdx.json" in t and "surrogate" in t for _, t in result.messages), result.messages


def test_clawsbomindex_reads_large_real_documents(app, shared_dir, splunk_python):
    path = os.path.join(shared_dir, "sboms", "cyclonedx-examples", "keycloak-10.0.2__bom.json")
    with open(path, encoding="utf-8") as handle:
        doc = json.load(handle)
    doc["metadata"]["component"]["hashes"] = [{"alg": "SHA-256", "content": "ab" * 32}]
    raw = json.dumps(doc)
    assert len(raw) > 131072  # beyond csv's default field limit
    result = scp_driver.run(app["clawsbomindex"], [], [[{"_raw": raw, "source": "keycloak.json"}], []],
                            python=splunk_python)
    assert result.errors() == [], result.stderr[-2000:]
    subjects = [r for r in result.records if r["claw_table"] == "subjects"]
    assert [r["subject_digest"] for r in subjects] == ["sha256:" + "ab" * 32]
    assert len(result.records) == 1 + 903  # the libraries once, under the document's sbom_id


def test_clawsbomindex_with_no_events(app, splunk_python):
    result = scp_driver.run(app["clawsbomindex"], [], [[]], python=splunk_python)
    assert result.returncode == 0 and result.records == [] and "Traceback" not in result.stderr
    assert any("no index rows" in t for _, t in result.messages)
