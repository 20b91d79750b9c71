"""Documents written by the real producers (cyclonedx-python-lib, spdx-tools, in-toto) index and match."""
import datetime
import hashlib
import json
import os

import pytest

from claw_ta.sbom.index import build_rows
from claw_ta.sbom.parse import parse_text
from claw_ta.sbom.matcher import SbomIndex


def sha(data):
    return hashlib.sha256(data).hexdigest()


BINARY = b"\x7fELF payments-api"
LIBSSL = b"libssl 3.0.13 contents"
LIBZ = b"zlib 1.3 contents"


def load(subject_hex, path, digest_hex=None, image=None):
    return {"event_type": "library_load", "subject_digest": "sha256:" + subject_hex,
            "image_digest": image, "library_path": path,
            "library_digest": "sha256:" + digest_hex if digest_hex else None}


def cyclonedx_bom():
    from cyclonedx.model import HashAlgorithm, HashType
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
    from packageurl import PackageURL

    bom = Bom()
    bom.metadata.component = Component(
        name="payments-api", version="1.4.0", type=ComponentType.APPLICATION,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=sha(BINARY))])
    openssl = Component(name="libssl3", version="3.0.13", type=ComponentType.LIBRARY,
                        purl=PackageURL("deb", "debian", "libssl3", "3.0.13"))
    openssl.components.add(Component(
        name="./usr/lib/x86_64-linux-gnu/libssl.so.3", type=ComponentType.FILE,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=sha(LIBSSL))]))
    zlib = Component(name="zlib1g", version="1:1.3", type=ComponentType.LIBRARY,
                     evidence=ComponentEvidence(occurrences=[Occurrence(location="/lib/x86_64-linux-gnu/libz.so.1")]))
    libffi = Component(name="libffi8", version="3.4.4", type=ComponentType.LIBRARY)
    bom.components.update([openssl, zlib, libffi])
    return bom


@pytest.mark.filterwarnings("ignore:The Component this BOM is describing")
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_cyclonedx_python_lib_documents_index_and_match(tmp_path, fmt):
    from cyclonedx.output import make_outputter
    from cyclonedx.schema import OutputFormat, SchemaVersion

    for version in (SchemaVersion.V1_4, SchemaVersion.V1_5, SchemaVersion.V1_6):
        output = OutputFormat.JSON if fmt == "json" else OutputFormat.XML
        text = make_outputter(cyclonedx_bom(), output, version).output_as_string()
        name = "payments-%s.cdx.%s" % (version.to_version(), fmt)
        (tmp_path / name).write_text(text, encoding="utf-8")
    rows, errors = build_rows([str(tmp_path)])
    assert errors == []
    subject = "sha256:" + sha(BINARY)
    assert set(r["subject_digest"] for r in rows) == {subject}
    paths = set(r["library_path"] for r in rows)
    # zlib's occurrence is where the package was found (evidence), not a file of it
    assert {"/usr/lib/x86_64-linux-gnu/libssl.so.3", ""} == paths
    ssl = [r for r in rows if r["library_path"].endswith("libssl.so.3")]
    assert ssl[0]["library_digest"] == "sha256:" + sha(LIBSSL)
    assert ssl[0]["package_name"] == "libssl3" and ssl[0]["purl"] == "pkg:deb/debian/libssl3@3.0.13"
    assert {r["package_name"] for r in rows if not r["library_path"]} == {"zlib1g", "libffi8"}
    assert {r["sbom_format"] for r in rows} == {"cyclonedx"}
    index = SbomIndex.from_rows(rows)
    check = index.check
    assert check(load(sha(BINARY), "/usr/lib/x86_64-linux-gnu/libssl.so.3", sha(LIBSSL)))["sbom_match"] == "digest"
    assert check(load(sha(BINARY), "/usr/lib/x86_64-linux-gnu/libssl.so.3", sha(b"evil")))["sbom_status"] == "unlisted"


