"""`claw-ta sbom-index` memory: a document of tiny JSON containers is refused before it is parsed.

json.loads builds the whole tree: 21 MB of ``{}`` components took 1.05 GB. Peak RSS
is measured in a child process (``resource.getrusage(RUSAGE_CHILDREN)`` of a
driver that runs only the CLI): at most 5 times the document, the document
refused with a message naming it; real SBOMs (mostly strings) stay far below
the estimate's limit and are indexed.
"""
import json
import os
import subprocess
import sys

import pytest

from claw_ta.sbom.parse import MEMORY_FACTOR, json_tree_estimate, xml_tree_estimate
from tests import paths

SIZE = 21 * 1000 * 1000
HEAD = ('{"bomFormat":"CycloneDX","specVersion":"1.5","metadata":{"component":{"type":"container","name":"x",'
        '"hashes":[{"alg":"SHA-256","content":"%s"}]}},"components":[' % ("ab" * 32))

DRIVER = """
import resource, subprocess, sys
done = subprocess.run([sys.executable, "-m", "claw_ta_tools.cli", "sbom-index"] + sys.argv[1:],
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
sys.stdout.write("%d\\n%d\\n%s" % (resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode,
                                   done.stderr))
"""


def tiny_containers(path, item):
    count = (SIZE - len(HEAD)) // (len(item) + 1)
    with open(path, "w") as handle:
        handle.write(HEAD + ",".join([item] * count) + "]}")
    return os.path.getsize(path)


def index_in_child(tmp_path, document):
    done = subprocess.run([sys.executable, "-c", DRIVER, "-o", str(tmp_path / "l.csv"), document],
                          stdout=subprocess.PIPE, universal_newlines=True, env=paths.source_env(), check=True)
    peak_kb, code, stderr = done.stdout.split("\n", 2)
    return int(peak_kb) * 1024, int(code), stderr


@pytest.mark.parametrize("item", ["{}", "[]", '"a"'])
def test_a_document_of_tiny_containers_is_refused_before_it_is_built(tmp_path, item):
    document = str(tmp_path / "huge.cdx.json")
    size = tiny_containers(document, item)
    peak, code, stderr = index_in_child(tmp_path, document)
    assert code == 1 and "huge.cdx.json" in stderr and "refused before parsing" in stderr, stderr
    assert peak <= MEMORY_FACTOR * size, "peak %d MB for a %d MB document" % (peak >> 20, size >> 20)


