"""The conf stanzas of | clawtierbaseline agree with its code (macros, saved search, searchbnf, lookups)."""
import os
import re

from claw_ta import tiers
from claw_ta import conffile as conf
from tests import paths


def stanzas(name):
    return conf.parse(os.path.join(paths.APP_DEFAULT, name))


def one_line(text):
    return re.sub(r"\s+", " ", text.replace("\\\n", " ")).strip()


def stats_clause(definition):
    return re.search(r"\| stats (.*) by (.*)$", one_line(definition)).groups()


def test_aggregate_macro_produces_what_the_command_reads():
    macros = stanzas("macros.conf")
    functions, by = stats_clause(macros["claw_tier_aggregate"]["definition"])
    outputs = set(re.findall(r" as (\w+)", " " + functions)) | {"count"}
    assert outputs == {"count", "first_time", "last_time", "hours", "tier", "namespace", "node_labels"}
    assert [f.strip() for f in by.split(",")] == ["image_digest", "host"]
    definition = one_line(macros["claw_tier_aggregate"]["definition"])
    # attestations are counted; the sensor's heartbeats carry the nodes' labels
    selected = re.match(r"search ([^|`]*) `claw_runtime_sensor` \|", definition).group(1)  # OR before AND
    assert set(re.findall(r"event_type=(\w+)", selected)) == set(tiers.COUNTED_EVENT_TYPES) | {"agent_heartbeat"}
    assert "coalesce(dest, host)" in definition and "floor(_time/3600)" in definition
    # node rows: one per node, image_digest NODE_ROW, only from heartbeats that name labels
    assert ('image_digest=if(event_type=="agent_heartbeat", if(isnotnull(claw_node_labels), "%s", null())'
            % tiers.NODE_ROW) in definition
    assert 'claw_node_labels=if(event_type=="agent_heartbeat", coalesce(json_extract(_raw, "k8s_node_labels")' \
        in definition
    # the one-argument variant is the same pipeline with the tier field substituted
    variant = one_line(macros["claw_tier_aggregate(1)"]["definition"])
    assert variant.replace("$tier_field$", "tier") == definition
    assert macros["claw_tier_aggregate(1)"]["args"] == "tier_field"


def test_detect_macros_use_the_command_defaults():
    macros = stanzas("macros.conf")
    detect = one_line(macros["claw_tier_baseline_detect"]["definition"])
    assert detect.startswith("`claw_tier_aggregate` | clawtierbaseline mode=detect")
    options = dict(re.findall(r"(\w+)=(\S+)", detect.split("clawtierbaseline", 1)[1]))
    assert int(options["min_count"]) == tiers.PARAMS["min_count"][0]
    assert float(options["min_score"]) == tiers.PARAMS["min_score"][0]
    tunable = one_line(macros["claw_tier_baseline_detect(2)"]["definition"])
    assert "min_count=$min_count$ min_score=$min_score$" in tunable


def test_training_saved_search():
    search = stanzas("savedsearches.conf")["Claw - Tier Baseline - Train"]
    spl = one_line(search["search"])
    assert spl.startswith("`claw_runtime_index` | `claw_tier_aggregate` | clawtierbaseline mode=train")
    assert spl.endswith("| outputlookup " + tiers.BASELINE_LOOKUP)
    assert "merge=false" not in spl  # incremental: merges into the existing baseline
    assert search["disabled"] == "1" and search["enableSched"] == "1" and search["cron_schedule"].strip()
    assert (search["dispatch.earliest_time"], search["dispatch.latest_time"]) == ("-1d@d", "@d")


def test_searchbnf_and_commands_conf_list_every_option():
    with open(os.path.join(paths.APP_BIN, "clawtierbaseline.py"), encoding="utf-8") as handle:
        options = re.findall(r"^    (\w+) = Option\(", handle.read(), re.M)
    assert "mode" in options and len(options) >= 10
    syntax = stanzas("searchbnf.conf")["clawtierbaseline-command"]["syntax"]
    for option in options:
        assert option + "=" in syntax, option
    assert set(tiers.PARAMS) <= set(options)
    command = stanzas("commands.conf")["clawtierbaseline"]
    assert command["filename"] == "clawtierbaseline.py" and command["chunked"] == "true"


def test_lookup_definitions_point_at_files_the_app_never_ships():
    """Site and generated tables are created on first use: an upgrade cannot overwrite them."""
    transforms = stanzas("transforms.conf")
    for stanza, filename in (("claw_tier_baseline", tiers.BASELINE_LOOKUP),
                             ("claw_host_tiers", tiers.HOST_TIERS_LOOKUP)):
        assert transforms[stanza]["filename"] == filename
        assert not os.path.exists(os.path.join(paths.APP_LOOKUPS, filename))
    # Splunk matches hostnames without case, as load_host_tiers does
    assert transforms["claw_host_tiers"]["case_sensitive_match"] == "false"


def test_trusted_namespaces_macro_reaches_train_and_detect():
    """Pod labels are attacker-written: the shipped default trusts no namespace, and the
    site's list (local/macros.conf) reaches training and detection alike."""
    macros = stanzas("macros.conf")
    default = macros["claw_tier_trusted_namespaces"]["definition"].strip()
    assert default == 'trusted_namespaces=""'
    assert tiers.check_params({"trusted_namespaces": ""})["trusted_namespaces"] == frozenset()
    for name in ("claw_tier_baseline_detect", "claw_tier_baseline_detect(2)"):
        assert "`claw_tier_trusted_namespaces`" in one_line(macros[name]["definition"]), name
    train = one_line(stanzas("savedsearches.conf")["Claw - Tier Baseline - Train"]["search"])
    assert "clawtierbaseline mode=train `claw_tier_trusted_namespaces`" in train


def test_node_label_macro_reaches_train_and_detect():
    """The node label that names a node's tier: one macro (default tier) for training and detection."""
    macros = stanzas("macros.conf")
    assert macros["claw_tier_node_label"]["definition"].strip() == 'node_tier_label="tier"'
    assert tiers.PARAMS["node_tier_label"][0] == "tier"
    for name in ("claw_tier_baseline_detect", "claw_tier_baseline_detect(2)"):
        assert "`claw_tier_node_label`" in one_line(macros[name]["definition"]), name
    train = one_line(stanzas("savedsearches.conf")["Claw - Tier Baseline - Train"]["search"])
    assert "`claw_tier_node_label`" in train
    # the tier detection's base search lets the heartbeats through to claw_tier_aggregate
    rule = one_line(stanzas("savedsearches.conf")["Claw - Attestation Spike Outside Tier - Rule"]["search"])
    assert 'event_type="agent_heartbeat"' in rule.split("|")[0]