def spdx_document(tmp_path, with_sha256=True):
    from spdx_tools.spdx.model import (Actor, ActorType, Checksum, ChecksumAlgorithm, CreationInfo,
                                       Document, File, Package, PackageVerificationCode, Relationship,
                                       RelationshipType, SpdxNoAssertion)
    from spdx_tools.spdx.writer.json.json_writer import write_document_to_file

    info = CreationInfo("SPDX-2.3", "SPDXRef-DOCUMENT", "payments-api",
                        "https://example.com/spdx/payments-api-1", [Actor(ActorType.TOOL, "claw-test")],
                        datetime.datetime(2026, 11, 20))
    app = File("./usr/local/bin/payments-api", "SPDXRef-app",
               [Checksum(ChecksumAlgorithm.SHA256, sha(BINARY)), Checksum(ChecksumAlgorithm.SHA1, "1" * 40)])
    lib_sums = [Checksum(ChecksumAlgorithm.SHA1, hashlib.sha1(LIBSSL).hexdigest())]
    if with_sha256:
        lib_sums.append(Checksum(ChecksumAlgorithm.SHA256, sha(LIBSSL)))
    lib = File("./usr/lib/x86_64-linux-gnu/libssl.so.3", "SPDXRef-libssl", lib_sums)
    pkg = Package("SPDXRef-openssl", "openssl", SpdxNoAssertion(), version="3.0.13",
                  verification_code=PackageVerificationCode(hashlib.sha1(b"v").hexdigest()))
    zlib = Package("SPDXRef-zlib", "zlib", SpdxNoAssertion(), version="1.3", files_analyzed=False)
    doc = Document(info, packages=[pkg, zlib], files=[app, lib], relationships=[
        Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, "SPDXRef-app"),
        Relationship("SPDXRef-openssl", RelationshipType.CONTAINS, "SPDXRef-libssl"),
        Relationship("SPDXRef-app", RelationshipType.DYNAMIC_LINK, "SPDXRef-libssl"),
        Relationship("SPDXRef-app", RelationshipType.DYNAMIC_LINK, "SPDXRef-zlib")])
    path = str(tmp_path / "payments.spdx.json")
    write_document_to_file(doc, path, validate=True)
    return path


def test_spdx_tools_document_indexes_and_matches(tmp_path):
    path = spdx_document(tmp_path)
    rows, errors = build_rows([path])
    assert errors == []
    assert {r["subject_digest"] for r in rows} == {"sha256:" + sha(BINARY)}
    ssl = [r for r in rows if r["library_path"] == "/usr/lib/x86_64-linux-gnu/libssl.so.3"]
    assert ssl and ssl[0]["library_digest"] == "sha256:" + sha(LIBSSL) and ssl[0]["package_name"] == "openssl"
    assert [r["package_name"] for r in rows if not r["library_path"]] == ["zlib"]
    assert rows[0]["sbom_name"] == "https://example.com/spdx/payments-api-1"
    doc, = parse_text(open(path, "rb").read(), "payments.spdx.json")
    assert doc.subject_kinds == {sha(BINARY): "file"}  # the described element is a file
    assert doc.evidence == "files_sha256"
    index = SbomIndex.from_rows(rows)
    assert index.check(load(sha(BINARY), "/usr/lib/x86_64-linux-gnu/libssl.so.3", sha(LIBSSL)))["sbom_status"] == "listed"


