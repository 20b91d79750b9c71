"""Documents cannot vouch for each other (docs/sbom.md, "Trust and precedence").

Every attack is an extra document an attacker gets into the SBOM index: as an
``untrusted`` document it never decides; as a ``channel`` document (an
unsigned document from a declared source) it cannot widen the list of a
``verified`` document of the event's image. The bundled swapped-libssl
scenario keeps its alert with the attacker's document beside it.
"""
import hashlib
import json
import os
import shutil

import pytest

from claw_ta.sbom.index import Tables, build_tables
from claw_ta.sbom.matcher import SbomIndex
from claw_ta.sbom.model import Entry, SbomDocument
from tests.replay_support import alerts_of, ev, make_scenario

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SWAPPED = os.path.join(ROOT, "scenarios", "attack-unlisted-library-swapped-libssl")
VICTIM_XML = os.path.join(SWAPPED, "sboms", "shop-web-5.12.0.cdx.xml")
# The bundled scenario's image, its nginx binary, the trojan libssl its events load.
IMAGE = "643a3454798ef76fdccfd296176a96e64a163d00a6cd2d8ce8c5747ead932333"
NGINX = "4088d47e8537a5f005b7fb4ed8a98238a5506295a1dc78c4dcc7c47e93115182"
TROJAN = "6be2289aa2c90076936f962c452dddfddf2f8aa96a749ca4ff13b6a867d74b3a"
SSL = "/usr/lib/x86_64-linux-gnu/libssl.so.3"


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def trojan_link():
    """An in-toto link from "another build" whose products are the victim's nginx and a trojan libssl."""
    return json.dumps({"signed": {"_type": "link", "name": "build", "materials": {},
                                  "products": {"usr/sbin/nginx": {"sha256": NGINX},
                                               SSL.lstrip("/"): {"sha256": TROJAN}},
                                  "byproducts": {}, "command": [], "environment": {}},
                       "signatures": []})


def trojan_cdx(how):
    """A CycloneDX document that claims the victim's image digest and lists the trojan libssl."""
    component = {"type": "container", "name": "registry.example.com/shop/web"}
    if how == "hash":
        component["hashes"] = [{"alg": "SHA-256", "content": IMAGE}]
    else:
        component["version"] = "sha256:" + IMAGE
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "metadata": {"component": component},
                       "components": [{"type": "file", "name": SSL,
                                       "hashes": [{"alg": "SHA-256", "content": TROJAN}]}]})


def swapped_load(**extra):
    event = {"event_type": "library_load", "subject_digest": "sha256:" + NGINX,
             "image_digest": "sha256:" + IMAGE, "library_path": SSL, "library_digest": "sha256:" + TROJAN}
    event.update(extra)
    return event


def index_of(tmp_path, files, trust):
    """SbomIndex of ``files`` ({name: text}), each document assessed as ``trust[name]``."""
    folder = tmp_path / "sboms"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)

    def assess(path, raw, doc):
        level = trust[os.path.basename(path)]
        return level, ("key:ci" if level == "verified" else ""), "test: " + level

    tables, errors = build_tables([str(folder)], assess=assess)
    assert not errors
    return SbomIndex.from_tables(tables)


def victim():
    with open(VICTIM_XML) as handle:
        return handle.read()


def unlisted_alerts(path):
    return [a for a in alerts_of(path) if a["detection_id"] == "claw_unlisted_library_load"
            and a.get("library_path") == SSL]


# --- the bundled scenario, with the attacker's document beside the image's SBOM -------------

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


# --- a document claiming the victim's image digest ---------------------------------------------

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


# --- documents naming the binary only -----------------------------------------------------------

BIN = sha("bin")
LIB = "/usr/lib/libfoo.so.1"


def link_doc(name, lib_digest, trust="channel", signer=""):
    doc = SbomDocument("in-toto-link", name, [BIN], [Entry("/usr/bin/app", BIN), Entry(LIB, lib_digest)],
                       subject_kinds={BIN: "file"})
    doc.trust, doc.signer = trust, signer
    return doc


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


# --- image index: children from trusted documents, the node's platform ------------------------

INDEX, AMD64, ARM64, FAKE = sha("index"), sha("amd64"), sha("arm64"), sha("made-up")


def oci_index(children):
    return json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                       "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                      "digest": "sha256:" + digest, "size": 1,
                                      "platform": {"os": "linux", "architecture": arch}}
                                     for digest, arch in children]})


def platform_sbom(digest, lib_digest):
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5",
                       "metadata": {"component": {"type": "container", "name": "r/app",
                                                  "hashes": [{"alg": "SHA-256", "content": digest}]}},
                       "components": [{"type": "file", "name": "/usr/lib/libz.so.1",
                                       "hashes": [{"alg": "SHA-256", "content": lib_digest}]}]})


