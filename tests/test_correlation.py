"""Correlation searches (docs/detections.md, "Risk" and "Network context"): the risk summary and the workload risk rule, the
network context rule, the subjects table of the manifest-mismatch suppression,
normalized image references, and event values in drill-down searches.
Each test fails on the design it replaces (see the comment of each)."""
import os
import re

import pytest

from claw_ta.detections import definitions as defs, imageref
from claw_ta_tools.detections import correlation, engine, generate
from claw_ta.detections.stages import DeniedThenAllowed, NotSameAttestation
from claw_ta_tools.dashboards import studio
from claw_ta_tools.emulators import app_content, search_rules, spl_eval, spl_lint
from tests import paths
from tests.replay_support import IMG, IMG2, ev, lib, make_scenario

CONTENT = app_content.AppContent()
SAVED = CONTENT.savedsearches


# --- Image references (claw_denied_then_allowed) ---------------------------------------

# (written by the attacker, what it must compare equal to); Docker's normalization:
# https://github.com/distribution/reference/blob/main/normalize.go (splitDockerDomain).
SAME_REPOSITORY = [
    ("registry.example.com:443/shop/cart:2.0", "registry.example.com/shop/cart"),
    ("registry.example.com:80/shop/cart", "registry.example.com/shop/cart"),
    ("REGISTRY.Example.com/shop/cart:1", "registry.example.com/shop/cart"),
    ("registry.example.com/Shop/Cart@sha256:" + "a" * 64, "registry.example.com/shop/cart"),
    ("nginx", "docker.io/library/nginx"),
    ("NGINX:1.27", "docker.io/library/nginx"),
    ("docker.io/nginx:latest", "docker.io/library/nginx"),
    ("index.docker.io/library/nginx", "docker.io/library/nginx"),
    ("registry-1.docker.io:443/library/nginx", "docker.io/library/nginx"),
    ("bitnami/redis:7", "docker.io/bitnami/redis"),
    ("localhost:5000/a/b:c", "localhost:5000/a/b"),
]
DIFFERENT = [
    ("registry.example.com:5000/shop/cart", "registry.example.com/shop/cart"),  # another port: another registry
    ("registry.example.com/shop/cart-v2", "registry.example.com/shop/cart"),
    ("evil.example.com/library/nginx", "docker.io/library/nginx"),
    ("Foo/bar", "docker.io/foo/bar"),  # upper case first component: a registry host (Docker's rule)
]


def _spl_normalize():
    """The shipped macro, expanded as Splunk does and evaluated by the SPL emulator."""
    expression = spl_lint.expand_macros("`claw_normalize_image_ref(image_ref)`", CONTENT.macros)
    assert "claw_normalize_image_ref" not in expression
    compiled = spl_eval.compile_expression(expression)
    return lambda ref: compiled({"image_ref": ref})


@pytest.mark.parametrize("written, canonical", SAME_REPOSITORY)
def test_attacker_spellings_normalize_to_one_repository_in_python_and_spl(written, canonical):
    spl = _spl_normalize()
    assert imageref.repository(written) == spl(written) == canonical == spl(canonical)


@pytest.mark.parametrize("a, b", DIFFERENT)
def test_other_repositories_stay_apart(a, b):
    spl = _spl_normalize()
    assert imageref.repository(a) == spl(a) != spl(b) == imageref.repository(b)


def _attest(ts, verdict, digest, ref):
    return ev(ts, "image_attestation", verdict=verdict, subject_digest=digest, image_digest=digest,
              image_ref=ref, k8s_namespace="shop-prod", slsa_level=3)


@pytest.mark.parametrize("denied, allowed", [
    ("registry.example.com/shop/cart:2.0", "registry.example.com:443/shop/cart:2.0"),
    ("docker.io/library/nginx:1.27", "nginx:1.27"),
    ("registry.example.com/shop/cart:2.0", "Registry.EXAMPLE.com/shop/cart:2.0"),
])
def test_denied_then_allowed_is_not_evaded_by_another_spelling(tmp_path, denied, allowed):
    """Before: repositories compared as strings (port, default registry and case kept): no alert."""
    events = [_attest("12:01:00", "Denied", IMG, denied), _attest("12:05:00", "Allowed", IMG2, allowed)]
    result = engine.replay(make_scenario(tmp_path, "s", events))
    assert [(a["detection_id"], a["image_digest"], a["denied_digest"]) for a in result.alerts] == [
        ("claw_denied_then_allowed", IMG2, IMG)]


