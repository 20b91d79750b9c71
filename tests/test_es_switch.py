"""Enterprise Security's actions are on only where ES is installed.

``action.notable`` and ``action.risk`` are alert actions that Splunk Enterprise
Security defines (its alert_actions.conf); on a search head without ES a
saved search that enables them asks the scheduler for an action that does not
exist. savedsearches.conf spec, ``action.<action_name> = <boolean>`` ("Enable
or disable the alert action"):
https://help.splunk.com/en/data-management/splunk-enterprise-admin-manual/10.0/10.0.0-configuration-file-reference/savedsearches.conf
The shipped searches enable no action that Splunk or this add-on does not
define; the switch for ES search heads is a generated file of local/ stanzas
(README/enterprise_security_savedsearches.conf.example), documented in
docs/detections.md. Local settings override default ones key by key
(configuration file precedence):
https://help.splunk.com/data-management/splunk-enterprise-admin-manual/9.1/administer-splunk-enterprise-with-configuration-files/configuration-file-precedence
"""
import os

from claw_ta import conffile as conf
from claw_ta_tools.detections import generate
from tests import paths

# Actions every Splunk Enterprise and Cloud search head defines (system/default/alert_actions.conf).
SPLUNK_ACTIONS = {"email", "script", "lookup", "logevent", "webhook", "rss", "summary_index", "populate_lookup"}
ES_FILE = os.path.join(paths.APP, "README", generate.ES_FILE)


def _enabled_actions(stanza):
    return set(key[len("action."):] for key, value in stanza.items()
               if key.startswith("action.") and key.count(".") == 1 and value.strip() in ("1", "true"))


def test_no_shipped_search_enables_an_action_splunk_or_the_add_on_does_not_define():
    own = set(n for n in conf.app_conf("alert_actions") if n != "default")
    saved = conf.app_conf("savedsearches")
    unknown = dict((name, _enabled_actions(s) - SPLUNK_ACTIONS - own) for name, s in saved.items())
    assert dict((k, v) for k, v in unknown.items() if v) == {}


def test_the_es_switch_turns_on_notable_and_risk_for_every_rule_with_the_shipped_parameters():
    default = conf.app_conf("savedsearches")
    local = conf.parse(ES_FILE)
    rules = [name for name, s in default.items() if "action.notable.param.rule_title" in s]
    assert len(rules) >= 10 and sorted(local) == sorted(rules)
    for name in rules:
        merged = dict(default[name], **local[name])  # local over default, key by key
        assert merged["action.notable"] == "1"
        assert merged["action.correlationsearch.enabled"] == "1"
        if "action.risk.param._risk" in default[name]:
            assert merged["action.risk"] == "1" and merged["action.risk.param._risk"]
        assert set(local[name]) <= {"action.notable", "action.risk"}  # only the switch, nothing to drift


def test_the_switch_is_generated_and_documented():
    assert generate.main(["--check"]) == 0
    with open(ES_FILE, encoding="utf-8") as handle:
        assert "local/savedsearches.conf" in handle.read()
    with open(os.path.join(paths.REPO, "docs", "detections.md"), encoding="utf-8") as handle:
        assert generate.ES_FILE in handle.read()
