"""Parsers on real and real-shaped documents: CycloneDX JSON/XML, SPDX, in-toto links and statements."""
import glob
import hashlib
import json
import os

import pytest

from claw_ta.sbom.index import build_rows, parse_text, read_file
from claw_ta.sbom.parse import parse_documents
from claw_ta.sbom.matcher import SbomIndex
from tests.paths import DATA

SBOM_DATA = os.path.join(DATA, "sbom")


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def parse(name):
    docs = parse_text(read_file(os.path.join(SBOM_DATA, name)), name)
    return docs


# --- the real CycloneDX examples in ../shared ----------------------------------------

# file -> components (counted independently below from the raw document)
def count_components(path):
    if path.endswith(".json"):
        doc = json.load(open(path, encoding="utf-8"))
        stack, count = list(doc.get("components", [])), 0
        while stack:
            comp = stack.pop()
            count += 1
            stack.extend(comp.get("components", []))
        return count, sum(1 for _ in json.dumps(doc).split('"purl"')[1:])
    from lxml import etree  # test-only: an independent parser to count with
    tree = etree.parse(path)
    ns = tree.getroot().nsmap[None]
    comps = tree.getroot().findall(".//{%s}components/{%s}component" % (ns, ns))
    return len(comps), len(tree.getroot().findall(".//{%s}purl" % ns))


def test_every_real_cyclonedx_example_parses_with_sensible_counts(shared_dir):
    paths = sorted(glob.glob(os.path.join(shared_dir, "sboms", "cyclonedx-examples", "*bom*")))
    assert len(paths) >= 12
    by_project = {}
    for path in paths:
        name = os.path.basename(path)
        docs = parse_documents(read_file(path), name)  # (they name no subject digest)
        assert len(docs) == 1
        doc = docs[0]
        components, purls = count_components(path)
        assert doc.components == components > 0, name
        # package-level SBOMs: every component is a package without files, most with a purl
        assert len(doc.entries) == components
        assert sum(1 for e in doc.entries if e.purl) == purls - (1 if _subject_has_purl(path) else 0)
        assert all(e.path == "" for e in doc.entries)
        by_project.setdefault(name.split("__")[0].split("-1.")[0], set()).add(components)
    # the JSON and XML renderings of one project agree
    assert by_project["dropwizard"] == {167}
    assert by_project["proton-bridge"] == {201}
    assert by_project["cern-lhc-vdm-editor-e564943"] == {43}


def _subject_has_purl(path):
    text = open(path, encoding="utf-8").read()
    if path.endswith(".json"):
        return "purl" in (json.loads(text).get("metadata", {}).get("component") or {})
    meta = text.split("<components>")[0]
    return "<purl>" in meta


def test_real_examples_without_subject_digest_are_reported_not_indexed(shared_dir):
    rows, errors = build_rows([os.path.join(shared_dir, "sboms", "cyclonedx-examples")])
    assert rows == []
    assert len(errors) == 12
    assert all("no SHA-256 subject digest" in reason for _, reason in errors)


@pytest.mark.parametrize("name", ["keycloak-10.0.2__bom.json", "dropwizard-1.3.15__bom.json",
                                  "dropwizard-1.3.15__bom.xml", "proton-bridge__proton-bridge-v1.8.0.bom.xml"])
def test_real_package_hashes_are_kept_for_digest_matching(shared_dir, name):
    path = os.path.join(shared_dir, "sboms", "cyclonedx-examples", name)
    doc, = parse_documents(read_file(path), name)
    text = open(path, encoding="utf-8").read()
    if name.endswith(".json"):  # the tool's own hash in metadata.tools is not a component's
        expected = json.dumps(json.loads(text)["components"]).count('"SHA-256"')
    else:
        expected = text[text.index("<components>"):].count('alg="SHA-256"')
    assert expected > 0
    assert sum(1 for e in doc.entries if e.sha256) == expected
    assert all(len(e.sha256) == 64 for e in doc.entries if e.sha256)