def index_files():
    return {"sha256-%s.json" % INDEX: oci_index([(AMD64, "amd64"), (ARM64, "arm64")]),
            "amd64.cdx.json": platform_sbom(AMD64, sha("z-amd64")),
            "arm64.cdx.json": platform_sbom(ARM64, sha("z-arm64"))}


def index_load(**extra):
    event = {"event_type": "library_load", "image_digest": "sha256:" + INDEX, "library_path": "/usr/lib/libz.so.1",
             "library_digest": "sha256:" + sha("evil")}
    event.update(extra)
    return event


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


# --- document identity: the content digest ------------------------------------------------------

def test_two_unrelated_sboms_sharing_a_file_name_do_not_hide_a_digest_mismatch(tmp_path):
    expected, observed = "sha256:" + sha("expected"), "sha256:" + sha("observed")
    events = [ev("12:01:00", "manifest_digest_mismatch", expected_digest=expected, observed_digest=observed,
                 image_ref="r/a:1", k8s_namespace="shop")]
    path = make_scenario(tmp_path, "s", events)
    for folder, digest in (("team-a", expected), ("team-b", observed)):
        os.makedirs(os.path.join(path, "sboms", folder))
        with open(os.path.join(path, "sboms", folder, "sbom.cdx.json"), "w") as handle:
            handle.write(platform_sbom(digest[7:], sha(folder)))
    assert [a["observed_digest"] for a in alerts_of(path)] == [observed]


def test_an_untrusted_document_naming_both_digests_does_not_hide_a_mismatch(tmp_path):
    expected, observed = "sha256:" + sha("expected"), "sha256:" + sha("observed")
    events = [ev("12:01:00", "manifest_digest_mismatch", expected_digest=expected, observed_digest=observed,
                 image_ref="r/a:1", k8s_namespace="shop")]
    doc = SbomDocument("in-toto-statement", "both.intoto.json", [expected[7:], observed[7:]],
                       [Entry("/usr/lib/libc.so.6", sha("c"))])
    doc.trust, doc.trust_reason = "untrusted", "not from the declared SBOM index"
    tables = Tables()
    tables.add(doc)
    header = "subject_digest,subject_kind,evidence,sbom_id,sbom_ref,sbom_format,platform_digests," \
             "sbom_name,sbom_trust,sbom_signer,sbom_trust_reason,platform_names\n"
    path = make_scenario(tmp_path, "s", events, lookups={
        "claw_sbom_subjects.csv": header + "".join(tables.subjects)})
    assert [a["observed_digest"] for a in alerts_of(path)] == [observed]
    doc.trust = "channel"
    tables = Tables()
    tables.add(doc)
    path = make_scenario(tmp_path, "t", events, lookups={
        "claw_sbom_subjects.csv": header + "".join(tables.subjects)})
    assert alerts_of(path) == []


def test_sbom_ref_is_the_content_digest_and_the_name_stays_for_humans(tmp_path):
    text = platform_sbom(AMD64, sha("z"))
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "sbom.cdx.json").write_text(text)
    tables, errors = build_tables([str(tmp_path / "a")])
    [row] = list(tables.subject_rows())
    assert row["sbom_ref"] == "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    assert (row["sbom_name"], row["sbom_trust"], row["sbom_signer"]) == ("sbom.cdx.json", "channel", "")
    assert row["sbom_trust_reason"]


def test_documents_of_one_jsonl_text_get_distinct_identities(tmp_path):
    line = {"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": "a", "digest": {"sha256": AMD64}}],
            "predicateType": "https://cyclonedx.org/bom", "predicate": json.loads(platform_sbom(AMD64, sha("z")))}
    other = dict(line, subject=[{"name": "b", "digest": {"sha256": ARM64}}])
    (tmp_path / "x.intoto.jsonl").write_text(json.dumps(line) + "\n" + json.dumps(other) + "\n")
    tables, errors = build_tables([str(tmp_path / "x.intoto.jsonl")])
    refs = set(r["sbom_ref"] for r in tables.subject_rows())
    assert len(refs) == 2 and not errors