def test_denied_then_allowed_spl_compares_normalized_repositories():
    spl = DeniedThenAllowed("claw_denied_then_allowed_minutes").spl(None)
    assert "eval image_repo=`claw_normalize_image_ref(image_ref)`" in spl
    assert "by namespace image_repo" in spl


# --- Risk summary and workload risk ----------------------------------------------------

def test_every_detection_collects_all_results_before_its_alert_gate():
    """Before: the risk rule re-ran every detection in append subsearches (cut at the
    subsearch limits without an error). Now each detection writes its results, every
    environment, to the summary index (collect passes the results on:
    https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/collect)."""
    collect = CONTENT.macros[("claw_risk_collect", 0)][0]
    assert re.search(r'\| collect `claw_risk_summary_index` source="claw:risk"$', collect)
    assert "sourcetype=" not in collect  # stash: summary events use no licence
    for d in defs.DETECTIONS:
        search = SAVED[d.search_name]["search"]
        assert search.index("`claw_risk_collect`") < search.index("| where claw_alert=1")
    risk = SAVED["Claw - Workload Risk Threshold - Rule"]["search"]
    segments = spl_lint.split_pipeline(CONTENT.expand(risk))
    assert not any(seg.subsearches for seg in spl_lint.walk(segments))
    assert segments[0].implicit and "index=summary" in segments[0].args


def _risk_events():
    events = [lib("12:01:00", "/dev/shm/x.so", namespace="dev-a", pod="dbg-1"),
              ev("12:02:00", "image_attestation", verdict="Allowed", subject_digest=IMG, image_digest=IMG,
                 image_ref="r/p/api:1", k8s_namespace="dev-a", slsa_level=0, k8s_pod="dbg-1")]
    return events


def test_replay_risk_reads_the_summary_the_detections_collect(tmp_path):
    result = engine.replay(make_scenario(tmp_path, "s", _risk_events()))
    summary = correlation.collect_events(result.results, result.scenario.detect_to)
    assert {e["source"] for e in summary} == {"claw:risk"}
    assert all(e["_time"] == e["firstTime"] for e in summary)
    end = result.scenario.detect_to
    found = correlation.risk_correlate(summary, end - 24 * 3600, end)
    incidents = result.incidents()
    assert [(f["risk_object"], f["detections"]) for f in found] == \
        [(i["risk_object"], i["detections"]) for i in incidents] == \
        [("dbg-1", ["claw_library_from_writable_path", "claw_low_slsa_in_prod"])]
    # the rule's window is the 24 h before the run: older summary events do not count
    assert correlation.risk_correlate(summary, end, end + 24 * 3600) == []


def test_risk_rule_counts_a_result_collected_twice_once():
    """Overlapping search windows (sensor silence: every 5 min over 4 h) collect the same
    result again; per (object, detection) the highest score counts, as the SPL's first stats."""
    row = {"detection_id": "claw_sensor_silent", "risk_object": "node-1", "risk_object_type": "system",
           "risk_score": 50, "firstTime": 100.0, "lastTime": 200.0, "host": "node-1"}
    other = dict(row, detection_id="claw_library_from_writable_path", risk_score=64,
                 risk_object=["api-1", "node-1"], pod=["api-1"])
    events = correlation.collect_events([row, row, other], 1000.0)
    assert events[2]["claw_risk_objects"] == "api-1;node-1" and events[2]["claw_entities"] == "api-1;node-1"
    found = correlation.risk_correlate(events, 0, 1000)
    assert [(f["risk_object"], f["detection_count"], f["risk_score"]) for f in found] == [("node-1", 2, 114)]


def test_risk_rule_spl_matches_the_replay_design():
    risk = correlation.risk_spl(" ")
    assert 'eval risk_object=split(claw_risk_objects, ";")' in risk
    assert risk.index("by risk_object risk_object_type detection_id") < risk.index("dc(detection_id)")
    assert "where detection_count >= %d" % defs.RISK_INCIDENT["min_detections"] in risk


# --- Network context --------------------------------------------------------------------

