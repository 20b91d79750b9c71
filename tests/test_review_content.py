"""The review dashboard cannot decide anything by itself.

- No search of the dashboard runs a risky command (the list of commands that
  trigger SPL safeguards:
  https://help.splunk.com/en/splunk-enterprise/administer/manage-users-and-security/10.2/best-practices-for-splunk-platform-security/spl-safeguards-for-risky-commands/commands-that-trigger-spl-safeguards),
  so no panel waits on a warning and no panel writes.
- No search uses a token at all (a value from the URL or a form input cannot
  reach SPL: ``|s`` does not escape backslashes); no token is set on load
  (``<init>``) and there is no decision input, so a crafted link cannot make
  a decision.
- The only writes are the POSTs of claw_review.js, sent from the buttons'
  click handler with Splunk Web's X-Splunk-Form-Key header
  (``splunkUtil.getFormKey()``), naming the fingerprint of the proposal shown
  (or, for Revoke, the revision of the decision shown).
"""
import os
import re
import xml.etree.ElementTree as ET

import pytest

from tests import paths

VIEW = os.path.join(paths.APP_DEFAULT, "data", "ui", "views", "claw_policy_proposals.xml")
SCRIPT = os.path.join(paths.APP, "appserver", "static", "claw_review.js")
RISKY = ("collect", "delete", "dump", "map", "mcollect", "meventcollect", "outputcsv", "outputlookup", "run",
         "runshellscript", "script", "sendalert", "sendemail", "tscollect", "fit")


def commands(query):
    """The command names of a search (after each pipe, at the start, in subsearches)."""
    return re.findall(r"(?:^|\||\[)\s*([A-Za-z_]+)", query)


def test_command_finder_sees_hidden_risky_commands():
    found = commands('| inputlookup x | eval a="b" |outputlookup y\n| append [ collect index=z ]')
    assert {"inputlookup", "eval", "outputlookup", "append", "collect"} <= set(found)


def view():
    return ET.parse(VIEW).getroot()


def test_no_search_runs_a_risky_command_or_uses_a_token():
    queries = [q.text or "" for q in view().iter("query")]
    assert len(queries) == 4  # proposals, decisions, audit trail, allowlist
    for query in queries:
        risky = sorted(set(commands(query)) & set(RISKY))
        assert not risky, "risky command %s in: %s" % (risky, query)
        assert "$" not in query, "a token reaches SPL: %s" % query


def test_no_token_is_set_on_load_and_no_decision_input():
    root = view()
    assert root.find("init") is None and root.find("fieldset") is None
    assert [i for i in root.iter("input") if i.get("token")] == []  # no form input (the HTML panel's are not tokens)
    sets = [s.get("token") for s in root.iter("set")] + [u.get("token") for u in root.iter("unset")]
    assert sets == ["selected_key"]  # set by a click on a row (drilldown), nothing else
    (drilldown,) = root.iter("drilldown")
    assert drilldown.find("set").text == "$row.key$"
    for search in root.iter("search"):
        assert search.find("done") is None and search.find("progress") is None
    assert root.get("script") == "claw_review.js"


def _script():
    with open(SCRIPT, encoding="utf-8") as handle:
        return handle.read()


def _calls(text, name):
    return [m.start() for m in re.finditer(r"\b%s\(" % re.escape(name), text)]


def test_the_script_posts_only_from_a_click_with_the_form_key():
    text = _script()
    posts = [m.start() for m in re.finditer(r"type:\s*'POST'", text)]
    assert len(posts) == 1
    decide = text.index("function decide(")
    end = text.index("\n    }\n", decide)
    assert decide < posts[0] < end, "the POST is not inside decide()"
    callers = [i for i in _calls(text, "decide") if i != decide + len("function ")]
    assert len(callers) == 1
    handler = text.rindex(".on('click'", 0, callers[0])
    assert text[handler:callers[0]].count("function") == 1, "decide() is called outside the click handler"
    # Splunk Web's own form key, not a cookie parsed by hand (the cookie's name depends on the port)
    assert "'X-Splunk-Form-Key': splunkUtil.getFormKey()" in text and "document.cookie" not in text
    assert "body.seen = selected.seen" in text and "body.revision = selected.revision" in text
    assert "contentType: 'application/json'" in text
    assert "/splunkd/__raw/services/claw/review" in text
    assert "tokens.unset('selected_key')" in text  # a proposal selected by the URL is cleared on load
    assert ".html(" not in text and "innerHTML" not in text  # values are shown as text


@pytest.mark.parametrize("bad", ["<script>alert(1)</script>", "onclick="])
def test_the_html_panel_has_no_inline_script(bad):
    with open(VIEW, encoding="utf-8") as handle:
        assert bad not in handle.read()


def test_the_buttons_include_revoke_and_the_tables_show_what_no_longer_suppresses():
    root = view()
    buttons = {b.get("data-decision") for b in root.iter("button")}
    assert buttons == {"approve", "reject", "allowlist", "revoke"}
    queries = [s.find("query").text for s in root.iter("search")]
    proposals = queries[0]
    assert "lookup claw_allowlist proposal_key AS key" in proposals and "allowlist_missing" in proposals
    assert any("inputlookup claw_policy_audit" in q for q in queries)
