"""Integrity of the shipped searches: every saved search and dashboard query.

Each check lists every offending search in its failure message. The checker
functions are in tools/claw_ta_tools/emulators/app_content.py (inventory, ``check_search``) and
tools/claw_ta_tools/emulators/spl_lint.py + tools/claw_ta_tools/emulators/spl_fields.py (SPL reading, field tracking and
slow-pattern lint); tests/test_spl_lint.py
shows that each of them catches deliberately broken SPL.
"""
import os
import re
import xml.etree.ElementTree as ET

import pytest

from claw_ta_tools.dashboards import generate as dashboards_generate, overview, studio
from claw_ta_tools.emulators import app_content, search_rules, spl_lint
from tests import paths

CONTENT = app_content.AppContent()
RESULTS = [(search, app_content.check_search(search.spl, CONTENT)) for search in CONTENT.searches]
VIEWS_DIR = os.path.join(paths.APP_DEFAULT, "data", "ui", "views")
NAV = os.path.join(paths.APP_DEFAULT, "data", "ui", "nav", "default.xml")


def _report(check):
    lines = []
    for search, problems in RESULTS:
        if check == "index_macro" and app_content.index_macro_exempt(search):
            continue
        for problem in problems[check]:
            lines.append("%s [%s]: %s" % (search.origin, search.name, problem))
    return lines


def test_content_is_found():
    names = [s.name for s in CONTENT.searches if s.origin == "savedsearches.conf"]
    assert "Claw - Daily Volume Estimate" in names
    assert any(s.origin.endswith("claw_runtime_overview.xml") for s in CONTENT.searches)
    drilldowns = [k for keys in CONTENT.savedsearches.values() for k in app_content.DRILLDOWN_KEYS if keys.get(k)]
    assert len(drilldowns) == len([s for s in CONTENT.searches if s.origin.endswith("(drilldown)")])


@pytest.mark.parametrize("check", app_content.CHECKS)
def test_every_search_passes(check):
    problems = _report(check)
    assert not problems, "%d problem(s):\n  %s" % (len(problems), "\n  ".join(problems))


def test_index_macro_exemptions_are_real():
    """Every named exemption is a shipped saved search, says why, and uses its own index macro."""
    for name, (macro, reason) in app_content.INDEX_MACRO_EXEMPT.items():
        assert name in CONTENT.savedsearches, "exempted search %r is not shipped" % name
        assert reason.strip(), name
        spl = CONTENT.savedsearches[name]["search"]
        assert macro in app_content.macros_called(spl, CONTENT), "%s does not use `%s`" % (name, macro)
    for (view, ds_id), (macro, reason) in app_content.DASHBOARD_INDEX_MACRO_EXEMPT.items():
        found = [s for s in CONTENT.searches if s.origin.endswith(view)
                 and s.name.startswith("data source %s " % ds_id)]
        assert len(found) == 1 and reason.strip(), (view, ds_id)
        assert macro in app_content.macros_called(found[0].spl, CONTENT), (view, ds_id, macro)


def test_macro_definitions_refer_to_known_macros():
    """Macros no shipped search uses yet (e.g. _filter hooks) must still be whole."""
    problems = []
    for (name, nargs), (definition, arg_names, _) in sorted(CONTENT.macros.items()):
        if len(arg_names) != nargs:
            problems.append("%s(%d): args = %s" % (name, nargs, ", ".join(arg_names) or "(none)"))
        for arg in arg_names:
            if "$%s$" % arg not in definition:
                problems.append("%s(%d): argument %s is never used in the definition" % (name, nargs, arg))
        found = app_content.check_search(definition, CONTENT)["macros"]
        problems += ["%s(%d): %s" % (name, nargs, p) for p in found]
    assert not problems, "\n  ".join(problems)


def test_saved_searches_ship_disabled_with_time_bounds():
    problems = app_content.saved_search_problems(CONTENT.savedsearches)
    assert not problems, "\n  ".join(problems)


def test_every_detection_uses_its_filter_macro():
    detections = [s for s in CONTENT.searches
                  if s.origin == "savedsearches.conf" and app_content.is_detection(s, CONTENT)]
    problems = app_content.detection_filter_problems(detections, CONTENT)
    assert not problems, "\n  ".join(problems)


