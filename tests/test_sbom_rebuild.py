"""The rebuild search keeps documents past its time range: tables that do not age out.

``| clawsbomindex merge=true`` (the saved search "Claw - Rebuild SBOM Library
Index") runs as a subprocess speaking SCP v2; between runs the test writes its
rows into the app's lookups/ as ``outputlookup`` would (``override_if_empty=false``:
no rows, no write, per
https://docs.splunk.com/Documentation/Splunk/latest/SearchReference/Outputlookup).
"""
import csv
import json
import os

from benchmarks.sbom_app import make_app
from claw_ta import conffile
from claw_ta_tools.emulators import scp_driver
from claw_ta.sbom.index import LIBRARY_COLUMNS, SUBJECT_COLUMNS
from tests.paths import APP


def sha(n):
    return "%064x" % n


def cdx(serial, subject, libraries):
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "serialNumber": serial,
                       "metadata": {"component": {"type": "container", "name": "img",
                                                  "hashes": [{"alg": "SHA-256", "content": subject}]}},
                       "components": [{"type": "file", "name": path, "hashes": [{"alg": "SHA-256",
                                                                                  "content": digest}]}
                                      for path, digest in libraries]})


A = cdx("urn:uuid:a", sha(1), [("/usr/lib/liba.so", sha(11))])
A2 = cdx("urn:uuid:a", sha(1), [("/usr/lib/liba.so", sha(12))])  # a newer version of the same document
B = cdx("urn:uuid:b", sha(2), [("/usr/lib/libb.so", sha(21))])
C = cdx("urn:uuid:c", sha(3), [("/usr/lib/libc.so", sha(31))])


def event(text, source, index="claw_sbom"):
    """An SBOM event; from the declared SBOM index (claw_sbom) its documents are channel documents."""
    return {"_raw": text, "source": source, "sourcetype": "claw:sbom", "index": index}


class Site(object):
    """An app whose lookups/ the rebuild writes, as outputlookup does."""

    def __init__(self, tmp_path, python):
        self.scripts = make_app(tmp_path)
        self.python = python
        self.lookups = os.path.join(str(tmp_path), "app", "lookups")
        self.writes = 0

    def rebuild(self, docs, args=("merge=true",), index="claw_sbom"):
        result = scp_driver.run(self.scripts["clawsbomindex"], list(args), [[event(d, "s%d" % i, index)
                                                                           for i, d in enumerate(docs)], []],
                                python=self.python)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
        for table, name, columns in (("subjects", "claw_sbom_subjects.csv", SUBJECT_COLUMNS),
                                     ("libraries", "claw_sbom_libraries.csv", LIBRARY_COLUMNS)):
            rows = [r for r in result.records if r.get("claw_table") == table]
            if rows:  # override_if_empty=false
                with open(os.path.join(self.lookups, name), "w", encoding="utf-8", newline="") as handle:
                    writer = csv.writer(handle, lineterminator="\n")
                    writer.writerow(columns)
                    writer.writerows([[r.get(c, "") for c in columns] for r in rows])
                self.writes += 1
        return result

    def documents(self):
        with open(os.path.join(self.lookups, "claw_sbom_subjects.csv"), encoding="utf-8") as handle:
            # (its name, subject, list): sbom_ref is the content digest; the name is the serial number
            return sorted((r["sbom_name"], r["subject_digest"], r["sbom_id"]) for r in csv.DictReader(handle))

    def trust(self):
        with open(os.path.join(self.lookups, "claw_sbom_subjects.csv"), encoding="utf-8") as handle:
            return sorted((r["sbom_name"], r["sbom_trust"]) for r in csv.DictReader(handle))

    def libraries(self):
        with open(os.path.join(self.lookups, "claw_sbom_libraries.csv"), encoding="utf-8") as handle:
            return sorted(r["library_digest"] for r in csv.DictReader(handle))


