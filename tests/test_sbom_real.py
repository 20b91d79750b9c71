"""Real producers: every SBOM in ../shared/sboms/real parses to the subjects, kinds, children,
evidence and entry counts recorded in tests/data/sbom-real-expected.json.

The expectations were read off the documents, not copied from the parser: checked by hand
(decoding the DSSE payloads and reading the SPDX relationships) for the BuildKit attestation
(subject from the statement, SPDX without DESCRIBES), both apko index/x86_64 pairs and ko's
multi-arch pair (VARIANT_OF children, pkg:oci mediaType kinds, the layer and base-image
packages that are not libraries, the nameless Go module package), the two cosign+Trivy
statements (statement subject = manifest, Trivy ImageID = config; the older Data-wrapped
predicate), cosign's non-SBOM Sigstore bundle, the in-toto demo links, syft's alpine CycloneDX
(14 libraries + the OS, locations not files) and SPDX (75 files without checksums, 13 of 14
packages own files), Trivy's centos-7 pair (ImageID only) and the Trivy docs SPDX (RepoDigest
purl). The rest (big-mongo's 293 components, the kubectl SPDX's 88 packages) were counted
with jq-like scripts over the raw JSON.
"""
import json
import os

import pytest

from claw_ta.sbom.model import SbomError
from claw_ta.sbom.parse import parse_documents, parse_text, read_file
from tests.paths import DATA

EXPECTED = json.load(open(os.path.join(DATA, "sbom-real-expected.json"), encoding="utf-8"))
FILES = sorted(k for k in EXPECTED if not k.startswith("_"))


def real(shared_dir, rel):
    return os.path.join(shared_dir, "sboms", "real", rel)


def counts(doc):
    return (doc.evidence, sum(1 for e in doc.entries if e.kind == "file"),
            sum(1 for e in doc.entries if e.kind == "package"))


def test_every_real_file_has_an_expectation(shared_dir):
    found = set()
    for dirpath, _, filenames in os.walk(os.path.join(shared_dir, "sboms", "real")):
        for filename in filenames:
            if filename != "SOURCES.md":
                found.add(os.path.relpath(os.path.join(dirpath, filename), os.path.join(shared_dir, "sboms", "real")))
    assert found == set(FILES)


@pytest.mark.parametrize("rel", FILES)
def test_real_sbom_parses_as_expected(shared_dir, rel):
    want = EXPECTED[rel]
    data = read_file(real(shared_dir, rel))
    if "error" in want:
        with pytest.raises(SbomError) as caught:
            parse_text(data, os.path.basename(rel))
        assert want["error"] in str(caught.value)
        if "no_subject" in want:
            doc, = parse_documents(data, os.path.basename(rel))
            got = want["no_subject"]
            assert counts(doc) == (got["evidence"], got["files"], got["packages"])
        return
    doc, = parse_text(data, os.path.basename(rel))
    assert doc.format == want["format"]
    assert doc.subject_kinds == want["subjects"]
    assert sorted(doc.children) == sorted(want["children"])
    assert counts(doc) == (want["evidence"], want["files"], want["packages"])
    assert len(doc.warnings) == len(want["warnings"])
    for expected, warning in zip(want["warnings"], doc.warnings):
        assert expected in warning


def test_package_locations_in_real_syft_output_are_not_files(shared_dir):
    """syft:location:N:path (1240 of them in big-mongo) are where syft found packages, never files."""
    path = real(shared_dir, "syft/guac/big-mongo-cyclonedx.json")
    raw = open(path, encoding="utf-8").read()
    assert raw.count('"syft:location:') == 1240 and "/var/lib/dpkg/status" in raw
    doc, = parse_text(read_file(path), "big-mongo-cyclonedx.json")
    assert not [e for e in doc.entries if e.path]
    assert doc.evidence == "packages"


def _statement(predicate, digest, name="registry.example/team/app", ptype="https://spdx.dev/Document"):
    return json.dumps({"_type": "https://in-toto.io/Statement/v0.1", "predicateType": ptype,
                       "subject": [{"name": name, "digest": {"sha256": digest}}],
                       "predicate": predicate})


@pytest.mark.parametrize("rel", ["syft/guac/alpine-spdx.json", "syft/guac/oci-spdx.json",
                                 "syft/syft-testdata/alpine-3.10.syft.spdx.json"])