def test_spdx_tools_sha1_only_file_matches_by_path_never_as_swapped(tmp_path):
    rows, errors = build_rows([spdx_document(tmp_path, with_sha256=False)])
    assert errors == []
    ssl = [r for r in rows if r["library_path"].endswith("libssl.so.3")]
    assert ssl[0]["library_digest"] == ""
    result = SbomIndex.from_rows(rows).check(
        load(sha(BINARY), "/usr/lib/x86_64-linux-gnu/libssl.so.3", sha(b"anything")))
    assert (result["sbom_status"], result["sbom_match"]) == ("listed", "path")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_in_toto_generated_link_with_relative_paths(tmp_path, monkeypatch):
    from in_toto.runlib import in_toto_run

    work = tmp_path / "build"
    (work / "lib").mkdir(parents=True)
    (work / "lib" / "libssl.so.3").write_bytes(LIBSSL)
    (work / "payments-api").write_bytes(BINARY)
    monkeypatch.chdir(work)
    link = in_toto_run("link-deps", ["lib"], ["payments-api"], [], record_streams=False)
    out = tmp_path / "sboms"
    out.mkdir()
    link.dump(str(out / "link-deps.abcd1234.link"))
    raw = json.loads((out / "link-deps.abcd1234.link").read_text())
    assert raw["signed"]["_type"] == "link" and "lib/libssl.so.3" in raw["signed"]["materials"]
    rows, errors = build_rows([str(out)])
    assert errors == []
    assert {r["subject_digest"] for r in rows} == {"sha256:" + sha(BINARY)}
    assert "/lib/libssl.so.3" not in {r["library_path"] for r in rows}  # merged /usr applied
    assert {r["sbom_format"] for r in rows} == {"in-toto-link"}
    index = SbomIndex.from_rows(rows)
    # relative path lib/libssl.so.3 is not where the loader finds it: the digest decides
    hit = index.check(load(sha(BINARY), "/usr/lib/x86_64-linux-gnu/libssl.so.3", sha(LIBSSL)))
    assert (hit["sbom_status"], hit["sbom_match"], hit["sbom_name"]) == ("listed", "digest", "link-deps.abcd1234.link")
    miss = index.check(load(sha(BINARY), "/usr/lib/x86_64-linux-gnu/libssl.so.3", sha(b"other")))
    assert miss["sbom_status"] == "unlisted"
    assert os.path.exists(str(out / "link-deps.abcd1234.link"))


# --- file-level SBOMs, written with the producers' own libraries ------------------------------

IMAGE_DIGEST = sha(b"registry manifest of payments-api")


@pytest.mark.filterwarnings("ignore:The Component this BOM is describing")
def test_cyclonedx_file_listing_as_syft_select_catalogers_writes_it():
    """syft --select-catalogers +file-digest: files as `type: file` components with SHA-1 and SHA-256,
    packages found by their locations (syft:location:N:path), the image digest in the version."""
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output import make_outputter
    from cyclonedx.schema import OutputFormat, SchemaVersion
    bom = Bom()
    bom.metadata.component = Component(
        name="registry.example/payments/api", version="sha256:" + IMAGE_DIGEST, type=ComponentType.CONTAINER)
    bom.components.add(Component(name="libssl3", version="3.0.13", type=ComponentType.LIBRARY, properties=[
        Property(name="syft:location:0:path", value="/var/lib/dpkg/status"),
        Property(name="syft:location:1:path", value="/usr/share/doc/libssl3/copyright")]))
    bom.components.add(Component(name="/usr/lib/x86_64-linux-gnu/libssl.so.3", type=ComponentType.FILE, hashes=[
        HashType(alg=HashAlgorithm.SHA_1, content=hashlib.sha1(LIBSSL).hexdigest()),
        HashType(alg=HashAlgorithm.SHA_256, content=sha(LIBSSL))]))
    bom.components.add(Component(name="/usr/lib/x86_64-linux-gnu/libz.so.1", type=ComponentType.FILE,
                                 hashes=[HashType(alg=HashAlgorithm.SHA_1, content=hashlib.sha1(LIBZ).hexdigest())]))
    text = make_outputter(bom, OutputFormat.JSON, SchemaVersion.V1_6).output_as_string()
    assert '"syft:location:0:path"' in text
    doc, = parse_text(text, "api.cdx.json")
    assert doc.subject_kinds == {IMAGE_DIGEST: "producer"}  # a digest syft computed
    files = dict((e.path, (e.sha256, e.other_digest)) for e in doc.entries if e.kind == "file")
    assert files == {"/usr/lib/x86_64-linux-gnu/libssl.so.3": (sha(LIBSSL), ""),
                     "/usr/lib/x86_64-linux-gnu/libz.so.1": ("", "sha1")}
    assert [e.name for e in doc.entries if e.kind == "package"] == ["libssl3"]  # locations are not files
    assert doc.evidence == "files_sha256"
    assert len(doc.warnings) == 1 and "cosign attest" in doc.warnings[0]