def test_syft_style_image_sbom():
    doc, = parse("alpine-image.cdx.json")
    assert doc.subjects == [sha("image:alpine-app")]  # Syft puts the image digest in version
    assert doc.subject_kinds == {sha("image:alpine-app"): "producer"}  # a digest syft computed
    assert "producer computed" in doc.warnings[0]
    # syft:location:N:path says where syft found the package (the apk database, the
    # library): evidence, not a file list; the packages stay packages without files
    assert {e.path for e in doc.entries} == {"", "/usr/lib/libcrypto.so.3"}
    packages = dict((e.name, e) for e in doc.entries if e.kind == "package")
    assert sorted(packages) == ["libssl3", "musl", "zlib"]
    assert packages["libssl3"].sha256 == ""  # SHA-1 package hash never becomes a file digest
    crypto = [e for e in doc.entries if e.path == "/usr/lib/libcrypto.so.3"][0]
    assert (crypto.kind, crypto.sha256) == ("file", sha("libcrypto.so.3"))
    assert doc.evidence == "files_sha256"


def test_nested_cyclonedx_xml_with_namespace_and_non_ascii():
    doc, = parse("orders-nested.cdx.xml")
    assert doc.subjects == [sha("bin:orders-svc")]
    assert doc.subject_kinds[sha("bin:orders-svc")] == "file"  # an application's own hash
    assert doc.ref == "urn:uuid:7f0c7e0e-3c9a-4f4e-9d8e-0d6c1d0f2a11"
    curl = [e for e in doc.entries if e.path.endswith("libcurl.so.4.8.0")][0]
    assert (curl.sha256, curl.name, curl.purl) == (sha("libcurl.so.4.8.0"), "libcurl4", "pkg:deb/debian/libcurl4@8.5.0")
    # evidence.occurrences are where the package was found, not its files
    assert {e.name for e in doc.entries if e.kind == "package"} == {"orders-runtime", "libpcre2-8-0", "libünï"}
    assert doc.components == 5


def test_cyclonedx_json_and_xml_of_the_same_bom_agree(tmp_path):
    doc_xml, = parse("orders-nested.cdx.xml")
    as_json = {"bomFormat": "CycloneDX", "specVersion": "1.6", "serialNumber": doc_xml.ref,
               "metadata": {"component": {"type": "application", "name": "orders-svc",
                                          "hashes": [{"alg": "SHA-256", "content": sha("bin:orders-svc")}]}},
               "components": [{"type": "framework", "name": "orders-runtime", "version": "2.1.0", "components": [
                   {"type": "library", "name": "libcurl4", "version": "8.5.0", "purl": "pkg:deb/debian/libcurl4@8.5.0",
                    "components": [{"type": "file", "name": "./usr/lib/x86_64-linux-gnu/libcurl.so.4.8.0",
                                    "hashes": [{"alg": "SHA-256", "content": sha("libcurl.so.4.8.0")}]}]},
                   {"type": "library", "name": "libpcre2-8-0", "version": "10.42", "evidence": {"occurrences": [
                       {"location": "/usr/lib/x86_64-linux-gnu/libpcre2-8.so.0"}]}}]},
                   {"type": "library", "name": "libünï", "version": "1.0", "evidence": {"occurrences": [
                       {"location": "/opt/orders/lib/libünï.so.1"}]}}]}
    doc_json, = parse_text(json.dumps(as_json).encode(), "orders.cdx.json")
    key = lambda d: sorted((e.path, e.sha256, e.name, e.version, e.purl) for e in d.entries)  # noqa: E731
    assert key(doc_json) == key(doc_xml)


def test_spdx_describes_sha1_only_and_relative_paths():
    doc, = parse("report-tool.spdx.json")
    assert doc.subjects == [sha("bin:report-tool")]
    assert doc.ref == "https://sbom.example.com/spdx/report-tool-0f3a"
    xml2 = [e for e in doc.entries if "libxml2" in e.path][0]
    assert (xml2.sha256, xml2.other_digest) == ("", "sha1")  # SHA1 only: a digest it cannot compare
    assert xml2.name == "libxml2" and xml2.purl == "pkg:deb/debian/libxml2@2.9.14"
    helper = [e for e in doc.entries if "libhelper" in e.path][0]
    assert helper.path == "usr/lib/report-tool//plugins/../libhelper.so"  # as written; the index decides
    assert helper.kind == "file" and len(helper.sha256) == 64
    assert [e.name for e in doc.entries if e.kind == "package"] == ["libyaml-0-2"]
    assert doc.evidence == "files_sha256"