def test_syft_spdx_without_describes_takes_the_statement_subject(shared_dir, rel):
    """As cosign attest --type spdxjson wraps it: the statement's subject is the document's."""
    predicate = json.load(open(real(shared_dir, rel), encoding="utf-8"))
    digest = "ab" * 32
    doc, = parse_text(_statement(predicate, digest), "att.intoto.json")
    assert doc.subject_kinds == {digest: "manifest"}
    # syft 0.57-0.64 lists files without any checksum: no regular file can be told from a symlink or a
    # directory there, so none is a file (docs/sbom.md); the packages remain
    assert len(doc.warnings) == 1 and "not files" in doc.warnings[0] and doc.evidence == "packages"
    assert not any(e.kind == "file" for e in doc.entries)


def test_the_same_syft_spdx_alone_says_why_it_cannot_be_indexed(shared_dir):
    with pytest.raises(SbomError) as caught:
        parse_text(read_file(real(shared_dir, "syft/guac/alpine-spdx.json")), "alpine-spdx.json")
    assert "describes nothing" in str(caught.value) and "cosign attest" in str(caught.value)


def test_apko_index_children_are_the_per_arch_sbom_subjects(shared_dir):
    """The index SBOM's child for x86_64 is exactly the subject of the x86_64 SBOM apko wrote beside it."""
    for folder in ("apko-golden", "hello-melange-apko-go"):
        index, = parse_text(read_file(real(shared_dir, "chainguard-apko/%s/sbom-index.spdx.json" % folder)), "i")
        arch, = parse_text(read_file(real(shared_dir, "chainguard-apko/%s/sbom-x86_64.spdx.json" % folder)), "a")
        assert arch.subjects[0] in index.children
        assert arch.subjects[0] not in index.subjects and not index.entries


def test_ko_index_links_the_per_arch_sbom(shared_dir):
    index, = parse_text(read_file(real(shared_dir, "ko/guac/go-spdx-multi-arch_3.json")), "3")
    arch, = parse_text(read_file(real(shared_dir, "ko/guac/go-spdx-multi-arch_1.json")), "1")
    assert arch.subjects == ["a743268cd3c56f921f3fb706cc0425c8ab78119fd433e38bb7c5dcd5635b0d10"]
    assert arch.subjects[0] in index.children
    # the base image it descends from (distroless static) is neither a child nor a library
    assert "29fb66034dd7174ddd2538a69b84127db1b072f3f7714d9f3a8f8d598ef19ce9" not in index.children


def test_utf16_copies_of_real_sboms_read_as_json(shared_dir, tmp_path):
    """What PowerShell's `>` writes: UTF-16 LE with a BOM (5.1) or without; and big-endian."""
    rel = "trivy/trivy-docs/trivy-docs-alpine-3.15.spdx.json"
    text = open(real(shared_dir, rel), encoding="utf-8").read()
    want, = parse_text(text.encode("utf-8"), "x")
    for data in (text.encode("utf-16"), text.encode("utf-16-le"), text.encode("utf-16-be"),
                 b"\xfe\xff" + text.encode("utf-16-be")):
        doc, = parse_text(data, "x.spdx.json")
        assert (doc.subject_kinds, len(doc.entries)) == (want.subject_kinds, len(want.entries))


WRONG_TYPES = [7, 2.5, None, True, "x", [], {}, [1], {"a": 1}, [[1]], [{"x": [1]}]]


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            for found in _paths(child, path + (key,)):
                yield found
    elif isinstance(value, list):
        for index, child in enumerate(value[:4]):
            for found in _paths(child, path + (index,)):
                yield found


@pytest.mark.parametrize("rel", ["syft/guac/alpine-spdx.json", "syft/guac/distroless-cyclonedx.json",
                                 "ko/guac/go-spdx-multi-arch_3.json", "trivy/trivy-testdata/centos-7-spdx.json",
                                 "in-toto/guac/oci-kubectl-linux-amd64-in-toto.json",
                                 "in-toto/demo_files/package.2f89b927.link"])
def test_a_field_of_the_wrong_type_is_an_sbom_error_never_a_crash(shared_dir, rel):
    """Each of 200 copies of a real document with one value swapped for another JSON type
    (seeded, so the same every run) is indexed or refused with SbomError, never TypeError."""
    import copy
    import random
    original = json.load(open(real(shared_dir, rel), encoding="utf-8"))
    places = list(_paths(original))[1:]
    rng = random.Random(rel)
    refused = 0
    for _ in range(200):
        doc = copy.deepcopy(original)
        path = rng.choice(places)
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = rng.choice(WRONG_TYPES)
        try:
            parse_documents(json.dumps(doc), os.path.basename(rel))
        except SbomError:
            refused += 1
    assert refused < 200  # most swaps hit a field the parser does not need