def test_an_assessor_that_fails_makes_the_document_untrusted_and_loses_nothing(tmp_path):
    (tmp_path / "a.cdx.json").write_text(platform_sbom(AMD64, sha("z")))
    (tmp_path / "b.cdx.json").write_text(platform_sbom(ARM64, sha("z")))

    def assess(path, raw, doc):
        if path.endswith("a.cdx.json"):
            raise ValueError("boom")
        return "no-such-level", "", ""

    tables, errors = build_tables([str(tmp_path)], assess=assess)
    rows = sorted(tables.subject_rows(), key=lambda r: r["sbom_name"])
    assert [(r["sbom_name"], r["sbom_trust"]) for r in rows] == [("a.cdx.json", "untrusted"),
                                                                  ("b.cdx.json", "untrusted")]
    assert "boom" in rows[0]["sbom_trust_reason"] and "no-such-level" in rows[1]["sbom_trust_reason"]


# --- the coverage search shows who vouched, what was ignored, what disagrees ------------------

def test_coverage_search_reports_trust_ignored_and_conflicting_documents():
    from claw_ta_tools.emulators import app_content
    saved = app_content.AppContent().savedsearches["Claw - SBOM Coverage by Image"]["search"]
    for field in ("evidence_trust", "ignored_documents", "in_conflict", "conflicts", "sbom_trust_reason"):
        assert field in saved
    # the texts the search matches are the ones the matcher and the tables write
    index = SbomIndex.from_documents([link_doc("build-a.link", sha("foo-1")), link_doc("build-b.link", sha("foo-2"))])
    reason = index.check({"event_type": "library_load", "subject_digest": "sha256:" + BIN, "library_path": LIB,
                          "library_digest": "sha256:" + sha("foo-1")})["sbom_reason"]
    assert reason.startswith("documents disagree") and 'match(sbom_reason, "^documents disagree")' in saved
    assert 'match(claw_docs, "^untrusted ")' in saved and "mvzip(claw_image_trust, claw_image_doc, \" \")" in saved


def test_rebuild_search_trusts_only_the_declared_index_and_writes_every_column():
    from claw_ta.sbom.schema import SUBJECT_COLUMNS
    from claw_ta_tools.emulators import app_content
    content = app_content.AppContent()
    saved = content.savedsearches["Claw - Rebuild SBOM Library Index"]["search"]
    assert "| clawsbomindex merge=true channel_index=`claw_sbom_index` require_signatures=`claw_require_signatures`" \
        in saved
    assert "| table " + " ".join(SUBJECT_COLUMNS) + " " in saved
    from claw_ta import conffile as conf
    macros = conf.app_conf("macros")
    assert macros["claw_sbom_index"]["definition"].strip() == "claw_sbom"
    assert macros["claw_require_signatures"]["definition"].strip() == "false"
    assert "index=`claw_sbom_index`" in macros["claw_runtime_sbom_index"]["definition"]


def test_a_table_written_before_trust_levels_is_read_as_channel(tmp_path):
    """Seven columns (no sbom_name, sbom_trust, ...): read in place and read whole alike."""
    from claw_ta.sbom.index import Tables
    doc = SbomDocument("cyclonedx", "old.cdx.json", [AMD64], [Entry("/usr/lib/libz.so.1", sha("z"))])
    tables = Tables()
    tables.add(doc)
    row = next(tables.subject_rows())
    legacy = "subject_digest,subject_kind,evidence,sbom_id,sbom_ref,sbom_format,platform_digests\n" + \
        ",".join(row[c] for c in ("subject_digest", "subject_kind", "evidence", "sbom_id")) + \
        ",old.cdx.json,cyclonedx,\n"
    (tmp_path / "s.csv").write_text(legacy)
    tables.write(str(tmp_path / "unused.csv"), str(tmp_path / "l.csv"))
    event = {"event_type": "library_load", "image_digest": "sha256:" + AMD64, "library_path": "/usr/lib/libz.so.1",
             "library_digest": "sha256:" + sha("z")}
    index = SbomIndex.load(str(tmp_path / "s.csv"), str(tmp_path / "l.csv"))
    result = index.check(event)
    assert (result["sbom_status"], result["sbom_trust"], result["sbom_name"]) == ("listed", "channel", "old.cdx.json")
    assert index.rejected == 0
    assert index.check(dict(event, library_digest="sha256:" + sha("evil")))["sbom_status"] == "unlisted"


