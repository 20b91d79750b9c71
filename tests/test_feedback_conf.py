"""The shipped configuration of claw_policy_feedback agrees with its code:
alert_actions.conf, the .spec files, the alert form, the KV store collections
and their lookup definitions (the review dashboard: test_review_content.py)."""
import os
from html.parser import HTMLParser

from claw_ta.feedback import action, splunkd
from claw_ta import conffile as conf
from tests import paths

README = os.path.join(paths.APP, "README")
FORM = os.path.join(paths.APP_DEFAULT, "data", "ui", "alerts", "claw_policy_feedback.html")


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


def test_decisions_collection_and_lookup_definition_match_the_decision_record():
    from claw_ta.review import decide
    record = decide.decision_record({"key": "f" * 64, "decision": "reject", "reason": "r", "expires": "",
                                     "scope": None}, {"change": {"action": "investigate"}}, "alice", 0)
    collection = stanza("claw_policy_decisions", "collections.conf")
    assert collection["replicate"] == "false"
    assert [k[len("field."):] for k in collection if k.startswith("field.")] == [k for k in record if k != "_key"]
    lookup = stanza("claw_policy_decisions", "transforms.conf")
    assert [f.strip() for f in lookup["fields_list"].split(",")] == list(record)
