"""Bad SBOM files are reported by name with a reason and skipped; the others still index. And the CLI."""
import csv
import os
import shutil
import subprocess
import sys

import pytest

from claw_ta.sbom import model
from claw_ta.sbom.index import build_rows
from tests import paths
from tests.paths import DATA

GOOD = os.path.join(DATA, "sbom", "orders-nested.cdx.xml")

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.5"><components><component type="library"><name>&lol9;</name></component></components></bom>
"""

XXE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE bom [<!ENTITY xxe SYSTEM "file://{secret}">]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.5">
 <metadata><component type="application"><name>&xxe;</name></component></metadata>
</bom>
"""

# DOCTYPE hidden after a comment and in lower case is still refused
XXE_PARAMETER = """<?xml version="1.0"?><!-- innocent --><!doctype bom SYSTEM "http://127.0.0.1:1/evil.dtd"><bom/>"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return str(path)


def index_with_good(tmp_path, name, text):
    shutil.copy(GOOD, str(tmp_path / "good.cdx.xml"))
    write(tmp_path, name, text)
    rows, errors = build_rows([str(tmp_path)])
    assert rows, "the good document must still be indexed"
    assert {r["sbom_name"] for r in rows} == {"urn:uuid:7f0c7e0e-3c9a-4f4e-9d8e-0d6c1d0f2a11"}
    reasons = dict(errors)
    assert list(reasons) == [name]
    return reasons[name]


def test_billion_laughs_is_refused_before_parsing(tmp_path):
    assert "DOCTYPE" in index_with_good(tmp_path, "lolz.cdx.xml", BILLION_LAUGHS)


def test_external_entity_is_never_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    reason = index_with_good(tmp_path, "xxe.cdx.xml", XXE.format(secret=secret))
    assert "DOCTYPE" in reason and "TOP-SECRET" not in reason
    other = tmp_path / "other"
    other.mkdir()
    assert "DOCTYPE" in index_with_good(other, "dtd.xml", XXE_PARAMETER)


def test_entity_declaration_in_utf16_document_is_refused(tmp_path):
    text = BILLION_LAUGHS.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    assert "DOCTYPE" in index_with_good(tmp_path, "lolz16.cdx.xml", text.encode("utf-16"))


def test_oversized_file_is_refused_without_reading(tmp_path):
    shutil.copy(GOOD, str(tmp_path / "good.cdx.xml"))
    with open(str(tmp_path / "huge.cdx.json"), "wb") as handle:  # sparse: 200 MB, no disk used
        handle.truncate(200 * 1024 * 1024)
    rows, errors = build_rows([str(tmp_path)])
    assert rows
    assert dict(errors)["huge.cdx.json"] == (
        "file is 209715200 bytes, over the %d-byte limit (MAX_BYTES)" % model.MAX_BYTES)


def test_100k_nested_components_json(tmp_path):
    reason = index_with_good(tmp_path, "deep.cdx.json", _nested_json(100000))
    assert "nested" in reason or "refused before parsing" in reason  # its tree would be 6 times its size


def _nested_json(depth):
    head = '{"bomFormat":"CycloneDX","specVersion":"1.5","metadata":{"component":{"type":"application",' \
           '"name":"x","hashes":[{"alg":"SHA-256","content":"' + "a" * 64 + '"}]}},"components":['
    return head + '{"type":"library","name":"n","components":[' * depth + "]}" * depth + "]}"


def test_nesting_just_beyond_the_component_depth_limit(tmp_path):
    depth = model.MAX_DEPTH + 1
    assert "deeper than %d" % model.MAX_DEPTH in index_with_good(tmp_path, "deep.cdx.json", _nested_json(depth))


def test_deeply_nested_xml(tmp_path):
    depth = 100000
    text = '<bom xmlns="http://cyclonedx.org/schema/bom/1.5"><components>' + \
           '<component type="library"><name>n</name><components>' * depth
    reason = index_with_good(tmp_path, "deep.cdx.xml", text)
    assert "deeper than" in reason or "refused before parsing" in reason  # 3 elements per 52 bytes
    assert "deeper than" in index_with_good(tmp_path, "deep.cdx.xml", text[:200000])


def test_too_many_components(tmp_path, monkeypatch):
    monkeypatch.setattr(model, "MAX_ENTRIES", 1000)
    comps = ",".join('{"type":"library","name":"p%d"}' % i for i in range(1001))
    text = _nested_json(0).replace('"components":[', '"components":[' + comps, 1) + ""
    reason = index_with_good(tmp_path, "many.cdx.json", text)
    assert "more than 1000" in reason


@pytest.mark.parametrize("name,text,words", [
    ("binary.cdx.json", b"\x89PNG\r\n\x1a\n\x00\x00garbage", "UTF-8"),
    ("notes.cdx.json", "just some text", "neither JSON nor XML"),
    ("broken.cdx.json", '{"bomFormat": "CycloneDX", "components": [', "not valid JSON"),
    ("empty.cdx.json", "", "empty document"),
    ("other.json", '{"hello": "world"}', "neither CycloneDX"),
    ("list.cdx.json", "[1, 2, 3]", "not an object"),
    ("wrongtype.cdx.json", '{"bomFormat": "CycloneDX", "components": {"a": 1}}', "not a list"),
    ("html.cdx.xml", "<html><body>404</body></html>", "not a CycloneDX <bom>"),
    ("broken.cdx.xml", "<bom><components>", "not well-formed XML"),
    ("nosubject.spdx.json", '{"spdxVersion": "SPDX-2.3", "packages": [], "files": []}', "describes nothing"),
    ("badlink.link", '{"signed": {"_type": "link", "materials": ["a.so"], "products": {}}}', "not an object"),
    ("baddsse.intoto.json", '{"payloadType": "application/vnd.in-toto+json", "payload": "!!!"}', "DSSE payload"),
    ("badline.intoto.jsonl", '{"_type": "https://in-toto.io/Statement/v1", "subject": []}\nnope\n', "line 1"),
])
def test_malformed_documents_are_named_with_a_reason(tmp_path, name, text, words):
    assert words in index_with_good(tmp_path, name, text)


def test_missing_path_is_reported(tmp_path):
    rows, errors = build_rows([GOOD, str(tmp_path / "nope.cdx.json")])
    assert rows and errors == [(str(tmp_path / "nope.cdx.json"), "no such file or folder")]


# --- the CLI ------------------------------------------------------------------------

def cli(*args):
    env = paths.source_env()
    return subprocess.run([sys.executable, "-m", "claw_ta_tools.cli", "sbom-index"] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, universal_newlines=True)


def test_cli_writes_the_lookup_and_reports_skipped_files(tmp_path):
    folder = tmp_path / "sboms"
    shutil.copytree(os.path.join(DATA, "sbom"), str(folder))
    write(folder, "lolz.cdx.xml", BILLION_LAUGHS)
    out = tmp_path / "claw_sbom_libraries.csv"
    done = cli("--output", str(out), str(folder), GOOD)
    assert done.returncode == 0, done.stderr
    assert "skipped lolz.cdx.xml: XML with a <!DOCTYPE> declaration" in done.stderr
    with open(str(tmp_path / "claw_sbom_subjects.csv"), encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len({r["subject_digest"] for r in rows}) == 6  # written beside --output
    with open(str(out), encoding="utf-8", newline="") as handle:
        libraries = list(csv.DictReader(handle))
    assert {r["sbom_id"] for r in libraries} == {r["sbom_id"] for r in rows if r["sbom_id"]}
    assert "indexed into" in done.stderr
    assert cli("--strict", "--output", str(out), str(folder)).returncode == 1


def test_cli_stdout_and_bad_output_folder(tmp_path):
    done = cli("-o", "-", GOOD)
    assert done.returncode == 0 and done.stdout.splitlines()[0].startswith("subject_digest,subject_kind,evidence,library_path")
    bad = cli("--output", str(tmp_path / "no" / "such" / "x.csv"), GOOD)
    assert bad.returncode == 2 and "--output" in bad.stderr


def test_cli_with_no_sbom_file_names_the_argument():
    done = cli()
    assert done.returncode == 2 and "SBOM_FILE" in done.stderr


def _tables_of(folder):
    return dict((name, (folder / name).read_text(encoding="utf-8"))
                for name in ("claw_sbom_subjects.csv", "claw_sbom_libraries.csv"))


def test_cli_typo_or_no_document_is_an_error_and_keeps_the_tables(tmp_path):
    out = tmp_path / "claw_sbom_libraries.csv"
    assert cli("--output", str(out), GOOD).returncode == 0
    before = _tables_of(tmp_path)
    assert before["claw_sbom_libraries.csv"].count("\n") > 1
    typo = cli("--output", str(out), str(tmp_path / "sbmos"))
    assert typo.returncode == 2 and "no such file or folder" in typo.stderr and "sbmos" in typo.stderr
    (tmp_path / "empty").mkdir()
    write(tmp_path / "empty", "notes.json", '{"hello": "world"}')
    nothing = cli("--output", str(out), str(tmp_path / "empty"))
    assert nothing.returncode == 1 and "no document indexed" in nothing.stderr
    assert cli("--output", str(out), str(tmp_path / "empty"), GOOD, str(tmp_path / "nope.json")).returncode == 2
    assert _tables_of(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claw_sbom_libraries.csv", "claw_sbom_subjects.csv",
                                                         "empty"]  # nothing left aside


def test_tables_are_replaced_as_a_pair(tmp_path, monkeypatch):
    from claw_ta.sbom.index import build_tables
    tables, errors = build_tables([GOOD])
    subjects, libraries = tmp_path / "s.csv", tmp_path / "l.csv"
    subjects.write_text("old subjects\n")
    libraries.write_text("old libraries\n")
    real_open = open

    def failing_open(path, *args, **kwargs):  # the disk fills while the second table is written
        if str(path).startswith(str(libraries)) and str(path) != str(libraries):
            raise OSError(28, "No space left on device")
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr("builtins.open", failing_open)
    with pytest.raises(OSError):
        tables.write(str(subjects), str(libraries))
    monkeypatch.undo()
    assert subjects.read_text() == "old subjects\n" and libraries.read_text() == "old libraries\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l.csv", "s.csv"]
    tables.write(str(subjects), str(libraries))
    assert subjects.read_text().startswith("subject_digest,") and libraries.read_text().startswith("sbom_id,")