def test_network_context_reads_network_traffic_only_for_the_alert_entities():
    """Before: tstats over the whole Network_Traffic data model for 24 h, joined on names
    through an append subsearch that re-ran the unlisted-library detection."""
    net = SAVED["Claw - %s - Rule" % defs.NETWORK_CONTEXT["title"]]["search"]
    segments = spl_lint.split_pipeline(CONTENT.expand(net))
    tstats = segments[0]
    assert tstats.name == "tstats" and re.search(r"\bwhere \[\] by All_Traffic.src", tstats.args)
    bound = spl_lint._text(tstats.subsearches[0])
    assert 'earliest=-35m@m detection_id="claw_unlisted_library_load" claw_alert=1' in bound
    assert "All_Traffic.src" in bound and tstats.subsearches[0][-1].name == "format"
    assert not search_rules.subsearch_join_problems(
        [s for s in CONTENT.searches if s.name.startswith("Claw - Unlisted Library Load With")], CONTENT)


def test_network_subsearches_match_nothing_when_no_alert_has_an_entity():
    """An empty subsearch formats as NOT( ) by default, which matches every source: without
    emptystr, a quiet 15 minutes would read the whole data model and alert on every new
    destination (format: https://help.splunk.com/splunk-cloud-platform/spl-search-reference/10.0.2503/search-commands/format)."""
    net = SAVED["Claw - %s - Rule" % defs.NETWORK_CONTEXT["title"]]["search"]
    subsearches = [sub for seg in spl_lint.split_pipeline(CONTENT.expand(net)) for sub in seg.subsearches]
    assert len(subsearches) == 2
    for sub in subsearches:
        last = sub[-1]
        assert last.name == "format", spl_lint._text(sub)
        empty = re.search(r'emptystr="([^"]*)"', last.args).group(1)
        assert empty.endswith("=" + correlation.NO_ENTITY) and correlation.NO_ENTITY.endswith(".invalid")


@pytest.mark.parametrize("entity, kept", [
    ("api-7d9f8b6c5-4a730", True), ("node-1.example.internal", True), ("10.42.0.17", True),
    ("fe80::1", True), ('x" OR index=* "', False), ("a b", False), ("pod|delete", False),
    ("back\\slash", False)])
def test_network_entities_that_reach_generated_search_text_are_names_or_addresses(entity, kept):
    """The second subsearch builds search text from each entity (a field named search is
    used as search terms): only DNS names and IP addresses get there."""
    entities = CONTENT.macros[("claw_network_entities", 0)][0]
    pattern = re.search(r'where match\(claw_entity, "([^"]+)"\)', entities).group(1)
    assert bool(re.search(pattern, entity)) is kept


# --- The subjects table (claw_manifest_digest_mismatch) -----------------------------------

def _lookup(rows, key, value, output, max_matches=100):
    """A CSV lookup: the first max_matches rows in file order whose key matches (default
    100: https://help.splunk.com/splunk-enterprise/manage-knowledge-objects/knowledge-management-manual/9.4/use-the-configuration-files-to-configure-lookups/add-field-matching-rules-to-your-lookup-configuration)."""
    return {r[output] for r in [r for r in rows if r[key] == value][:max_matches]}


def test_mismatch_suppression_looks_up_one_row_per_subject_and_document():
    """Before: claw_sbom_libraries (one row per subject and library): a big SBOM of the
    index digest listed first pushed the shared document out of the lookup's matches."""
    index, manifest = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    big = [{"subject_digest": index, "sbom_ref": "big.cdx.json", "library_path": "/l%d.so" % i}
           for i in range(150)]
    shared = [{"subject_digest": d, "sbom_ref": "multi-arch.intoto.json", "library_path": "/libc.so.6"}
              for d in (index, manifest)]
    tables = {"claw_sbom_libraries": big + shared,
              "claw_sbom_subjects": [{"subject_digest": index, "sbom_ref": "big.cdx.json"}]
              + [dict(subject_digest=r["subject_digest"], sbom_ref=r["sbom_ref"]) for r in shared]}
    spl = NotSameAttestation("expected_digest", "observed_digest").spl(None)
    names = re.findall(r"\| lookup (\S+) subject_digest AS", spl)
    assert names == ["claw_sbom_subjects", "claw_sbom_subjects"]
    refs_a = _lookup(tables[names[0]], "subject_digest", index, "sbom_ref")
    refs_b = _lookup(tables[names[1]], "subject_digest", manifest, "sbom_ref")
    assert refs_a & refs_b == {"multi-arch.intoto.json"}
    # the libraries table the search used before: the shared document is pushed out
    assert not (_lookup(tables["claw_sbom_libraries"], "subject_digest", index, "sbom_ref") & refs_b)


