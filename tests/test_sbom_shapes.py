"""What real producers write that ../shared/sboms/real does not hold, derived from the real files
where possible (Trivy's 2022 DESCRIBE spelling, cosign's Data predicate as a JSON string, a
statement with several subjects) and otherwise written in the producer's shape: an OCI image
index as `crane manifest`/`skopeo inspect --raw` return it (BuildKit multi-arch with its
attestation manifest), and SPDX 3.0.1 JSON-LD as cdxgen writes it (bare file names with MD5/SHA-1).
"""
import base64
import hashlib
import json
import os

import pytest

from claw_ta.sbom.model import SbomError
from claw_ta.sbom.parse import parse_text, read_file
from claw_ta.sbom.subjects import statement_subject_kind


def real(shared_dir, rel):
    return os.path.join(shared_dir, "sboms", "real", rel)


def envelope(statement):
    return json.dumps({"payloadType": "application/vnd.in-toto+json", "signatures": [],
                       "payload": base64.b64encode(json.dumps(statement).encode()).decode()})


def test_trivy_2022_describe_spelling(shared_dir):
    """Trivy 0.2x wrote the relationship as DESCRIBE: the same subject as DESCRIBES."""
    text = open(real(shared_dir, "trivy/trivy-testdata/centos-7-spdx.json"), encoding="utf-8").read()
    assert text.count('"DESCRIBES"') == 1
    want, = parse_text(text, "centos-7-spdx.json")
    doc, = parse_text(text.replace('"DESCRIBES"', '"DESCRIBE"'), "centos-7-spdx.json")
    assert doc.subject_kinds == want.subject_kinds == {
        "f1cb7c7d58b73eac859c395882eec49d50651244e342cd6c68a5c7809785f427": "config"}
    assert "generate the SBOM from the pushed image" in doc.warnings[0]
    assert len(doc.entries) == len(want.entries) == 3


def _statement_of(shared_dir, rel):
    line = open(real(shared_dir, rel), encoding="utf-8").read().strip()
    return json.loads(base64.b64decode(json.loads(line)["payload"]))


def test_cosign_data_predicate_as_a_json_string(shared_dir):
    """cosign's older predicate {"Data": <bom>, "Timestamp": ...}: Data as an object or as JSON text."""
    statement = _statement_of(shared_dir, "cosign/trivy-testdata/sbom.cdx.intoto.jsonl")
    assert isinstance(statement["predicate"]["Data"], dict)
    want, = parse_text(envelope(statement), "a.intoto.jsonl")
    statement["predicate"]["Data"] = json.dumps(statement["predicate"]["Data"])
    doc, = parse_text(envelope(statement), "a.intoto.jsonl")
    assert doc.subject_kinds == want.subject_kinds
    assert doc.subject_kinds["20d3f693dcffa44d6b24eae88783324d25cc132c22089f70e4fbfb858625b062"] == "manifest"
    assert [e.name for e in doc.entries] == [e.name for e in want.entries] and len(doc.entries) == 9
    statement["predicate"]["Data"] = "built by CI run 42"
    with pytest.raises(SbomError) as caught:
        parse_text(envelope(statement), "a.intoto.jsonl")
    assert "not JSON: not an SBOM" in str(caught.value)


def test_statement_with_several_subjects_keeps_all(shared_dir):
    """BuildKit attests each platform manifest; a statement may name several (one SBOM for both)."""
    statement = json.load(open(real(shared_dir, "buildkit/docker-docs/docker-docs-sbom-attestation-example.intoto.json")))
    first = statement["subject"][0]
    second = {"name": first["name"].replace("<platform>", "linux/arm64"), "digest": {"sha256": "cd" * 32}}
    statement["subject"].append(second)
    doc, = parse_text(json.dumps(statement), "two.intoto.json")
    assert doc.subject_kinds == {first["digest"]["sha256"]: "manifest", "cd" * 32: "manifest"}
    assert len(doc.entries) == 2 and doc.warnings == []


@pytest.mark.parametrize("name,kind", [
    ("pkg:docker/registry.example/app@sha256:aa?platform=linux%2Famd64", "manifest"),
    ("pkg:oci/app@sha256%3A" + "a" * 64 + "?mediaType=application%2Fvnd.oci.image.index.v1%2Bjson", "index"),
    ("index.docker.io/library/centos", "manifest"), ("127.0.0.1:60943/repo", "manifest"),
    ("localhost/app", "manifest"), ("/mnt/vss/_work/1/a/release-tars/client/linux/amd64/kubectl", "file"),
    ("kubectl-amd64.tar", "file"), ("curl", "file"), ("./out/app", "file"), ("team/app", "unknown"), ("", "unknown")])
def test_statement_subject_kind_from_its_name(name, kind):
    assert statement_subject_kind(name) == kind


# --- OCI image index documents --------------------------------------------------------------