def test_command_output_table_matches_the_commands():
    """COMMAND_OUTPUTS names must appear in the command's code (when it has shipped)."""
    problems = []
    for command, outputs in app_content.COMMAND_OUTPUTS.items():
        script = os.path.join(paths.APP_BIN, command + ".py")
        if command not in CONTENT.commands or not os.path.exists(script):
            continue
        code = []
        for root, _, files in os.walk(os.path.join(paths.APP_BIN, "claw_ta")):
            code += [os.path.join(root, f) for f in files if f.endswith(".py")]
        text = "".join(open(p, encoding="utf-8").read() for p in code + [script])
        problems += ["%s: output %s not found in its code" % (command, name)
                     for name in outputs if not re.search(r"""["']%s["']""" % re.escape(name), text)]
    assert not problems, "\n  ".join(problems)


# --- Dashboards and navigation --------------------------------------------------

def test_dashboards_are_cloud_safe():
    files = app_content.dashboard_files()
    assert any(f.endswith("claw_runtime_overview.xml") for f in files)
    problems = ["%s: %s" % (os.path.basename(f), p) for f in files
                for p in app_content.dashboard_problems(open(f, encoding="utf-8").read())]
    assert not problems, "\n  ".join(problems)


def test_overview_is_a_studio_dashboard_with_the_panels():
    """The overview is Dashboard Studio (version 2, JSON in CDATA: claw_ta_tools/dashboards/studio.py
    cites Splunk's page); every panel follows the time picker (the ds.search defaults)."""
    text = open(os.path.join(VIEWS_DIR, "claw_runtime_overview.xml"), encoding="utf-8").read()
    attrs, label, _, definition = studio.parse_view(text)
    assert attrs["version"] == "2" and attrs["theme"] in ("light", "dark") and label
    titles = " | ".join((v.get("title") or "").lower() for v in definition["visualizations"].values())
    for topic in ("alerts by detection", "alerts by severity", "unlisted library loads", "sensor health",
                  "sensor filter dropped", "sbom coverage by image", "tier spikes"):
        assert topic in titles, topic
    inputs = [i for i in definition["inputs"].values() if i["type"] == "input.timerange"]
    assert [i["options"]["token"] for i in inputs] == ["global_time"]
    params = definition["defaults"]["dataSources"]["ds.search"]["options"]["queryParameters"]
    assert params == {"earliest": "$global_time.earliest$", "latest": "$global_time.latest$"}
    for ds in definition["dataSources"].values():
        assert "queryParameters" not in ds.get("options", {}), "a panel ignores the time picker"
    queries = [s.spl for s in studio.searches(definition)]
    unlisted = [q for q in queries if 'where sbom_status="unlisted"' in q]
    assert len(unlisted) == 1 and "| stats" in unlisted[0].split("| clawsbomcheck")[0], \
        "unlisted libraries: stats pre-aggregation before | clawsbomcheck"
    for field in ("sbom_status", "sbom_reason", "sbom_evidence", "sbom_trust", "sbom_signer"):
        assert field in unlisted[0].splitlines()[-1], field
    assert any("`claw_tier_baseline_detect" in q for q in queries)
    # The review dashboard is linked (it stays Simple XML: Studio cannot host its script).
    markdown = " ".join(v["options"].get("markdown", "") for v in definition["visualizations"].values())
    assert "/app/TA-claw-runtime/claw_policy_proposals" in markdown


def test_the_studio_overview_is_generated():
    """The shipped view is what claw_ta_tools.dashboards.generate writes (its SPL is Python, JSON-escaped)."""
    assert dashboards_generate.main(["--check"]) == 0


def test_studio_checks_catch_broken_views():
    good = dashboards_generate.view_text()
    assert studio.problems(good) == []
    broken = good.replace('"type": "splunk.column"', '"type": "splunk.nosuch"', 1)
    assert any("splunk.nosuch" in p for p in studio.problems(broken))
    broken = good.replace('"primary": "ds_coverage"', '"primary": "ds_nosuch"', 1)
    assert any("ds_nosuch" in p and "does not exist" in p for p in studio.problems(broken))
    broken = good.replace("$claw_sel_library|s$", "$claw_sel_library$", 1)
    assert any("not quoted with |s" in p for p in studio.problems(broken))
    broken = good.replace('"row._claw_drill_library_path.value"', '"row.library_path.value"', 1)
    assert any("not from an escaped copy" in p for p in studio.problems(broken))
    assert any("theme" in p for p in studio.problems(good.replace('theme="dark"', 'theme="blue"', 1)))
    assert any("well-formed" in p for p in studio.problems(good.replace("<![CDATA[\n{", "<![CDATA[\n{{", 1)))


