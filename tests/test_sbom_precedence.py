"""Documents cannot vouch for each other (docs/sbom.md, "Trust and precedence").

Every attack is an extra document an attacker gets into the SBOM index: as an
``untrusted`` document it never decides; as a ``channel`` document (an
unsigned document from a declared source) it cannot widen the list of a
``verified`` document of the event's image. The bundled swapped-libssl
scenario keeps its alert with the attacker's document beside it.
"""
import os
import shutil

import pytest

from claw_ta.sbom.matcher import SbomIndex
from tests.support.sbom_trust_docs import (AMD64, BIN, FAKE, INDEX, LIB, SWAPPED, index_files, index_load,
                                           index_of, link_doc, oci_index, sha, swapped_load, trojan_cdx,
                                           trojan_link, trojan_spdx, trojan_statement, unlisted_alerts, victim)


def test_swapped_libssl_alerts_without_the_extra_link(tmp_path):
    path = str(tmp_path / "s")
    shutil.copytree(SWAPPED, path)
    assert unlisted_alerts(path)


def test_another_builds_link_cannot_list_the_trojan_the_image_sbom_does_not(tmp_path):
    # The scenario's sboms/ are channel documents: the link names the binary only, the image's
    # file-level SBOM names the image and lists libssl with another SHA-256: it decides.
    path = str(tmp_path / "s")
    shutil.copytree(SWAPPED, path)
    with open(os.path.join(path, "sboms", "another-build.link"), "w") as handle:
        handle.write(trojan_link())
    assert unlisted_alerts(path)


@pytest.mark.parametrize("trust", ["untrusted", "channel"])
def test_the_link_never_widens_the_images_list(tmp_path, trust):
    index = index_of(tmp_path, {"image.cdx.xml": victim(), "another-build.link": trojan_link()},
                     {"image.cdx.xml": "verified", "another-build.link": trust})
    result = index.check(swapped_load())
    assert (result["sbom_status"], result["sbom_match"]) == ("unlisted", "path")
    assert (result["sbom_trust"], result["sbom_signer"]) == ("verified", "key:ci")


def test_an_untrusted_link_alone_decides_nothing(tmp_path):
    index = index_of(tmp_path, {"another-build.link": trojan_link()}, {"another-build.link": "untrusted"})
    result = index.check(swapped_load(image_digest=None))
    assert result["sbom_status"] == "no_sbom"
    assert "1 untrusted document" in result["sbom_reason"] and "another-build.link" in result["sbom_reason"]


@pytest.mark.parametrize("how", ["hash", "version"])
def test_an_untrusted_cyclonedx_claiming_the_image_digest_decides_nothing(tmp_path, how):
    index = index_of(tmp_path, {"image.cdx.xml": victim(), "evil.cdx.json": trojan_cdx(how)},
                     {"image.cdx.xml": "channel", "evil.cdx.json": "untrusted"})
    result = index.check(swapped_load())
    assert (result["sbom_status"], result["sbom_trust"]) == ("unlisted", "channel")
    assert "untrusted document" in result["sbom_reason"]
    only = index_of(tmp_path, {"evil.cdx.json": trojan_cdx(how)}, {"evil.cdx.json": "untrusted"})
    assert only.check(swapped_load())["sbom_status"] == "no_sbom"


@pytest.mark.parametrize("how", ["hash", "version"])
def test_a_channel_cyclonedx_cannot_widen_a_verified_image_list(tmp_path, how):
    index = index_of(tmp_path, {"image.cdx.xml": victim(), "evil.cdx.json": trojan_cdx(how)},
                     {"image.cdx.xml": "verified", "evil.cdx.json": "channel"})
    result = index.check(swapped_load())
    assert (result["sbom_status"], result["sbom_trust"]) == ("unlisted", "verified")


def test_two_channel_image_documents_that_disagree_make_nothing_listed(tmp_path):
    index = index_of(tmp_path, {"image.cdx.xml": victim(), "evil.cdx.json": trojan_cdx("hash")},
                     {"image.cdx.xml": "channel", "evil.cdx.json": "channel"})
    result = index.check(swapped_load())
    assert result["sbom_status"] == "unverifiable"
    assert "evil.cdx.json" in result["sbom_reason"] and "2839108f" in result["sbom_reason"]


