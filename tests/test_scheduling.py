"""Scheduled searches that write or read the risk summary run continuously.

savedsearches.conf spec, ``realtime_schedule``: with the default (1) the
scheduler computes the next run from the current time and "might skip some
execution periods"; with 0 it runs every period in turn (continuous
scheduling), which the spec asks for with summary indexing:
https://help.splunk.com/en/data-management/splunk-enterprise-admin-manual/10.0/10.0.0-configuration-file-reference/savedsearches.conf
A skipped run of a detection is a window whose results never reach the risk
summary (``claw_risk_collect``) nor the alert; a skipped run of the two rules
that read the summary is a window of risk nobody looks at.

Search heads must forward the summary to the indexers, or only the search
head that ran the search sees it:
https://help.splunk.com/splunk-enterprise/administer/distributed-search/9.3/deploy-distributed-search/best-practice-forward-search-head-data-to-the-indexer-layer
(docs/detections.md says so; checked below).
"""
import os
import re

from claw_ta import conffile as conf
from tests import paths


def _expanded(search, macros, depth=0):
    """The search with the app's macros expanded (names only, arguments ignored)."""
    if depth > 5:
        return search

    def one(match):
        name = match.group(1)
        stanza = macros.get(name) or next((v for k, v in macros.items() if k.startswith(name + "(")), None)
        return _expanded(stanza["definition"], macros, depth + 1) if stanza else match.group(0)
    return re.sub(r"`([A-Za-z0-9_]+)(?:\([^`]*\))?`", one, search)


def _summary_searches():
    saved = conf.app_conf("savedsearches")
    macros = conf.app_conf("macros")
    summary = macros["claw_risk_summary_index"]["definition"]
    found = {}
    for name, stanza in saved.items():
        search = _expanded(stanza.get("search", ""), macros)
        if re.search(r"\|\s*collect\b", search) or summary in search:
            found[name] = stanza
    return found


def test_every_search_that_writes_or_reads_the_risk_summary_is_found():
    found = _summary_searches()
    writers = [n for n in found if n.endswith(" - Rule")]
    assert len(writers) >= 10  # the eight detections, the risk threshold and the network context rules
    assert "Claw - Workload Risk Threshold - Rule" in found


def test_summary_searches_are_scheduled_continuously():
    late = dict((name, stanza.get("realtime_schedule")) for name, stanza in _summary_searches().items()
                if stanza.get("enableSched") == "1" and stanza.get("realtime_schedule") != "0")
    assert late == {}


def test_the_docs_say_search_heads_forward_the_summary_to_the_indexers():
    with open(os.path.join(paths.REPO, "docs", "detections.md"), encoding="utf-8") as handle:
        text = handle.read()
    assert "realtime_schedule = 0" in text
    assert "best-practice-forward-search-head-data-to-the-indexer-layer" in text
    assert "outputs.conf" in text
