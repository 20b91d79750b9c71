"""The SBOM lab's real SBOMs (../shared/sbomlab, `build.sh OUTDIR`): what real tools wrote for one
real Debian image, checked against the lab's own ground truth (image/digests.json from skopeo,
runtime/loads.json: the sha256 of every library real processes mapped).

The lab output is not kept anywhere by default (about 870 MB, 11 minutes to build as root):
set CLAW_SBOMLAB_OUT to its OUTDIR; these tests skip without it. Nothing is hard-coded: the
digests change with every build, so each expectation is read from the lab's files.
"""
import json
import os

import pytest

from claw_ta.sbom.model import SbomError
from claw_ta.sbom.parse import parse_documents, parse_text, read_file

LAB = os.environ.get("CLAW_SBOMLAB_OUT", "")


@pytest.fixture(scope="module")
def lab():
    if not LAB or not os.path.isfile(os.path.join(LAB, "image", "digests.json")):
        pytest.skip("no SBOM lab output: build it with ../shared/sbomlab/build.sh OUTDIR (as root) "
                    "and set CLAW_SBOMLAB_OUT=OUTDIR")
    digests = json.load(open(os.path.join(LAB, "image", "digests.json")))
    return dict((k, digests[k].split(":", 1)[1]) for k in ("manifest_digest", "index_digest", "config_digest"))


def doc_of(path):
    doc, = parse_documents(read_file(os.path.join(LAB, path)), os.path.basename(path))
    return doc


def loaded_digests():
    """sha256 of every file the clean (not attacked) runs mapped or loaded."""
    runs = json.load(open(os.path.join(LAB, "runtime", "loads.json")))["runs"]
    return set(lib["sha256"] for run in runs if not run["id"].startswith("attack") for lib in run["libs"])


def test_trivy_subjects_are_the_registry_digests(lab):
    registry = doc_of("sboms/trivy/image-registry.cdx.json")
    assert registry.subject_kinds == {lab["manifest_digest"]: "manifest", lab["config_digest"]: "config"}
    assert doc_of("sboms/trivy/image-registry.spdx.json").subject_kinds == registry.subject_kinds
    # pulled by the multi-arch tag: Trivy's RepoDigest is what the tag resolved to, the index
    assert lab["index_digest"] in doc_of("sboms/trivy/image-registry-multi.cdx.json").subjects
    for local in ("image-oci.cdx.json", "image-archive.spdx.json"):  # never pushed: only the ImageID
        doc = doc_of("sboms/trivy/" + local)
        assert doc.subject_kinds == {lab["config_digest"]: "config"}
        assert "generate the SBOM from the pushed image" in doc.warnings[0]


def test_every_attested_sbom_names_the_image_manifest_or_the_binary(lab):
    folder = os.path.join(LAB, "sboms", "attested")
    names = sorted(os.listdir(folder))
    assert len(names) >= 20
    for name in names:
        doc, = parse_text(read_file(os.path.join(folder, name)), name)
        if "binary-curl" in name:
            assert list(doc.subject_kinds.values()) == ["file"]
        else:
            assert doc.subject_kinds[lab["manifest_digest"]] == "manifest", name


def test_file_level_sboms_list_every_loaded_library_by_sha256(lab):
    """sbom4files (CycloneDX, SPDX) and lib4sbom's conversion: files with SHA-256, and every
    library a clean process loaded is among them (by the digest the lab measured)."""
    loaded = loaded_digests()
    assert len(loaded) > 20
    for path in ("sboms/pypi/sbom4files.cdx.json", "sboms/pypi/sbom4files.spdx.json",
                 "sboms/pypi/lib4sbom-sbom4files.cdx.json"):
        doc = doc_of(path)
        assert doc.evidence == "files_sha256", path
        listed = set(e.sha256 for e in doc.entries if e.kind == "file")
        assert loaded <= listed, (path, sorted(loaded - listed)[:3])


def test_cdxgen_bare_file_names_are_skipped_and_its_spdx3_reads_like_its_cyclonedx(lab):
    raw = json.load(open(os.path.join(LAB, "sboms", "cdxgen", "image-deep.cdx.json")))
    files = [c for c in raw["components"] if c.get("type") == "file"]
    assert files and all("/" not in c["name"] for c in files)
    assert not any(h["alg"] == "SHA-256" for c in files for h in c.get("hashes", []))
    cdx = doc_of("sboms/cdxgen/image-deep.cdx.json")
    assert cdx.warnings == ["%d file(s) give a bare file name without a directory and no SHA-256: they "
                            "cannot be matched to a loaded library and were not indexed" % len(files)]
    assert cdx.evidence == "packages"
    spdx3 = doc_of("sboms/cdxgen/image-deep.spdx.json")
    assert spdx3.format == "spdx3" and spdx3.warnings == cdx.warnings
    assert sorted((e.name, e.version, e.purl) for e in spdx3.entries) == \
        sorted((e.name, e.version, e.purl) for e in cdx.entries)


def test_in_toto_link_of_the_image_libraries_lists_each_file_once(lab):
    # in-toto-run names the link by its key id, new with every lab build
    name, = [n for n in os.listdir(os.path.join(LAB, "sboms", "intoto", "lib")) if n.endswith(".link")]
    path = os.path.join("sboms", "intoto", "lib", name)
    signed = json.load(open(os.path.join(LAB, path)))["signed"]
    files = set((p, d["sha256"]) for p, d in list(signed["products"].items()) + list(signed["materials"].items()))
    doc = doc_of(path)
    assert len(doc.entries) == len(files) > 3000
    assert set(doc.subjects) == set(d["sha256"] for d in signed["products"].values())


def test_the_oci_index_blob_links_the_index_to_its_manifest(lab):
    doc = doc_of(os.path.join("image", "oci-index", "blobs", "sha256", lab["index_digest"]))
    assert doc.subject_kinds == {lab["index_digest"]: "index"}
    assert doc.children == [lab["manifest_digest"]] and doc.warnings == []


def test_every_lab_sbom_parses_or_says_why(lab):
    for dirpath, _, filenames in os.walk(os.path.join(LAB, "sboms")):
        for filename in filenames:
            if filename.endswith((".json", ".jsonl", ".link", ".xml")):
                try:
                    parse_documents(read_file(os.path.join(dirpath, filename)), filename)
                except SbomError as error:  # only a producer that wrote nothing
                    assert str(error) == "empty document", filename