def test_an_xml_document_of_tiny_elements_is_refused_before_it_is_built(tmp_path):
    document = tmp_path / "huge.cdx.xml"
    head = ('<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.5" serialNumber="urn:uuid:x">'
            '<metadata><component type="container"><name>x</name><hashes><hash alg="SHA-256">%s</hash></hashes>'
            '</component></metadata><components>' % ("ab" * 32))
    document.write_text(head + "<component/>" * ((SIZE - len(head)) // 12) + "</components></bom>")
    size = document.stat().st_size
    peak, code, stderr = index_in_child(tmp_path, str(document))
    assert code == 1 and "huge.cdx.xml" in stderr and "refused before parsing" in stderr, stderr
    assert peak <= MEMORY_FACTOR * size, "peak %d MB for a %d MB document" % (peak >> 20, size >> 20)


def test_real_sboms_are_far_below_the_estimates_limit(shared_dir):
    """The largest real documents (mostly strings) estimate at under 3 (JSON) and 4 (XML) times their size."""
    checked = 0
    for folder, _, files in os.walk(os.path.join(shared_dir, "sboms")):
        for name in files:
            try:
                with open(os.path.join(folder, name), encoding="utf-8") as handle:
                    text = handle.read()
            except (UnicodeDecodeError, OSError):
                continue
            if text.lstrip()[:1] in ("{", "[") and len(text) > 10000:
                checked += 1
                assert json_tree_estimate(text) < 3 * len(text), name
            elif text.lstrip("\ufeff \r\n")[:1] == "<" and len(text) > 10000:
                checked += 1
                assert xml_tree_estimate(text) < 4 * len(text), name
    assert checked > 10


def test_a_large_sbom_of_real_shape_is_indexed_without_its_whole_tree(tmp_path):
    """21 MB of ordinary components: read one top-level component at a time (claw_ta.sbom.jsonstream), the
    library lines hashed and prefixed without copies of them all; the peak above a run on a tiny
    document was 7.5 times the document (json.loads' tree), now about 4.3."""
    count = SIZE // 185
    components = ",".join(json.dumps({"type": "library", "name": "pkg%d" % i, "version": "1.%d" % i,
                                      "purl": "pkg:deb/debian/pkg%d@1.%d" % (i, i),
                                      "hashes": [{"alg": "SHA-256", "content": "%064x" % i}]}) for i in range(count))
    document = tmp_path / "big.cdx.json"
    document.write_text(HEAD + components + "]}")
    del components
    size = document.stat().st_size
    peak, code, stderr = index_in_child(tmp_path, str(document))
    assert code == 0 and "1 documents indexed" in stderr, stderr
    baseline, code, _ = index_in_child(tmp_path, os.path.join(paths.DATA, "sbom", "alpine-image.cdx.json"))
    assert code == 0
    print("peak above a tiny run: %.2f times the document" % ((peak - baseline) / float(size)))
    assert peak - baseline <= MEMORY_FACTOR * size, "%.1f times the document" % ((peak - baseline) / float(size))
    assert json_tree_estimate(document.read_text()) < 4 * size


def test_streamed_documents_read_like_the_whole_tree(shared_dir, monkeypatch):
    """Every CycloneDX and SPDX 2 JSON document at hand (real ones, the fixtures, broken ones) gives the
    same document, or the same error, whether it is read one array element at a time or as a whole tree."""
    from claw_ta.sbom import jsonstream, parse
    from claw_ta.sbom.model import SbomError

    def outcome(text):
        try:
            return [(d.format, d.ref, d.subjects, sorted(d.subject_kinds.items()), d.components, d.warnings,
                     d.children, d.signature_form, d.payload_sha256,
                     [(e.path, e.sha256, e.name, e.version, e.purl, e.kind, e.other_digest) for e in d.entries])
                    for d in parse.parse_documents(text, "doc.json")]
        except SbomError as error:
            return str(error)
    texts = {"bomFormat": [], "spdxVersion": []}
    for folder, _, files in list(os.walk(shared_dir)) + list(os.walk(os.path.join(paths.DATA, "sbom"))):
        for name in sorted(files):
            if name.endswith(".json"):
                with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
                for marker in texts:
                    if '"%s"' % marker in text and text.lstrip().startswith("{"):
                        texts[marker].append(text)
    assert len(texts["bomFormat"]) > 10 and len(texts["spdxVersion"]) > 10
    cdx, spdx = json.loads(texts["bomFormat"][0]), json.loads(texts["spdxVersion"][0])
    extra = [json.dumps(dict(cdx, components={})), json.dumps(dict(cdx, components=[1])),
             json.dumps(cdx) + "\n" + json.dumps(cdx), json.dumps(dict(cdx, bomFormat="x")),
             '{"components": [], "components": [{"type": "file", "name": "/a", "hashes": []}], "bomFormat": "CycloneDX"}',
             json.dumps(dict(cdx, dependencies=[{"ref": "x"}] * 3, components=cdx.get("components", []) * 2)),
             json.dumps(dict(spdx, files=[1])), json.dumps(dict(spdx, files={})), json.dumps(dict(spdx, packages=[[]])),
             json.dumps(dict(spdx, relationships=[None, {"relationshipType": "DESCRIBES"}])),
             json.dumps(dict(spdx, spdxVersion=2)), json.dumps(dict(cdx, payloadType="x", payload="e30=")),
             json.dumps(dict(cdx, dsseEnvelope={"payloadType": "x", "payload": "e30="}))]
    streamed = 0
    for text in texts["bomFormat"] + texts["spdxVersion"] + extra:
        monkeypatch.setattr(jsonstream, "STREAM_ABOVE", 1 << 40)
        whole = outcome(text)
        monkeypatch.setattr(jsonstream, "STREAM_ABOVE", 0)
        assert outcome(text) == whole
        try:
            streamed += jsonstream.parse(text.strip(), "doc.json") is not None
        except SbomError:
            streamed += 1
    assert streamed > 20


def test_a_large_spdx_document_is_read_without_its_whole_tree(tmp_path):
    """21 MB of SPDX file entries: each keeps only the keys the SPDX reader uses."""
    files = ",".join(json.dumps({"SPDXID": "SPDXRef-File-%d" % i, "fileName": "/usr/lib/lib%d.so.1" % i,
                                 "fileTypes": ["BINARY"], "licenseConcluded": "NOASSERTION",
                                 "copyrightText": "NOASSERTION", "checksums": [
                                     {"algorithm": "SHA1", "checksumValue": "%040x" % (i + 1)},
                                     {"algorithm": "SHA256", "checksumValue": "%064x" % (i + 1)}]})
                     for i in range(SIZE // 330))
    document = tmp_path / "big.spdx.json"
    document.write_text('{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "documentNamespace": "https://x/1", '
                        '"packages": [{"SPDXID": "SPDXRef-img", "name": "img", "primaryPackagePurpose": "CONTAINER", '
                        '"checksums": [{"algorithm": "SHA256", "checksumValue": "%s"}]}], '
                        '"relationships": [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", '
                        '"relatedSpdxElement": "SPDXRef-img"}], "files": [%s]}' % ("ab" * 32, files))
    del files
    size = document.stat().st_size
    peak, code, stderr = index_in_child(tmp_path, str(document))
    assert code == 0 and "1 documents indexed" in stderr, stderr
    baseline, _, _ = index_in_child(tmp_path, os.path.join(paths.DATA, "sbom", "alpine-image.cdx.json"))
    print("SPDX peak above a tiny run: %.2f times the document" % ((peak - baseline) / float(size)))
    assert peak - baseline <= MEMORY_FACTOR * size