def test_studio_searches_get_the_search_checks():
    """A Studio view's searches go through the same checks as Simple XML queries: a risky
    command, a macro that does not exist, an unknown command are reported."""
    good = dashboards_generate.view_text()
    assert app_content.studio_searches("default/data/ui/views/x.xml", good)
    bad = good.replace("| where is_anomaly=1", "| where is_anomaly=1\\n| outputlookup claw_tier_baseline.csv", 1)
    bad = bad.replace("`claw_runtime_index` `claw_runtime_sensor` event_type=agent_heartbeat",
                      "`claw_runtime_indexx` event_type=agent_heartbeat | clawnosuch", 1)
    searches = app_content.studio_searches("default/data/ui/views/x.xml", bad)
    risky = search_rules.dashboard_risky_problems(searches, CONTENT)
    assert len(risky) == 1 and "outputlookup" in risky[0] and "ds_tier_spikes" in risky[0], risky
    problems = [p for s in searches for ps in app_content.check_search(s.spl, CONTENT).values() for p in ps]
    assert any("claw_runtime_indexx" in p for p in problems), problems
    assert any("clawnosuch" in p for p in problems), problems


def _normalized(spl):
    return re.sub(r"\s+", " ", spl).strip()


def test_panels_that_name_a_saved_search_run_its_spl():
    """A saved search ships disabled, so the panel runs its SPL inline: the same SPL."""
    definition = studio.parse_view(open(os.path.join(VIEWS_DIR, "claw_runtime_overview.xml"),
                                        encoding="utf-8").read())[3]
    named = 0
    for viz in definition["visualizations"].values():
        match = re.search(r'same SPL as the saved search "([^"]+)"', viz.get("description", ""))
        if not match:
            continue
        query = definition["dataSources"][viz["dataSources"]["primary"]]["options"]["query"]
        if match.group(1) in CONTENT.savedsearches:
            named += 1
            assert _normalized(query) == _normalized(CONTENT.savedsearches[match.group(1)]["search"])
        else:  # not shipped yet: the overview's own search for it
            assert query == overview.DROPS_FALLBACK and match.group(1) == overview.DROPS_SEARCH
    assert named >= 1


def test_navigation_lists_existing_views_overview_first():
    root = ET.parse(NAV).getroot()
    views = [v.get("name") for v in root.iter("view")]
    assert views[0] == "claw_runtime_overview"
    assert root.find("./view[@name='claw_runtime_overview']").get("default") == "true"
    shipped = {os.path.splitext(os.path.basename(f))[0] for f in app_content.dashboard_files()}
    missing = [v for v in views if v not in shipped and v != "search"]
    assert not missing, "nav lists views the app does not ship: %s" % missing
    assert "search" in views


# --- Risky commands and subsearch joins (tools/claw_ta_tools/emulators/search_rules.py) --------------------------------------

def test_dashboards_run_no_risky_commands():
    """SPL safeguards flag these commands in searches Splunk Web runs (tools/claw_ta_tools/emulators/spl_lint.py
    cites the list); a dashboard search may use one only when named, with a reason, in
    search_rules.RISKY_IN_DASHBOARD_EXEMPT."""
    problems = search_rules.dashboard_risky_problems(CONTENT.searches, CONTENT)
    assert not problems, "\n  ".join(problems)
    for (view, command), reason in search_rules.RISKY_IN_DASHBOARD_EXEMPT.items():
        assert reason.strip() and os.path.exists(os.path.join(VIEWS_DIR, view)), view
        used = [s for s in CONTENT.searches if s.origin.endswith(view) and command in
                spl_lint.risky_commands(spl_lint.split_pipeline(CONTENT.expand(s.spl)))]
        assert used, "exemption %s/%s is not needed any more" % (view, command)


def test_scheduled_correlation_searches_use_no_subsearch_joins():
    scheduled = [s for s in CONTENT.searches if search_rules.is_scheduled_correlation(s, CONTENT)]
    assert any(s.name == "Claw - Workload Risk Threshold - Rule" for s in scheduled)
    problems = search_rules.subsearch_join_problems(CONTENT.searches, CONTENT)
    assert not problems, "\n  ".join(problems)
