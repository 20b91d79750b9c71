"""The content checks catch what they claim to: deliberately broken SPL, conf
stanzas and dashboards go through the same functions as the shipped content
(tests/test_content_integrity.py) and each problem must be reported."""
import copy

import pytest

from claw_ta_tools.emulators import app_content, search_rules, spl_fields, spl_lint
from claw_ta_tools.emulators.app_content import Search, check_search

CONTENT = app_content.AppContent()
BASE = "`claw_runtime_index` event_type=library_load"


def problems_of(spl, content=CONTENT):
    return check_search(spl, content)


def with_macros(extra):
    """A copy of the app content with extra macros {(name, nargs): (definition, args, iseval)}."""
    content = copy.copy(CONTENT)
    content.macros = dict(CONTENT.macros)
    content.macros.update(extra)
    return content


# --- The tokenizer ---------------------------------------------------------------

def test_pipeline_split_keeps_quotes_macros_and_subsearches():
    spl = ('`claw_runtime_index` reason="a | b [c]" | join max=1 host [search index=x | head 3 '
           '| stats count by host] | eval y="|" | `claw_x_filter`')
    segments = spl_lint.split_pipeline(spl)
    assert [s.name for s in segments] == ["search", "join", "eval", "`claw_x_filter`"]
    assert segments[0].implicit and 'reason="a | b [c]"' in segments[0].args
    assert [s.name for s in segments[1].subsearches[0]] == ["search", "head", "stats"]
    assert segments[1].subsearches[0][0].args == "index=x"
    assert spl_lint.split_pipeline("| inputlookup x")[0].name == "inputlookup"
    assert spl_lint.split_pipeline("a ```a | b``` | stats count")[1].name == "stats"


def test_macro_calls_and_expansion():
    assert spl_lint.macro_calls('`a` x `b(1, "p,q")`') == [("a", 0, []), ("b", 2, ["1", '"p,q"'])]
    macros = {("a", 0): ("index=x `b(k, v)`", [], False), ("b", 2): ("$f$=$g$", ["f", "g"], False),
              ("e", 0): ('"x"', [], True)}
    assert spl_lint.expand_macros("`a` `e` | stats count", macros).split() == \
        ["index=x", "k=v", "|", "stats", "count"]
    with pytest.raises(ValueError):
        spl_lint.expand_macros("`loop`", {("loop", 0): ("`loop`", [], False)})


def test_comparisons_and_where_fields():
    seg = spl_lint.split_pipeline('a=1 (b!="x y" OR NOT c>=2) d IN (p, "*q") "free text"')[0]
    assert spl_lint.comparisons(seg) == [("a", "=", "1"), ("b", "!=", "x y"), ("c", ">=", "2"),
                                         ("d", "IN", "p"), ("d", "IN", "*q")]
    assert spl_fields.where_fields('count > expected AND like(path, "%so") AND \'odd f\'=1') == \
        {"count", "expected", "path", "odd f"}


# --- Each check fails on broken SPL -------------------------------------------------

@pytest.mark.parametrize("spl, check, words", [
    (BASE + " | `claw_no_such_macro`", "macros", "claw_no_such_macro"),
    ("`claw_runtime_index` `claw_tier_baseline_detect`", "macros", "call it after a pipe"),
    ("`claw_runtime_index(2)` x=1", "macros", "(have: claw_runtime_index)"),
    (BASE + " | lookup claw_no_such_lookup library_path OUTPUT reason", "lookups", "claw_no_such_lookup"),
    ("| inputlookup claw_missing.csv", "lookups", "claw_missing.csv"),
    (BASE + " | stats count by host | outputlookup claw_nowhere", "lookups", "claw_nowhere"),
    (BASE + " | clawnosuchcommand", "commands", "clawnosuchcommand"),
    (BASE + " | stast count", "commands", "stast"),
    ("`claw_runtime_index` eventtype=claw_runtime_nothing", "eventtypes_tags", "claw_runtime_nothing"),
    ("`claw_runtime_index` tag=no_such_tag", "eventtypes_tags", "no_such_tag"),
    ("`claw_runtime_index` tag::eventtype=bogus_tag", "eventtypes_tags", "bogus_tag"),
    (BASE + " made_up_field=1", "fields", "made_up_field"),
    (BASE + " | where made_up_field > 3", "fields", "made_up_field"),
    (BASE + " | stats count by host | search sbom_status=unlisted", "fields", "sbom_status"),
    (BASE + " | eval made=1 | append [search `claw_runtime_index` made=2]", "fields", "made"),
    ("index=main sourcetype=claw:runtime event_type=library_load", "index_macro", "claw_runtime_index"),
    ("| tstats count where index=main by host", "index_macro", "claw_runtime_index"),
    ("| inputlookup claw_allowlist | append [search index=main verdict=Denied]", "index_macro", "claw_runtime"),
    ("`claw_runtime_index` index=*", "slow_patterns", "index=*"),
    ('`claw_runtime_index` index="*" x=1', "slow_patterns", "index=*"),
    ("`claw_runtime_index` library_path=*libssl.so", "slow_patterns", "leading wildcard"),
    ('`claw_runtime_index` library_path="*/tmp/*"', "slow_patterns", "leading wildcard"),
    ("`claw_runtime_index` *payments", "slow_patterns", "leading wildcard"),
    ("`claw_runtime_index` library_path IN (a, *b)", "slow_patterns", "leading wildcard"),
    (BASE + " | join host [search `claw_runtime_index` verdict=Denied]", "slow_patterns", "unbounded join"),
    (BASE + " | join max=0 host [search `claw_runtime_index` verdict=Denied]", "slow_patterns", "unbounded join"),
    (BASE + " | transaction host", "slow_patterns", "unbounded transaction"),
    (BASE + " | search verdict=Denied", "slow_patterns", "| search right after"),
    ("| inputlookup claw_allowlist | search reason=x", "slow_patterns", "| search right after"),
    (BASE + " | append [search `claw_runtime_index` | search verdict=Denied]", "slow_patterns", "| search right"),
])
def test_each_check_catches_broken_spl(spl, check, words):
    problems = problems_of(spl)
    assert any(words in p for p in problems[check]), (check, problems)