def test_spdx_locations_as_evident_by_relationships_are_not_files(tmp_path):
    """Newer syft SPDX: the file a package was found in is an OTHER relationship "evident-by: ..."."""
    from spdx_tools.spdx.model import (Actor, ActorType, Checksum, ChecksumAlgorithm, CreationInfo,
                                       Document, ExternalPackageRef, ExternalPackageRefCategory, File,
                                       Package, Relationship, RelationshipType, SpdxNoAssertion)
    from spdx_tools.spdx.writer.json.json_writer import write_document_to_file

    info = CreationInfo("SPDX-2.3", "SPDXRef-DOCUMENT", "registry.example/payments/api",
                        "https://anchore.com/syft/image/api-1", [Actor(ActorType.TOOL, "syft-1.18.1")],
                        datetime.datetime(2026, 11, 20))
    image = Package("SPDXRef-DocumentRoot-Image-api", "registry.example/payments/api", SpdxNoAssertion(),
                    version="sha256:" + IMAGE_DIGEST, files_analyzed=False,
                    checksums=[Checksum(ChecksumAlgorithm.SHA256, IMAGE_DIGEST)],
                    external_references=[ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl",
                                                            "pkg:oci/api@sha256%3A" + IMAGE_DIGEST)])
    ssl = Package("SPDXRef-Package-deb-libssl3", "libssl3", SpdxNoAssertion(), version="3.0.13", files_analyzed=False)
    status = File("/var/lib/dpkg/status", "SPDXRef-File-status",
                  [Checksum(ChecksumAlgorithm.SHA1, "1" * 40), Checksum(ChecksumAlgorithm.SHA256, "2" * 64)])
    lib = File("/usr/lib/x86_64-linux-gnu/libssl.so.3", "SPDXRef-File-libssl",
               [Checksum(ChecksumAlgorithm.SHA1, hashlib.sha1(LIBSSL).hexdigest()),
                Checksum(ChecksumAlgorithm.SHA256, sha(LIBSSL))])
    evident = "evident-by: indicates the package's existence is evident by the given file"
    doc = Document(info, packages=[image, ssl], files=[status, lib], relationships=[
        Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, "SPDXRef-DocumentRoot-Image-api"),
        Relationship("SPDXRef-DocumentRoot-Image-api", RelationshipType.CONTAINS, "SPDXRef-Package-deb-libssl3"),
        Relationship("SPDXRef-Package-deb-libssl3", RelationshipType.OTHER, "SPDXRef-File-status", comment=evident)])
    path = str(tmp_path / "api.spdx.json")
    write_document_to_file(doc, path, validate=False)  # syft writes absolute file names, as here
    parsed, = parse_text(open(path, "rb").read(), "api.spdx.json")
    assert parsed.subject_kinds == {IMAGE_DIGEST: "producer"}  # syft computed the image digest
    assert [(e.path, e.sha256) for e in parsed.entries if e.kind == "file"] == [
        ("/usr/lib/x86_64-linux-gnu/libssl.so.3", sha(LIBSSL))]
    assert [e.name for e in parsed.entries if e.kind == "package"] == ["libssl3"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_in_toto_link_lists_each_file_once(tmp_path, monkeypatch):
    """A step whose products include its materials (an image rootfs recorded before and after):
    N distinct files give N entries, and every product is a subject of kind file."""
    from in_toto.runlib import in_toto_run

    work = tmp_path / "rootfs"
    (work / "usr" / "lib").mkdir(parents=True)
    libs = dict(("usr/lib/lib%d.so.1" % n, b"library %d" % n) for n in range(20))
    for rel, data in libs.items():
        (work / rel).write_bytes(data)
    (work / "usr" / "bin").mkdir()
    (work / "usr" / "bin" / "app").write_bytes(BINARY)
    monkeypatch.chdir(work)
    link = in_toto_run("rootfs", ["usr/lib"], ["usr"], [], record_streams=False)
    out = tmp_path / "rootfs.abcd1234.link"
    link.dump(str(out))
    doc, = parse_text(out.read_bytes(), out.name)
    assert len(doc.entries) == 21 and doc.components == 41  # 20 materials + 21 products
    assert set(doc.subjects) == set([sha(BINARY)] + [sha(d) for d in libs.values()])
    assert set(doc.subject_kinds.values()) == {"file"}
    assert doc.evidence == "files_sha256"