def test_replay_suppression_reads_the_subjects_table(tmp_path):
    index, manifest = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    mismatch = [ev("12:01:00", "manifest_digest_mismatch", expected_digest=index, observed_digest=manifest,
                   image_ref="r/shop/web:1", k8s_namespace="shop-prod")]
    subjects = ("subject_digest,subject_kind,evidence,sbom_id,sbom_ref,sbom_format,platform_digests\n"
                "%s,index,,x,multi.intoto.json,in-toto-statement,\n"
                "%s,manifest,,x,multi.intoto.json,in-toto-statement,\n" % (index, manifest))
    alone = engine.replay(make_scenario(tmp_path, "a", mismatch))
    assert [a["detection_id"] for a in alone.alerts] == ["claw_manifest_digest_mismatch"]
    listed = engine.replay(make_scenario(tmp_path, "b", mismatch, lookups={"claw_sbom_subjects.csv": subjects}))
    assert listed.alerts == []


# --- Event values in drill-down searches ----------------------------------------------

HOSTILE = 'x" | delete | search a="\\'  # quotes, a pipe, and a trailing backslash


def _token_s(value):
    """The |s token filter as documented: wrap in quotes, escape the quotes inside (and
    nothing else): https://help.splunk.com/splunk-enterprise/create-dashboards-and-reports/simple-xml-dashboards/10.0/drilldown-and-dashboard-interactivity/token-usage-in-dashboards"""
    return '"%s"' % value.replace('"', '\\"')


def _spl_unquote(token):
    """A quoted search value: \\" is a quote and \\\\ a backslash (search command,
    "Quotes and escaping characters": https://help.splunk.com/en/splunk-enterprise/spl-search-reference/9.4/search-commands/search)."""
    assert token[0] == token[-1] == '"', token
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def _drilldowns():
    """(name, drill-down SPL, {token: the result field it reads}) of every shipped drill-down."""
    found = [(name, keys["action.notable.param.drilldown_search"])
             for name, keys in SAVED.items() if keys.get("action.notable.param.drilldown_search")]
    found += [(s.name, s.spl) for s in CONTENT.searches
              if s.origin.endswith("claw_runtime_overview.xml") and "$claw_sel_" in s.spl]
    return found


def _fill(spl, value):
    """Substitute every event-value token as Splunk would, with the documented |s filter."""
    escaped = spl_eval.compile_expression(
        correlation.drill_escape(["v"])[len("eval claw_drill_v="):])({"v": value})
    assert escaped == value.replace("\\", "\\\\")
    return re.sub(r"\$[\w.:]+\|s\$", lambda m: _token_s(escaped), spl)


def test_every_drilldown_token_is_quoted_with_s_and_escaped():
    """Before: field="$field$" embedded the raw value: a quote or backslash in a library
    path ended the string and the rest became SPL."""
    drilldowns = _drilldowns()
    assert len(drilldowns) >= len(defs.DETECTIONS) + 3
    for name, spl in drilldowns:
        tokens = re.findall(r"\$([^$\s]+)\$", spl)
        assert tokens, name
        for token in tokens:
            field, _, flt = token.partition("|")
            assert flt == "s", (name, token)
            assert field.startswith((generate.DRILL_PREFIX, "claw_sel_")), (name, token)


def test_a_hostile_value_stays_one_quoted_value_in_every_drilldown():
    for name, spl in _drilldowns():
        tokens = len(re.findall(r"\$[\w.:]+\|s\$", spl))
        benign = spl_lint.split_pipeline(_fill(spl, "value"))
        filled = _fill(spl, HOSTILE)
        assert [s.name for s in spl_lint.split_pipeline(filled)] == [s.name for s in benign], name
        quoted = re.findall(r'"(?:\\.|[^"\\])*"', filled)
        assert sum(_spl_unquote(q) == HOSTILE for q in quoted) == tokens, (name, filled)


def test_dashboard_rows_pass_escaped_copies_to_the_drilldown():
    """The overview's table carries hidden (leading underscore) copies made as drill_escape
    makes them, and the click sets the tokens from those copies."""
    overview = [s for s in CONTENT.searches if s.origin.endswith("claw_runtime_overview.xml")
                and "_claw_drill_library_path=replace(library_path" in s.spl]
    assert len(overview) == 1
    assert "_" + correlation.drill_escape(["subject_digest"])[5:] in overview[0].spl
    with open(os.path.join(paths.APP_DEFAULT, "data", "ui", "views", "claw_runtime_overview.xml"),
              encoding="utf-8") as handle:
        tokens = studio.drilldown_tokens(studio.parse_view(handle.read())[3])
    assert tokens == {"claw_sel_subject": "_claw_drill_subject_digest", "claw_sel_library": "_claw_drill_library_path"}