def test_the_command_reads_the_node_platform_column_on_both_record_paths(tmp_path):
    """clawsbomcheck's record loop (claw_ta.sbom.stream): with a claw_node_platform column, the
    fast path (one value per field) and the general path (a multivalue field) decide as check()."""
    import csv
    import io
    from claw_ta.sbom.stream import Annotator
    files = index_files()
    files["fake-sha256-%s.json" % INDEX] = oci_index([(FAKE, "riscv64")])
    index = index_of(tmp_path, files, dict.fromkeys(files, "channel"))
    header = "event_type,image_digest,library_path,library_digest,claw_node_platform,__mv_library_path\r\n"
    rows, expected = [], []
    for platform in ("", "linux/arm64", "linux/amd64", "arm64", "LINUX/ARM64 ", "windows/amd64", "../x"):
        for lib in ("z-amd64", "z-arm64", "evil"):
            event = index_load(library_digest="sha256:" + sha(lib), claw_node_platform=platform)
            for mv in ("", "$/usr/lib/libz.so.1$"):
                rows.append("library_load,sha256:%s,/usr/lib/libz.so.1,sha256:%s,%s,%s\r\n"
                            % (INDEX, sha(lib), platform, mv))
                expected.append(index.check(event)["sbom_status"])
    out = io.StringIO()
    Annotator(index.check_values, decide=index.decide).text(header + "".join(rows), out)
    got = [r["sbom_status"] for r in csv.DictReader(io.StringIO(out.getvalue()))]
    assert got == expected
    assert expected[:6] == ["listed"] * 4 + ["unverifiable"] * 2  # no platform: every platform's SBOM
    assert expected[6:12] == ["unlisted", "unlisted", "listed", "listed", "unlisted", "unlisted"]  # arm64


def test_one_document_posted_to_the_sbom_index_and_elsewhere_counts_once_and_is_not_ignored():
    doc = SbomDocument("cyclonedx", "image.cdx.json", [AMD64], [Entry("/usr/lib/libz.so.1", sha("z"))])
    copy = SbomDocument("cyclonedx", "image.cdx.json", [AMD64], [Entry("/usr/lib/libz.so.1", sha("z"))])
    copy.trust, copy.trust_reason = "untrusted", "not from the declared SBOM source (index=main)"
    index = SbomIndex.from_documents([doc, copy])
    result = index.check({"event_type": "library_load", "image_digest": "sha256:" + AMD64,
                          "library_path": "/usr/lib/libz.so.1", "library_digest": "sha256:" + sha("z")})
    assert (result["sbom_status"], result["sbom_trust"]) == ("listed", "channel")
    assert "untrusted" not in result["sbom_reason"]


def test_apko_and_ko_index_sboms_give_each_platform_manifest_its_platform(shared_dir):
    """Real index SBOMs (../shared/sboms/real): each VARIANT_OF package's purl says arch and os."""
    from claw_ta.sbom.parse import parse_text, read_file
    for rel in ("chainguard-apko/apko-golden/sbom-index.spdx.json", "ko/guac/go-spdx-multi-arch_3.json"):
        [doc] = parse_text(read_file(os.path.join(shared_dir, "sboms", "real", rel)), rel)
        assert sorted(doc.child_platforms.values()) == ["linux/amd64", "linux/arm64"], rel
        assert set(doc.child_platforms) == set(doc.children)


@pytest.mark.parametrize("purl, platform", [
    ("pkg:oci/x@sha256:%s?arch=arm64&mediaType=m&os=linux" % ("a" * 64), "linux/arm64"),
    ("pkg:oci/x@sha256:%s?arch=arm&variant=v7" % ("a" * 64), "linux/arm/v7"),
    ("pkg:oci/x@sha256:%s?mediaType=m" % ("a" * 64), ""),
    ("pkg:oci/x@sha256:%s?arch=../../x" % ("a" * 64), ""),
    ("pkg:oci/x@sha256:%s?arch=amd64 evil" % ("a" * 64), "")])
def test_purl_platform(purl, platform):
    from claw_ta.sbom.subjects import purl_platform
    assert purl_platform(purl) == platform


def test_an_index_copied_under_another_digests_name_is_another_document(tmp_path):
    """An OCI image index takes its subject from its file name: a byte-identical copy named for the
    attacker's digest must not share the original's identity (the mismatch suppression)."""
    expected, observed = "sha256:" + INDEX, "sha256:" + sha("attacker")
    text = oci_index([(AMD64, "amd64"), (ARM64, "arm64")])
    events = [ev("12:01:00", "manifest_digest_mismatch", expected_digest=expected, observed_digest=observed,
                 image_ref="r/a:1", k8s_namespace="shop")]
    path = make_scenario(tmp_path, "s", events, sboms={"sha256-%s.json" % INDEX: text,
                                                       "sha256-%s.json" % observed[7:]: text})
    assert [a["observed_digest"] for a in alerts_of(path)] == [observed]
    tables, _ = build_tables([os.path.join(path, "sboms")])
    refs = set(r["sbom_ref"] for r in tables.subject_rows())
    assert len(refs) == 2