PLATFORM_AMD64 = "1e" * 32
PLATFORM_ARM64 = "2f" * 32
ATTESTATION = "3a" * 32


def buildkit_index(media="application/vnd.oci.image.index.v1+json"):
    """A multi-arch index as BuildKit pushes it: two platforms and an attestation manifest."""
    manifest = "application/vnd.oci.image.manifest.v1+json"
    return json.dumps({"schemaVersion": 2, "mediaType": media, "manifests": [
        {"mediaType": manifest, "digest": "sha256:" + PLATFORM_AMD64, "size": 1052,
         "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": manifest, "digest": "sha256:" + PLATFORM_ARM64, "size": 1052,
         "platform": {"architecture": "arm64", "os": "linux"}},
        {"mediaType": manifest, "digest": "sha256:" + ATTESTATION, "size": 839,
         "annotations": {"vnd.docker.reference.digest": "sha256:" + PLATFORM_AMD64,
                         "vnd.docker.reference.type": "attestation-manifest"},
         "platform": {"architecture": "unknown", "os": "unknown"}}]}, separators=(",", ":")).encode()


def test_oci_index_read_like_an_sbom_links_the_index_to_its_platforms(tmp_path):
    raw = buildkit_index()
    digest = hashlib.sha256(raw).hexdigest()
    doc, = parse_text(raw, "index.json")
    assert doc.format == "oci-index" and doc.subject_kinds == {digest: "index"}
    assert doc.children == [PLATFORM_AMD64, PLATFORM_ARM64]  # not the attestation manifest
    assert doc.entries == [] and doc.evidence == "none"
    assert "SHA-256 of the file's bytes" in doc.warnings[0]
    # named after its digest (cosign / oras style): the name gives the subject
    named, = parse_text(raw, "sha256-%s.json" % digest)
    assert named.subject_kinds == {digest: "index"} and named.warnings == []
    blob, = parse_text(raw, digest)  # an OCI layout's blobs/sha256/<hex>
    assert blob.subject_kinds == {digest: "index"} and blob.warnings == []
    # pretty-printed by someone: the bytes no longer hash to the digest; the name wins, with a warning
    pretty = json.dumps(json.loads(raw), indent=2).encode()
    doc, = parse_text(pretty, "sha256-%s.json" % digest)
    assert doc.subjects == [digest] and "re-serialized" in doc.warnings[0]


def test_docker_manifest_list_and_a_plain_manifest():
    docker = buildkit_index("application/vnd.docker.distribution.manifest.list.v2+json")
    docker = docker.replace(b"application/vnd.oci.image.manifest.v1+json",
                            b"application/vnd.docker.distribution.manifest.v2+json")
    doc, = parse_text(docker, "list.json")
    assert doc.children == [PLATFORM_AMD64, PLATFORM_ARM64]
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"digest": "sha256:" + "4" * 64}, "layers": []}
    with pytest.raises(SbomError) as caught:
        parse_text(json.dumps(manifest), "manifest.json")
    assert "an OCI image manifest, not an SBOM" in str(caught.value)


# --- SPDX 3.0.1 JSON-LD (cdxgen) ------------------------------------------------------------------

IMAGE = "5c" * 32


def cdxgen_spdx3():
    """SPDX 3.0.1 JSON-LD in cdxgen's shape: document -> Sbom -> root package, files, relationships."""
    ci = "_:creationinfo"
    base = "https://cdxgen.example/spdx/lab/"

    def el(kind, ident, **fields):
        fields.update({"type": kind, "spdxId": base + ident, "creationInfo": ci})
        return fields

    def h(alg, value):
        return [{"type": "Hash", "algorithm": alg, "hashValue": value}]

    return {"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": [
        {"type": "CreationInfo", "@id": ci, "specVersion": "3.0.1", "created": "2026-11-20T10:00:00Z",
         "createdBy": [base + "tool"]},
        el("SpdxDocument", "doc", rootElement=[base + "sbom"], element=[]),
        el("software_Sbom", "sbom", rootElement=[base + "image"], software_sbomType=["analyzed"]),
        el("software_Package", "image", name="bookworm-min", software_primaryPurpose="container",
           software_packageUrl="pkg:oci/bookworm-min@sha256%3A" + IMAGE + "?tag=lab"),
        el("software_Package", "zlib", name="zlib1g", software_packageVersion="1:1.2.13",
           software_packageUrl="pkg:deb/debian/zlib1g@1:1.2.13"),
        el("software_Package", "curl", name="curl", software_packageVersion="7.88.1",
           externalIdentifier=[{"type": "ExternalIdentifier", "externalIdentifierType": "packageUrl",
                                "identifier": "pkg:deb/debian/curl@7.88.1"}]),
        el("software_File", "f-libz", name="/usr/lib/x86_64-linux-gnu/libz.so.1.2.13",
           verifiedUsing=h("sha256", "7a" * 32) + h("sha1", "7b" * 20)),
        el("software_File", "f-status", name="/var/lib/dpkg/status", verifiedUsing=h("sha256", "7c" * 32)),
        el("software_File", "f-bare", name="libcurl.so.4", verifiedUsing=h("md5", "7d" * 16)),
        el("software_File", "f-bare-sha", name="curl", verifiedUsing=h("sha256", "7e" * 32)),
        el("Relationship", "r1", **{"from": base + "sbom", "relationshipType": "describes", "to": [base + "image"]}),
        el("Relationship", "r2", **{"from": base + "zlib", "relationshipType": "contains", "to": [base + "f-libz"]}),
        el("Relationship", "r3", **{"from": base + "curl", "relationshipType": "hasEvidence",
                                    "to": [base + "f-status"]}),
    ]}