def test_binary_documents_that_disagree_about_a_file_make_it_unverifiable_naming_both():
    index = SbomIndex.from_documents([link_doc("build-a.link", sha("foo-1")), link_doc("build-b.link", sha("foo-2"))])
    for version in ("foo-1", "foo-2"):
        result = index.check({"event_type": "library_load", "subject_digest": "sha256:" + BIN,
                              "library_path": LIB, "library_digest": "sha256:" + sha(version)})
        assert (result["sbom_status"], result["sbom_match"]) == ("unverifiable", "digest")
        assert "build-a.link" in result["sbom_reason"] and "build-b.link" in result["sbom_reason"]
    # a file both do not contradict is still decided
    other = {"event_type": "library_load", "subject_digest": "sha256:" + BIN, "library_path": "/usr/bin/app",
             "library_digest": "sha256:" + BIN}
    assert index.check(other)["sbom_status"] == "listed"
    stranger = dict(other, library_path="/tmp/x.so", library_digest="sha256:" + sha("x"))
    assert index.check(stranger)["sbom_status"] == "unlisted"


def test_a_verified_binary_document_outranks_a_channel_one():
    index = SbomIndex.from_documents([link_doc("signed.link", sha("foo-1"), "verified", "key:ci"),
                                      link_doc("unsigned.link", sha("foo-2"))])
    event = {"event_type": "library_load", "subject_digest": "sha256:" + BIN, "library_path": LIB,
             "library_digest": "sha256:" + sha("foo-2")}
    assert index.check(event)["sbom_status"] == "unlisted"
    assert index.check(dict(event, library_digest="sha256:" + sha("foo-1")))["sbom_trust"] == "verified"


@pytest.mark.parametrize("fake_trust, index_trust", [("untrusted", "channel"), ("channel", "verified")])
def test_a_made_up_platform_from_an_extra_index_document_is_not_counted(tmp_path, fake_trust, index_trust):
    files = index_files()
    files["fake-sha256-%s.json" % INDEX] = oci_index([(AMD64, "amd64"), (FAKE, "riscv64")])
    trust = dict.fromkeys(files, "verified")
    trust["sha256-%s.json" % INDEX] = index_trust
    trust["fake-sha256-%s.json" % INDEX] = fake_trust
    index = index_of(tmp_path, files, trust)
    assert index.check(index_load())["sbom_status"] == "unlisted"


def test_the_node_platform_picks_that_platforms_sbom(tmp_path):
    files = index_files()
    files["fake-sha256-%s.json" % INDEX] = oci_index([(FAKE, "riscv64")])
    index = index_of(tmp_path, files, dict.fromkeys(files, "channel"))
    # every platform (and the made-up one, without an SBOM): cannot decide
    assert index.check(index_load())["sbom_status"] == "unverifiable"
    # the node runs arm64: arm64's SBOM decides
    assert index.check(index_load(claw_node_platform="linux/arm64"))["sbom_status"] == "unlisted"
    amd64_lib = index_load(library_digest="sha256:" + sha("z-amd64"))
    assert index.check(amd64_lib)["sbom_status"] == "listed"
    assert index.check(dict(amd64_lib, claw_node_platform="linux/arm64"))["sbom_status"] == "unlisted"
    assert index.check(dict(amd64_lib, claw_node_platform="linux/amd64"))["sbom_status"] == "listed"


@pytest.mark.parametrize("name, text", [("evil.intoto.json", trojan_statement()), ("evil.spdx.json", trojan_spdx())])
@pytest.mark.parametrize("victim_trust, evil_trust", [("channel", "untrusted"), ("verified", "channel")])
def test_other_formats_claiming_the_image_digest_cannot_vouch_either(tmp_path, name, text, victim_trust, evil_trust):
    index = index_of(tmp_path, {"image.cdx.xml": victim(), name: text}, {"image.cdx.xml": victim_trust,
                                                                          name: evil_trust})
    result = index.check(swapped_load())
    assert (result["sbom_status"], result["sbom_trust"]) == ("unlisted", victim_trust)
    both = index_of(tmp_path, {"image.cdx.xml": victim(), name: text}, {"image.cdx.xml": "channel", name: "channel"})
    assert both.check(swapped_load())["sbom_status"] == "unverifiable"  # equal trust, they disagree: not listed