@pytest.mark.parametrize("spl", [
    BASE + " | stats count by subject_digest, library_path, event_type | clawsbomcheck "
           "| where sbom_status=\"unlisted\"",
    BASE + " | eval made_up=1 | where made_up > 3 | stats count as n by host | search n>2",
    BASE + " | lookup claw_namespace_env namespace OUTPUT environment | where environment=\"prod\"",
    BASE + " | rex field=library_path \"^(?<lib_dir>.*)/\" | search lib_dir=/tmp",
    "| inputlookup claw_allowlist | where detection_id=\"claw_unlisted_library_load\"",
    "| tstats count from datamodel=Network_Traffic.All_Traffic where All_Traffic.dest_port=443 by All_Traffic.src",
    "| tstats count where `claw_runtime_index` by host, sourcetype",
    "`claw_runtime_index` eventtype=claw_runtime_library_load tag=claw loaded_file=libssl*",
    BASE + " | join max=1 host [search `claw_runtime_index` verdict=Denied]",
    BASE + " | join host [search `claw_runtime_index` verdict=Denied | head 100]",
    BASE + " | transaction host maxspan=30m | where eventcount > 2",
    # appendpipe's subpipeline runs on the current results: it sees their fields
    BASE + " | eval made=1 | appendpipe [| where made=1 | eval other=2] | where other=2",
])
def test_sound_spl_passes_every_check(spl):
    problems = {k: v for k, v in problems_of(spl).items() if v}
    assert not problems, problems


def test_macro_problems_inside_macros_and_filter_hooks():
    content = with_macros({
        ("claw_broken_outer", 0): ("`claw_missing_inner(1)`", [], False),
        ("claw_demo_filter", 0): ("search *", [], False),
    })
    assert any("claw_missing_inner" in p for p in problems_of(BASE + " `claw_broken_outer`", content)["macros"])
    # a _filter hook right after the base search is a tuning point, not "| search" misuse
    assert problems_of(BASE + " | `claw_demo_filter`", content)["slow_patterns"] == []


# --- Saved-search and dashboard level checks -------------------------------------------

def test_saved_search_conf_problems():
    stanzas = {"ok": {"search": BASE, "disabled": "1", "dispatch.earliest_time": "-24h"},
               "enabled": {"search": BASE, "disabled": "0", "dispatch.earliest_time": "-24h"},
               "unbounded": {"search": BASE, "disabled": "1"}}
    problems = app_content.saved_search_problems(stanzas)
    assert problems == ["enabled: not disabled = 1",
                        "unbounded: no dispatch.earliest_time (unbounded time range)"]


def test_detection_filter_macro_problems():
    content = with_macros({("claw_demo_a_filter", 0): ("search *", [], False)})
    good = Search("savedsearches.conf", "A", BASE + ' | eval detection_id="claw_demo_a" | `claw_demo_a_filter`',
                  {"alert.severity": "4"})
    unused = Search("savedsearches.conf", "B", BASE + ' | eval detection_id="claw_demo_a"', {})
    missing = Search("savedsearches.conf", "C", BASE + ' | eval detection_id="claw_demo_c"', {})
    anonymous = Search("savedsearches.conf", "D", BASE, {"counttype": "number of events"})
    report = Search("savedsearches.conf", "E", BASE + " | stats count", {"cron_schedule": "0 * * * *"})
    assert all(app_content.is_detection(s, content) for s in (good, unused, missing, anonymous))
    assert not app_content.is_detection(report, content)
    problems = app_content.detection_filter_problems([good, unused, missing, anonymous], content)
    assert problems == ["B: does not use `claw_demo_a_filter`",
                        "C: no macro claw_demo_c_filter in macros.conf",
                        "D: a detection (alert settings) whose SPL assigns no detection_id"]