def test_spdx3_jsonld_as_cdxgen_writes_it():
    doc, = parse_text(json.dumps(cdxgen_spdx3(), indent=1), "lab.spdx3.json")
    assert doc.format == "spdx3" and doc.subject_kinds == {IMAGE: "manifest"}
    files = [(e.path, e.sha256, e.name) for e in doc.entries if e.kind == "file"]
    assert files == [("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", "7a" * 32, "zlib1g"),
                     ("", "7e" * 32, "")]  # a bare name with a SHA-256: by digest only
    # /var/lib/dpkg/status is evidence (where curl was found); libcurl.so.4 (bare name, MD5): unusable
    assert [e.name for e in doc.entries if e.kind == "package"] == ["curl"]
    assert doc.evidence == "files_sha256"
    assert "1 file(s) give a bare file name" in doc.warnings[0]


def test_spdx3_predicate_in_a_statement_and_without_a_root():
    graph = cdxgen_spdx3()
    statement = {"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://spdx.dev/Document/v3.0",
                 "subject": [{"name": "registry.example/lab", "digest": {"sha256": "6d" * 32}}], "predicate": graph}
    doc, = parse_text(json.dumps(statement), "lab.intoto.json")
    assert doc.subject_kinds == {"6d" * 32: "manifest", IMAGE: "manifest"}
    graph["@graph"] = [e for e in graph["@graph"] if e["type"] not in ("SpdxDocument", "software_Sbom")
                       and e.get("relationshipType") != "describes"]
    with pytest.raises(SbomError) as caught:
        parse_text(json.dumps(graph), "lab.spdx3.json")
    assert "no SHA-256 subject digest" in str(caught.value)


def test_utf16_xml_with_a_bom_still_reads_as_xml(tmp_path):
    path = os.path.join(os.path.dirname(__file__), "data", "sbom", "orders-nested.cdx.xml")
    text = read_file(path).decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    doc, = parse_text(text.encode("utf-16"), "orders.cdx.xml")
    assert doc.format == "cyclonedx" and len(doc.entries) == 4


def test_slsa_provenance_lists_only_files_it_names():
    """SLSA v1 resolvedDependencies: a git source and a base image are build inputs, not libraries."""
    statement = {"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://slsa.dev/provenance/v1",
                 "subject": [{"name": "registry.example/app", "digest": {"sha256": "8a" * 32}}],
                 "predicate": {"buildDefinition": {"buildType": "https://example.invalid/build/v1",
                                                   "resolvedDependencies": [
                     {"uri": "git+https://github.com/example/app@refs/heads/main", "digest": {"gitCommit": "9" * 40}},
                     {"uri": "pkg:docker/debian@bookworm", "digest": {"sha256": "8b" * 32}},
                     {"uri": "file:///usr/lib/x86_64-linux-gnu/libapp.so.1", "digest": {"sha256": "8c" * 32}}]}}}
    doc, = parse_text(json.dumps(statement), "prov.intoto.json")
    assert [(e.kind, e.path, e.sha256) for e in doc.entries] == [
        ("file", "/usr/lib/x86_64-linux-gnu/libapp.so.1", "8c" * 32)]
    statement["predicate"]["buildDefinition"]["resolvedDependencies"].pop()
    with pytest.raises(SbomError) as caught:
        parse_text(json.dumps(statement), "prov.intoto.json")
    assert "https://slsa.dev/provenance/v1) lists no file or library" in str(caught.value)


def test_spdx3_sbom_that_is_its_own_root_ends():
    graph = cdxgen_spdx3()
    sbom = [e for e in graph["@graph"] if e["type"] == "software_Sbom"][0]
    sbom["rootElement"] = [sbom["spdxId"], "https://cdxgen.example/spdx/lab/image"]
    doc, = parse_text(json.dumps(graph), "loop.spdx3.json")
    assert doc.subject_kinds == {IMAGE: "manifest"}
    sbom["rootElement"] = [sbom["spdxId"]]
    graph["@graph"] = [e for e in graph["@graph"] if e.get("relationshipType") != "describes"]
    with pytest.raises(SbomError):
        parse_text(json.dumps(graph), "loop.spdx3.json")
