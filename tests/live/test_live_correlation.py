"""The correlation searches in a real Splunk: what the offline emulators assume about the correlation searches.

Skipped unless a Splunk is configured (tests/live/conftest.py, docs/testing.md):
- `claw_normalize_image_ref(1)` gives what claw_ta.detections.imageref gives;
- `claw_risk_collect` passes its rows on and writes them to the risk summary with
  the result's firstTime as _time and the ;-joined risk objects;
- the workload risk rule's SPL finds an object with two detections in that summary;
- a subsearch field named ``search`` is used as search text, and ``format emptystr``
  replaces the NOT( ) of an empty subsearch.
It writes a few stash events (source claw:risk, run-unique detection ids) to the
summary index.
"""
import time
import uuid

import pytest

from claw_ta.detections import imageref
from claw_ta_tools.detections import correlation

REFS = ["registry.example.com:443/shop/cart:2.0", "REGISTRY.Example.com/shop/cart:1", "nginx", "NGINX:1.27",
        "index.docker.io/library/nginx", "localhost:5000/a/b:c", "Foo/bar", "registry.example.com:5000/x"]


def _quote(value):
    return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')


def test_normalize_image_ref_macro_matches_the_replay(live_splunk):
    rows = live_splunk.search('| makeresults | eval image_ref=split(%s, " ") | mvexpand image_ref '
                              '| eval image_repo=`claw_normalize_image_ref(image_ref)` | table image_ref image_repo'
                              % _quote(" ".join(REFS)))
    got = dict((r["image_ref"], r["image_repo"]) for r in rows)
    assert got == dict((r, imageref.repository(r)) for r in REFS)


def _wait(live, spl, want, timeout=120):
    deadline = time.time() + timeout
    rows = []
    while time.time() < deadline:
        rows = live.search(spl)
        if len(rows) >= want:
            return rows
        time.sleep(5)
    return rows


def test_risk_summary_round_trip_and_workload_rule(live_splunk):
    run = uuid.uuid4().hex[:10]
    pod, node = "pod-live-%s" % run, "node-live-%s" % run
    first = int(time.time()) - 600
    made = ('| makeresults | eval detection_id="claw_live_%s_%%s", pod="%s", host="%s", '
            'risk_object=mvappend(pod, host), risk_object_type="system", risk_score=%%d, firstTime=%d, '
            'lastTime=%d, claw_alert=%%d | `claw_risk_collect`' % (run, pod, node, first, first + 60))
    passed = live_splunk.search(made % ("a", 10, 1) + " | where claw_alert=1 | table detection_id")
    assert [r["detection_id"] for r in passed] == ["claw_live_%s_a" % run]  # rows pass on
    live_splunk.search(made % ("b", 20, 0))  # risk only (non-production): still collected
    summary = '`claw_risk_summary_index` source="%s" detection_id="claw_live_%s_*"' % (correlation.SOURCE, run)
    rows = _wait(live_splunk, "search %s | table _time detection_id claw_risk_objects claw_entities" % summary, 2)
    assert sorted(r["detection_id"] for r in rows) == ["claw_live_%s_a" % run, "claw_live_%s_b" % run]
    for row in rows:
        assert int(float(row["_time"])) == first
        assert row["claw_risk_objects"] == "%s;%s" % (pod, node)
    rule = correlation.risk_spl(" ").replace('source="%s"' % correlation.SOURCE,
                                              'source="%s" detection_id="claw_live_%s_*"' % (correlation.SOURCE, run))
    found = live_splunk.search("search " + rule + " | table risk_object detection_count")
    assert sorted((r["risk_object"], r["detection_count"]) for r in found) == [(node, "2"), (pod, "2")]


@pytest.mark.parametrize("subsearch_rows, kept", [(1, 1), (0, 0)])
def test_search_field_subsearch_and_emptystr(live_splunk, subsearch_rows, kept):
    inner = ('| makeresults count=%d | eval search="(claw_entity=\\"pod-a\\" net_first_seen>=5)" | fields search '
             '| format emptystr="claw_entity=%s"' % (max(subsearch_rows, 1), correlation.NO_ENTITY))
    if not subsearch_rows:
        inner = inner.replace("| fields search", "| where 1=2 | fields search")
    rows = live_splunk.search('| makeresults | eval claw_entity="pod-a", net_first_seen=10 | search [%s]' % inner)
    assert len(rows) == kept