def test_in_toto_link_relative_paths():
    doc, = parse("build-ingest.abcd1234.link")
    assert doc.format == "in-toto-link" and doc.subjects == [sha("bin:ingest")]
    assert {e.path for e in doc.entries} == {"src/main.c", "./vendor/lib/libjq.so.1", "out/ingest"}
    index = SbomIndex.from_rows(build_rows([os.path.join(SBOM_DATA, "build-ingest.abcd1234.link")])[0])
    result = index.check({"event_type": "library_load", "subject_digest": "sha256:" + sha("bin:ingest"),
                          "library_path": "/usr/local/lib/libjq.so.1", "library_digest": "sha256:" + sha("libjq.so.1")})
    assert (result["sbom_status"], result["sbom_match"]) == ("listed", "digest")


def test_in_toto_statements_jsonl_dsse_and_slsa():
    docs = parse("scheduler.intoto.jsonl")
    assert [d.format for d in docs] == ["in-toto-statement", "in-toto-statement"]
    assert docs[0].subjects == [sha("bin:scheduler")]
    assert [(e.path, e.sha256) for e in docs[0].entries] == [
        ("/usr/lib/x86_64-linux-gnu/libuv.so.1.0.0", sha("libuv.so.1"))]  # the git source is not a library
    assert docs[1].entries[0].path == "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0"


def test_statement_with_embedded_cyclonedx_predicate():
    stmt = {"_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "api", "digest": {"sha256": sha("bin:api")}}],
            "predicateType": "https://cyclonedx.org/bom",
            "predicate": {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
                {"type": "file", "name": "/usr/lib/libfoo.so.1", "hashes": [{"alg": "SHA-256", "content": sha("foo")}]}]}}
    doc, = parse_text(json.dumps(stmt), "api.intoto.json")
    assert doc.subjects == [sha("bin:api")]
    assert [(e.path, e.sha256) for e in doc.entries] == [("/usr/lib/libfoo.so.1", sha("foo"))]


def test_sigstore_bundle_is_unwrapped():
    stmt = {"_type": "https://in-toto.io/Statement/v0.1", "subject": [{"name": "x", "digest": {"sha256": sha("x")}}],
            "predicateType": "https://slsa.dev/provenance/v0.2",
            "predicate": {"materials": [{"uri": "file:///usr/lib/liba.so", "digest": {"sha256": sha("a")}}]}}
    import base64
    bundle = {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
              "dsseEnvelope": {"payloadType": "application/vnd.in-toto+json",
                               "payload": base64.b64encode(json.dumps(stmt).encode()).decode(), "signatures": []}}
    doc, = parse_text(json.dumps(bundle), "x.intoto.json")
    assert doc.subjects == [sha("x")] and doc.entries[0].path == "/usr/lib/liba.so"


def test_the_fixture_folder_indexes_like_a_scenario_sboms_folder():
    rows, errors = build_rows([SBOM_DATA])
    assert errors == []
    assert len({r["subject_digest"] for r in rows}) == 6
    assert {r["sbom_format"] for r in rows} == {"cyclonedx", "spdx", "in-toto-link", "in-toto-statement"}
    assert rows == sorted(rows, key=lambda r: tuple(r.values()))
    assert all(r["library_path"] == "" or r["library_path"].startswith("/") for r in rows)


@pytest.mark.parametrize("suffix", [".json", ".xml"])
def test_plain_suffixes_are_sniffed_by_content(tmp_path, suffix):
    source = "alpine-image.cdx.json" if suffix == ".json" else "orders-nested.cdx.xml"
    with open(os.path.join(SBOM_DATA, source), "rb") as handle:
        (tmp_path / ("sbom" + suffix)).write_bytes(handle.read())
    rows, errors = build_rows([str(tmp_path)])
    assert errors == [] and rows