def trojan_statement():
    """An in-toto statement (cosign attest by someone else) whose subject is the victim's image digest."""
    return json.dumps({"_type": "https://in-toto.io/Statement/v1",
                       "subject": [{"name": "registry.example.com/shop/web", "digest": {"sha256": IMAGE}}],
                       "predicateType": "https://cyclonedx.org/bom", "predicate": json.loads(trojan_cdx("hash"))})


def trojan_spdx():
    """An SPDX 2.3 document describing the victim's image digest (a pkg:oci purl) with the trojan file."""
    return json.dumps({
        "spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "web",
        "documentNamespace": "https://example.com/evil", "documentDescribes": ["SPDXRef-image"],
        "packages": [{"SPDXID": "SPDXRef-image", "name": "web", "externalRefs": [
            {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
             "referenceLocator": "pkg:oci/web@sha256:%s" % IMAGE}]}],
        "files": [{"SPDXID": "SPDXRef-f", "fileName": SSL, "checksums": [{"algorithm": "SHA256",
                                                                         "checksumValue": TROJAN}]}]})


@pytest.mark.parametrize("name, text", [("evil.intoto.json", trojan_statement()), ("evil.spdx.json", trojan_spdx())])
@pytest.mark.parametrize("victim_trust, evil_trust", [("channel", "untrusted"), ("verified", "channel")])
def test_other_formats_claiming_the_image_digest_cannot_vouch_either(tmp_path, name, text, victim_trust, evil_trust):
    index = index_of(tmp_path, {"image.cdx.xml": victim(), name: text}, {"image.cdx.xml": victim_trust,
                                                                          name: evil_trust})
    result = index.check(swapped_load())
    assert (result["sbom_status"], result["sbom_trust"]) == ("unlisted", victim_trust)
    both = index_of(tmp_path, {"image.cdx.xml": victim(), name: text}, {"image.cdx.xml": "channel", name: "channel"})
    assert both.check(swapped_load())["sbom_status"] == "unverifiable"  # equal trust, they disagree: not listed


def test_an_absence_verdict_names_the_document_whose_file_list_decided():
    """A verified package-only image SBOM and a channel link that lists files: a file neither lists
    is unlisted by the link's file list, so the link (channel) is the evidence reported."""
    image = SbomDocument("spdx", "image.spdx.json", [IMAGE], [Entry(name="libssl3")])
    image.trust, image.signer = "verified", "key:ci"
    index = SbomIndex.from_documents([image, link_doc("build.link", sha("foo-1"))])
    result = index.check({"event_type": "library_load", "subject_digest": "sha256:" + BIN,
                          "image_digest": "sha256:" + IMAGE, "library_path": "/tmp/x.so",
                          "library_digest": "sha256:" + sha("x")})
    assert (result["sbom_status"], result["sbom_name"], result["sbom_trust"]) == ("unlisted", "build.link", "channel")


def test_the_overviews_coverage_rows_show_ignored_and_conflicting_documents(tmp_path):
    """The replay's rows for the coverage panel (claw_ta_tools.dashboards.rows): an untrusted document
    naming the image is listed with its reason, a disagreement among trusted ones is a conflict."""
    from claw_ta import APP_DIR
    from claw_ta_tools.dashboards import rows
    from tests.replay_support import lib
    evil = SbomDocument("cyclonedx", "evil.cdx.json", [IMAGE], [Entry(SSL, TROJAN)])
    evil.trust, evil.trust_reason = "untrusted", "not from the declared SBOM source (index=main)"
    tables = Tables()
    tables.add(evil)
    header = "subject_digest,subject_kind,evidence,sbom_id,sbom_ref,sbom_format,platform_digests," \
             "sbom_name,sbom_trust,sbom_signer,sbom_trust_reason,platform_names\n"
    events = [lib("12:05:00", SSL, subject_digest="sha256:" + NGINX, image_digest="sha256:" + IMAGE,
                  library_digest="sha256:" + TROJAN, image_ref="registry.example.com/shop/web:5.12.0")]
    path = make_scenario(tmp_path, "s", events, sboms={"image.cdx.xml": victim(), "another-build.link": trojan_link(),
                                                       "evil2.cdx.json": trojan_cdx("hash")},
                         lookups={"claw_sbom_subjects.csv": header + "".join(tables.subjects)})
    fields, found = rows.coverage(rows._World([path], APP_DIR))
    [row] = found
    assert row["evidence_trust"] == "channel" and row["in_conflict"] == 1
    assert "evil2.cdx.json" in row["conflicts"] and "2839108f" in row["conflicts"]
    assert row["ignored"] == 1 and row["ignored_documents"].startswith("untrusted evil.cdx.json: not from")