def test_documents_stay_until_superseded_or_removed(tmp_path, splunk_python):
    site = Site(tmp_path, splunk_python)
    site.rebuild([A, B])
    assert [d[0] for d in site.documents()] == ["urn:uuid:a", "urn:uuid:b"]
    # a later run sees only C (A and B are past the search's time range): A and B stay
    site.rebuild([C])
    assert [d[0] for d in site.documents()] == ["urn:uuid:a", "urn:uuid:b", "urn:uuid:c"]
    assert site.libraries() == ["sha256:" + sha(n) for n in (11, 21, 31)]
    # a newer version of A replaces A's rows (its old library list goes with them)
    site.rebuild([A2, C])
    assert site.libraries() == ["sha256:" + sha(n) for n in (12, 21, 31)]
    # the site removes B (by document) and C's subject: gone, also when they arrive again
    with open(os.path.join(site.lookups, "claw_sbom_removed.csv"), "w") as handle:
        handle.write("sbom_ref,subject_digest,reason\nurn:uuid:b,,retired\n,sha256:%s,image deleted\n" % sha(3))
    result = site.rebuild([B])
    assert [d[0] for d in site.documents()] == ["urn:uuid:a"]
    assert site.libraries() == ["sha256:" + sha(12)]
    assert any("removed by the site" in text for _, text in result.messages)
    writes = site.writes
    assert site.rebuild([B, C]).records == [] and site.writes == writes  # removed ones arriving: no change


def test_a_less_trusted_copy_never_supersedes(tmp_path, splunk_python):
    """A document posted to another index (untrusted) under the name of a channel document, about the
    same subject, with other libraries: the channel document's rows and list stay; the copy is kept
    beside it as untrusted (reported, never deciding). From the declared index it supersedes."""
    site = Site(tmp_path, splunk_python)
    site.rebuild([A, B])
    site.rebuild([A2], index="main")
    assert site.trust() == [("urn:uuid:a", "channel"), ("urn:uuid:a", "untrusted"), ("urn:uuid:b", "channel")]
    assert "sha256:" + sha(11) in site.libraries()
    site.rebuild([A2])  # the same document from the declared SBOM index: supersedes both
    assert site.trust() == [("urn:uuid:a", "channel"), ("urn:uuid:b", "channel")]
    assert site.libraries() == ["sha256:" + sha(n) for n in (12, 21)]


def test_unrelated_documents_sharing_a_name_both_stay(tmp_path, splunk_python):
    """Two SBOMs named alike (no serial number: the file name) about different images are two documents."""
    site = Site(tmp_path, splunk_python)
    first = cdx("", sha(1), [("/usr/lib/liba.so", sha(11))])
    other = cdx("", sha(2), [("/usr/lib/libb.so", sha(21))])
    site.rebuild([first])
    result = scp_driver.run(site.scripts["clawsbomindex"], ["merge=true"], [[event(other, "s0")], []],
                            python=site.python)  # the same source name, s0
    assert result.returncode == 0
    subjects = sorted(r["subject_digest"] for r in result.records if r.get("claw_table") == "subjects")
    assert subjects == ["sha256:" + sha(1), "sha256:" + sha(2)]


def test_nothing_new_rewrites_nothing(tmp_path, splunk_python):
    site = Site(tmp_path, splunk_python)
    site.rebuild([A, B])
    writes = site.writes
    for docs in ([A, B], [A], []):  # the same documents again, or none: no rows, no rewrite
        result = site.rebuild(docs)
        assert result.records == [] and site.writes == writes
        assert any("tables unchanged" in text for _, text in result.messages), result.messages
    site.rebuild([C])
    assert site.writes == writes + 2  # both tables, once


def test_without_merge_the_tables_are_this_search_only(tmp_path, splunk_python):
    site = Site(tmp_path, splunk_python)
    site.rebuild([A, B])
    site.rebuild([C], args=())
    assert [d[0] for d in site.documents()] == ["urn:uuid:c"]


def test_the_saved_search_merges_over_a_short_range():
    stanza = conffile.parse(os.path.join(APP, "default", "savedsearches.conf"))["Claw - Rebuild SBOM Library Index"]
    assert "clawsbomindex merge=true" in stanza["search"]
    assert stanza["dispatch.earliest_time"] == "-25h@h"
    assert "override_if_empty=false claw_sbom_subjects.csv" in stanza["search"]
    assert "override_if_empty=false claw_sbom_libraries.csv" in stanza["search"]
