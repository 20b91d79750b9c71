"""SBOM documents (claw:sbom) are bounded to what the search pipeline and the parsers accept.

Splunk documentation relied on:
- props.conf spec, TRUNCATE (bytes per event):
  https://docs.splunk.com/Documentation/Splunk/latest/Admin/propsconf
- limits.conf spec, ``[search] max_rawsize_perchunk`` ("The maximum raw size,
  in bytes, of results for each call to search", default 100000000):
  https://help.splunk.com/en/data-management/splunk-enterprise-admin-manual/9.4/configuration-file-reference/9.4.0-configuration-file-reference/limits.conf
A 100 MiB event (104857600 bytes, the former TRUNCATE) is larger than one
whole chunk of search results: the rebuild search would fail on it instead of
skipping it. Half of that chunk size leaves room for the events around it.
"""
import json

from claw_ta.sbom.index import Tables
from claw_ta.sbom.model import MAX_BYTES
from claw_ta_tools.emulators import props_emulator as pe

MAX_RAWSIZE_PERCHUNK = 100000000  # limits.conf default


def test_sbom_events_fit_a_search_chunk_and_the_parser_limit():
    truncate = int(pe.PROPS["claw:sbom"]["TRUNCATE"])
    assert 10 * 2 ** 20 <= truncate <= MAX_RAWSIZE_PERCHUNK // 2
    assert truncate <= MAX_BYTES


def test_a_document_cut_at_truncate_is_named_and_skipped_and_the_others_are_indexed():
    stanza = dict(pe.PROPS["claw:sbom"], TRUNCATE="4096")  # the same rule, at a size a test can afford
    good = json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "serialNumber": "urn:uuid:1",
                       "metadata": {"component": {"type": "container", "name": "shop/web",
                                                  "version": "sha256:" + "a" * 64}},
                       "components": [{"type": "library", "name": "zlib", "version": "1.3",
                                       "purl": "pkg:deb/debian/zlib1g@1.3"}]})
    big = json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5",
                      "components": [{"type": "library", "name": "x%05d" % i} for i in range(400)]})
    (cut,) = pe.break_lines(stanza, big)
    assert len(cut.encode("utf-8")) == 4096
    tables = Tables()
    problems = tables.add_text(cut, "big.cdx.json")
    assert problems and problems[0][0] == "big.cdx.json"
    assert tables.add_text(good, "good.cdx.json") == []
    assert tables.subject_rows()
