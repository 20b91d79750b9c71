"""SBOM document identity and what the searches show of trust (docs/sbom.md, "Trust and precedence").

sbom_ref is a document's content digest, so no two documents collide and none claims another's
identity (the mismatch suppression uses it); the coverage and rebuild searches, the node platform
column and the tables written before trust levels.
"""
import hashlib
import json
import os

import pytest

from claw_ta.sbom.index import Tables, build_tables
from claw_ta.sbom.matcher import SbomIndex
from claw_ta.sbom.model import Entry, SbomDocument
from tests.replay_support import alerts_of, ev, make_scenario
from tests.support.sbom_trust_docs import (AMD64, ARM64, BIN, FAKE, IMAGE, INDEX, LIB, NGINX, SSL, TROJAN,
                                           index_files, index_load, index_of, link_doc, oci_index, platform_sbom,
                                           sha, trojan_cdx, trojan_link, victim)


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
    # the index the rebuild reads is the one it trusts (the two macros name the same index)
    assert "index=%s " % macros["claw_sbom_index"]["definition"].strip() in \
        macros["claw_runtime_sbom_index"]["definition"]


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
