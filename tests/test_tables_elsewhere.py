"""A table the commands read, created in another app, is reported.

`| clawtierbaseline` and `| clawsbomcheck` read their tables from the
add-on's own `lookups/` folder. `| outputlookup claw_host_tiers.csv` run in
another app (or kept private to a user) creates a file of that name elsewhere,
which the command never sees. The health search "Claw - Tables Outside The
Add-on" lists such files from the lookup-table-files REST endpoint
(`/servicesNS/-/-/data/lookup-table-files`: one entry per lookup file with
`title` and the ACL fields `eai:acl.app`, `eai:acl.sharing`, `eai:acl.owner`;
REST API reference, knowledge endpoints:
https://docs.splunk.com/Documentation/Splunk/latest/RESTREF/RESTknowledge).
Its `where` clause is run here on such entries; the endpoint's answer itself
is not checked without a Splunk.
"""
import os
import re

from claw_ta import APP_NAME
from claw_ta import conffile as conf
from claw_ta_tools.emulators import spl_eval
from claw_ta_tools.lookups import STATE_FILES
from tests import paths

NAME = "Claw - Tables Outside The Add-on"
FILE_TABLES = [n for n in STATE_FILES if n not in ("claw_allowlist.csv", "claw_namespace_env.csv",
                                                   "claw_image_env.csv")]  # the rest live in the KV store


def _search():
    return conf.app_conf("savedsearches")[NAME]


def _where(search):
    clauses = re.findall(r"\|\s*where\s+(.+?)\s*(?:\\\n)?(?=\||$)", search.replace(" \\\n", " "))
    assert len(clauses) == 1, clauses
    return spl_eval.compile_expression(clauses[0])


def test_the_health_search_exists_reads_the_rest_endpoint_and_ships_disabled():
    stanza = _search()
    assert stanza["disabled"] == "1" and stanza["enableSched"] == "1" and stanza["cron_schedule"]
    assert "/servicesNS/-/-/data/lookup-table-files" in stanza["search"]


def test_it_names_every_file_table_the_commands_read():
    found = set(re.findall(r'"(claw_[a-z_]+\.csv)"', _search()["search"]))
    transforms = conf.app_conf("transforms")
    files = set(s["filename"] for s in transforms.values() if "filename" in s)
    assert set(FILE_TABLES) <= files
    assert found == set(FILE_TABLES)


def test_tables_in_other_apps_or_private_to_a_user_are_reported_and_the_add_ons_own_are_not():
    where = _where(_search()["search"])
    rows = [
        ({"title": "claw_host_tiers.csv", "eai:acl.app": "search", "eai:acl.sharing": "app"}, True),
        ({"title": "claw_tier_baseline.csv", "eai:acl.app": "search", "eai:acl.sharing": "global"}, True),
        ({"title": "claw_host_tiers.csv", "eai:acl.app": APP_NAME, "eai:acl.sharing": "user"}, True),
        ({"title": "claw_host_tiers.csv", "eai:acl.app": APP_NAME, "eai:acl.sharing": "app"}, False),
        ({"title": "claw_sbom_subjects.csv", "eai:acl.app": APP_NAME, "eai:acl.sharing": "global"}, False),
        ({"title": "other.csv", "eai:acl.app": "search", "eai:acl.sharing": "app"}, False),
        ({"title": "claw_namespace_env_default.csv", "eai:acl.app": "search", "eai:acl.sharing": "app"}, False),
    ]
    for row, reported in rows:
        assert bool(where(row)) is reported, row


def test_the_docs_say_where_each_table_is_created():
    with open(os.path.join(paths.REPO, "docs", "tuning.md"), encoding="utf-8") as handle:
        text = handle.read()
    assert NAME in text
    for table in FILE_TABLES:
        assert table in text, table