@pytest.mark.parametrize("xml, words", [
    ('<dashboard version="1.1"><label>x</label><row>', "not well-formed"),
    ("<dashboard><label>x</label></dashboard>", 'version="None"'),
    ('<dashboard version="1.1" script="evil.js"><label>x</label></dashboard>', "custom script"),
    ('<form version="1.1"><label>x</label><row><panel><html><script>alert(1)</script></html>'
     "</panel></row></form>", "<script>"),
    ('<form version="1.1"><label>x</label><row><panel><html><a href="#" onclick="x()">a</a></html>'
     "</panel></row></form>", "event handler"),
    ('<view version="1.1"><label>x</label></view>', "root element"),
])
def test_dashboard_problems(xml, words):
    assert any(words in p for p in app_content.dashboard_problems(xml)), app_content.dashboard_problems(xml)


def test_sound_dashboard_passes():
    xml = ('<form version="1.1"><label>x</label><row><panel><table><search><query>'
           "`claw_runtime_index` | stats count</query></search></table></panel></row></form>")
    assert app_content.dashboard_problems(xml) == []


# --- Macro expansion is literal ------------------------------------------------

def test_macro_expansion_is_literal():
    """Splunk pastes a macro's definition where the call was, without padding, and does
    not expand a macro inside a quoted value (Knowledge Manager Manual, "Use search
    macros in searches": https://help.splunk.com/en/splunk-enterprise/manage-knowledge-objects/knowledge-management-manual/10.0/search-macros).
    Padding would hide a search that only works because of it (``x=`v``` is ``x=1``)."""
    macros = {("v", 0): ("1", [], False), ("users", 0): ("EXPANDED", [], False)}
    assert spl_lint.expand_macros("x=`v` | eval y=`v`+2", macros) == "x=1 | eval y=1+2"
    assert spl_lint.expand_macros('a="audit`users`local" `users`', macros) == 'a="audit`users`local" EXPANDED'
    assert spl_lint.expand_macros('a="q\\"`users`" b', macros) == 'a="q\\"`users`" b'


# --- Risky commands in dashboards, subsearch joins in correlation searches ------------------

def _search(origin, name, spl, conf=None):
    return Search(origin, name, spl, conf or {})


@pytest.mark.parametrize("spl, risky", [
    (BASE + " | stats count by host | outputlookup claw_x.csv", ["outputlookup"]),
    (BASE + " | collect index=summary", ["collect"]),
    (BASE + " | join max=1 host [search `claw_runtime_index` | sendemail to=x@example.com]", ["sendemail"]),
    (BASE + " | map search=\"search host=$host$\"", ["map"]),
    (BASE + " | stats count by host", []),
])
def test_risky_commands_are_found(spl, risky):
    """The list of "Commands that trigger SPL safeguards" (see tools/claw_ta_tools/emulators/spl_lint.py)."""
    assert spl_lint.risky_commands(spl_lint.split_pipeline(spl)) == risky


def test_risky_commands_in_dashboards_are_reported():
    content = copy.copy(CONTENT)
    content.risky_commands = {"clawdanger"}
    searches = [
        _search("default/data/ui/views/x.xml", "panel 'a'", BASE + " | outputlookup claw_allowlist"),
        _search("default/data/ui/views/x.xml", "panel 'b'", BASE + " | clawdanger"),
        _search("default/data/ui/views/x.xml", "panel 'c'", BASE + " | stats count"),
        _search("savedsearches.conf", "S", BASE + " | collect index=summary"),
    ]
    problems = search_rules.dashboard_risky_problems(searches, content)
    assert problems == ["x.xml [panel 'a']: risky command outputlookup in a dashboard search",
                        "x.xml [panel 'b']: risky command clawdanger in a dashboard search"]


@pytest.mark.parametrize("spl, flagged", [
    (BASE + " | append [search `claw_runtime_index` verdict=Denied]", True),
    (BASE + " | appendcols [search `claw_runtime_index` verdict=Denied | stats count]", True),
    (BASE + " | join max=1 host [search `claw_runtime_index` verdict=Denied]", True),
    (BASE + " | search NOT [| inputlookup claw_allowlist | append [| makeresults | eval x=1] | format]", False),
    (BASE + " | stats count by host | where count > 2", False),
])
def test_subsearch_joins_in_scheduled_correlation_searches(spl, flagged):
    """append/join subsearches stop at [subsearch] maxout/maxtime and are finalized
    without an error (the append command: "subsearches return a maximum of 10,000 results
    and have a maximum runtime of 60 seconds ... automatically finalized",
    https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/append;
    https://help.splunk.com/en/splunk-enterprise/search/search-manual/10.0/subsearches)."""
    conf = {"enableSched": "1", "alert.severity": "4"}
    scheduled = _search("savedsearches.conf", "S", spl + ' | eval detection_id="x"', conf)
    report = _search("savedsearches.conf", "R", spl, {"enableSched": "1"})
    dashboard = _search("default/data/ui/views/x.xml", "panel", spl)
    problems = search_rules.subsearch_join_problems([scheduled, report, dashboard], CONTENT)
    assert bool(problems) == flagged, problems
    assert all(p.startswith("S: ") for p in problems)
