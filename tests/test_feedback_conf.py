"""The shipped configuration of claw_policy_feedback agrees with its code:
alert_actions.conf, the .spec files, the alert form, the KV store collection,
its lookup definition and the review dashboard."""
import os
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from claw_ta.feedback import action, splunkd
from tests import conf, paths

README = os.path.join(paths.APP, "README")
VIEW = os.path.join(paths.APP_DEFAULT, "data", "ui", "views", "claw_policy_proposals.xml")
FORM = os.path.join(paths.APP_DEFAULT, "data", "ui", "alerts", "claw_policy_feedback.html")
ALLOWLIST_COLUMNS = "detection_id subject_digest library_path namespace image_ref expires reason".split()


def stanza(name, file="alert_actions.conf", folder=paths.APP_DEFAULT):
    return conf.parse(os.path.join(folder, file))[name]


def spec_keys(path):
    with open(path, encoding="utf-8") as handle:
        return [line.split("=", 1)[0].strip() for line in handle
                if "=" in line and not line.startswith(("#", "*", " "))]


def test_conf_defaults_are_the_code_defaults():
    action_conf = stanza("claw_policy_feedback")
    params = {k[len("param."):]: v for k, v in action_conf.items() if k.startswith("param.")}
    assert params == action.DEFAULTS
    assert action_conf["payload_format"] == "json" and action_conf["is_custom"] == "1"
    assert action_conf["python.required"] == "3.9, 3.13"
    assert not any("token" in k or "password" in k for k in action_conf), "the token never lives in a conf file"


def test_every_parameter_is_documented_and_in_the_form():
    documented = spec_keys(os.path.join(README, "alert_actions.conf.spec"))
    saved = spec_keys(os.path.join(README, "savedsearches.conf.spec"))
    names = []

    class Names(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            assert tag != "script"
            if tag in ("input", "select", "textarea"):
                names.append(attrs.get("name"))

    with open(FORM, encoding="utf-8") as handle:
        Names().feed(handle.read())
    for param in action.DEFAULTS:
        assert "param." + param in documented, param
        assert "action.claw_policy_feedback.param." + param in saved, param
        assert "action.claw_policy_feedback.param." + param in names, param
    assert "action.claw_policy_feedback" in saved


def test_collection_and_lookup_definition_match_the_records():
    collection = stanza("claw_policy_proposals", "collections.conf")
    assert collection["replicate"] == "false"
    assert [k[len("field."):] for k in collection if k.startswith("field.")] == list(splunkd.RECORD_FIELDS)
    lookup = stanza("claw_policy_proposals", "transforms.conf")
    assert lookup["external_type"] == "kvstore" and lookup["collection"] == "claw_policy_proposals"
    assert [f.strip() for f in lookup["fields_list"].split(",")] == ["_key"] + list(splunkd.RECORD_FIELDS)
    record = splunkd.record_of({
        "idempotency_key": "f" * 64, "detection": {"id": "d", "severity": "s", "search_name": "n"},
        "entity": {n: n for n in ("subject_digest", "image_digest", "image_ref", "library_path",
                                  "library_digest", "namespace", "host")},
        "change": {"action": "require_slsa", "target": {"namespace": "namespace"}, "params": {"min_slsa_level": 2}},
        "evidence": {"first_seen": "a", "last_seen": "b", "result_count": 1, "sid": "x"}}, "now")
    assert set(record) - {"_key"} <= set(splunkd.RECORD_FIELDS)


def _queries():
    root = ET.parse(VIEW).getroot()
    assert root.tag == "form" and root.get("version") == "1.1"
    assert root.get("script") is None and root.get("stylesheet") is None
    return [q.text for q in root.iter("query")]


def test_dashboard_quotes_every_user_token():
    user_tokens = {"status_tok", "key_tok", "decision_tok", "days_tok", "note_tok", "kv_go", "env:user"}
    for query in _queries():
        for token in re.findall(r"\$([^$\s]+)\$", query):
            name = token.split("|")[0]
            assert name in user_tokens, token
            assert token.endswith("|s"), "token %s is not quoted with |s in: %s" % (token, query)


def test_dashboard_never_overwrites_a_whole_lookup():
    writes = 0
    for query in _queries():
        for match in re.finditer(r"outputlookup\s+([^\n|]+)", query):
            args = match.group(1).split()
            assert args[0] in ("claw_policy_proposals", "claw_allowlist"), args
            assert "append=true" in args, "outputlookup without append=true rewrites the lookup: %s" % query
            writes += 1
            if args[0] == "claw_allowlist":
                table = re.search(r"\|\s*table\s+([^\n|]+)\n\|\s*outputlookup claw_allowlist", query)
                assert table and table.group(1).split() == ALLOWLIST_COLUMNS
            else:
                fields = re.search(r"\|\s*fields\s+([^\n|]+)\n\|\s*outputlookup claw_policy_proposals", query)
                assert fields and fields.group(1).split() == ["_key"] + list(splunkd.RECORD_FIELDS)
    assert writes == 2


def test_allowlist_lookup_columns_are_the_contract():
    path = os.path.join(paths.APP_LOOKUPS, "claw_allowlist.csv")
    if os.path.exists(path):  # shipped by the detections issue
        with open(path, encoding="utf-8") as handle:
            assert handle.readline().strip().split(",") == ALLOWLIST_COLUMNS
