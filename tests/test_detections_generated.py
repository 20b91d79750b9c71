"""The generated saved searches / macros: in sync with the definitions, complete, ES-ready but inert."""
import json
import os
import re

from claw_ta.detections import definitions as defs
from claw_ta_tools.detections import docs_table, generate
from claw_ta import conffile as conf
from tests import paths

SAVED = os.path.join(paths.APP_DEFAULT, "savedsearches.conf")
MACROS = os.path.join(paths.APP_DEFAULT, "macros.conf")


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def test_conf_blocks_equal_what_the_definitions_generate():
    assert generate.current_block(_read(SAVED)) == generate.savedsearches_block(), \
        "savedsearches.conf is stale: run python -m claw_ta_tools.detections.generate"
    assert generate.current_block(_read(MACROS)) == generate.macros_block(), \
        "macros.conf is stale: run python -m claw_ta_tools.detections.generate"
    assert generate.main(["--check"]) == 0


def test_check_fails_on_a_hand_edit_and_generate_only_rewrites_the_block(tmp_path):
    for name in ("savedsearches.conf", "macros.conf"):
        text = _read(os.path.join(paths.APP_DEFAULT, name))
        edited = text.replace("disabled = 1", "disabled = 0", 1) if name == "savedsearches.conf" \
            else text.replace("definition = search *", "definition = search host!=x", 1)
        edited = "# hand-written header\n" + edited + "\n[Someone Else]\nsearch = `claw_runtime_index`\n"
        (tmp_path / name).write_text(edited)
    docs = tmp_path / "detections.md"
    docs.write_text("# Page\n%s\n| a stale row |\n%s\nAfter.\n" % (docs_table.BEGIN, docs_table.END))
    args = ["--default-dir", str(tmp_path), "--docs-file", str(docs)]
    assert generate.main(["--check"] + args) == 1
    assert generate.main(args) == 0
    assert generate.main(["--check"] + args) == 0
    assert docs.read_text() == "# Page\n" + docs_table.docs_block() + "After.\n"
    rewritten = (tmp_path / "savedsearches.conf").read_text()
    assert rewritten.startswith("# hand-written header\n")
    assert rewritten.rstrip().endswith("search = `claw_runtime_index`")
    assert generate.current_block(rewritten) == generate.savedsearches_block()


def test_splice_appends_a_block_to_a_file_without_one():
    assert generate.splice("[a]\nx = 1", "B\n") == "[a]\nx = 1\n\nB\n"


def _stanzas():
    return conf.parse(SAVED), conf.parse(MACROS)


def test_every_detection_has_a_complete_disabled_saved_search():
    saved, macros = _stanzas()
    for d in defs.DETECTIONS:
        s = saved[d.search_name]
        assert s["disabled"] == "1" and s["enableSched"] == "1" and s["cron_schedule"]
        assert s["dispatch.earliest_time"].startswith("-") and s["dispatch.latest_time"]
        assert s["alert.suppress"] == "1"
        assert s["alert.suppress.fields"].split(",") == list(d.throttle_fields)
        assert int(s["alert.severity"]) == defs.SEVERITY_LEVELS[d.severity]
        assert s["action.notable.param.severity"] == d.severity
        assert s["action.notable.param.drilldown_search"].startswith("`claw_runtime_index`")
        annotations = json.loads(s["action.correlationsearch.annotations"])
        assert annotations["mitre_attack"] == list(d.mitre)
        assert all(re.match(r"^T\d{4}(\.\d{3})?$", t) for t in d.mitre)
        risk = json.loads(s["action.risk.param._risk"])
        assert {r["risk_score"] for r in risk} == {d.risk_score}
        search = s["search"]
        assert search.startswith("`claw_runtime_index`")
        assert "`%s`" % d.filter_macro in search
        assert 'eval detection_id="%s"' % d.id in search
        assert search.rstrip().endswith("where claw_alert=1")
        assert macros[d.filter_macro]["definition"] == "search *"
        assert ('eval claw_alert=if(environment="prod", 1, 0)' in search) is d.prod_only


def test_the_unlisted_library_search_aggregates_before_the_command():
    saved, _ = _stanzas()
    search = saved[defs.BY_ID["claw_unlisted_library_load"].search_name]["search"]
    assert search.index("| stats count") < search.index("| clawsbomcheck")


def test_threshold_macros_and_risk_and_network_searches():
    saved, macros = _stanzas()
    for name, value, _ in defs.PARAMS:
        assert macros[name]["definition"] == str(value)
    risk = saved["Claw - %s - Rule" % defs.RISK_INCIDENT["title"]]["search"]
    # every detection collects all its results (every environment) to the risk summary,
    # before its alert gate, and the risk rule reads that summary, re-running none of them
    for d in defs.DETECTIONS:
        search = saved[d.search_name]["search"]
        assert search.index("`claw_risk_collect`") < search.index("where claw_alert=1")
        assert 'eval detection_id="%s"' % d.id not in risk
    assert risk.startswith("`claw_risk_summary_index`") and "append" not in risk
    assert "where claw_alert=1" not in risk  # risk comes from every environment
    assert "where detection_count >= 2" in risk
    net = saved["Claw - %s - Rule" % defs.NETWORK_CONTEXT["title"]]["search"]
    assert "datamodel=Network_Traffic" in net and "`claw_risk_summary_index`" in net
    assert "lib_time + 900" in net


def test_the_replay_reads_the_effective_threshold_from_local_macros(tmp_path):
    from claw_ta_tools.detections.engine import read_macro_params
    (tmp_path / "default").mkdir()
    (tmp_path / "local").mkdir()
    (tmp_path / "default" / "macros.conf").write_text("[claw_min_slsa_level]\ndefinition = 2\n")
    (tmp_path / "local" / "macros.conf").write_text("[claw_min_slsa_level]\ndefinition = 3\n")
    assert read_macro_params(str(tmp_path))["claw_min_slsa_level"] == 3.0
    assert read_macro_params()["claw_sensor_silent_minutes"] == 10.0


def test_transforms_define_the_lookups_the_replay_emulates():
    transforms = conf.parse(os.path.join(paths.APP_DEFAULT, "transforms.conf"))
    from claw_ta_tools.detections.engine import LOOKUPS
    for name, (filename, key, default) in LOOKUPS.items():
        # site rows: KV store; shipped defaults: <name>_default.csv (docs/tuning.md)
        site, shipped = transforms[name], transforms[name + "_default"]
        assert site["external_type"] == "kvstore" and site["collection"] == name
        assert shipped["filename"] == filename.replace(".csv", "_default.csv")
        for stanza in (site, shipped):
            assert stanza["match_type"] == "WILDCARD(%s)" % key
            assert stanza["max_matches"] == "1"
        assert os.path.exists(os.path.join(paths.APP_LOOKUPS, shipped["filename"]))
        assert not os.path.exists(os.path.join(paths.APP_LOOKUPS, filename))
    assert transforms["claw_allowlist"]["collection"] == "claw_allowlist"
