"""The allowlist rules in SPL equal the Python ones (claw_ta_tools.detections.allowlist_spl vs claw_ta.allowlist).

The ``where`` and ``case`` expressions of the generated macros are run with the
test eval interpreter (tools/claw_ta_tools/emulators/spl_eval.py: ``match`` is PCRE, as Splunk's
``match()``: https://help.splunk.com/en/splunk-enterprise/spl-search-reference/9.4/evaluation-functions/conditional-and-comparison-functions)
on the same rows ``validate_row`` judges, attacker rows included.
"""
import os
import re

import pytest

from claw_ta import allowlist as al
from claw_ta import conffile as conf
from claw_ta_tools.detections import allowlist_spl as spl
from claw_ta_tools.detections import generate
from claw_ta_tools.emulators.spl_eval import compile_expression
from tests import paths

D1 = "sha256:" + "a" * 64
ROWS = [
    {"detection_id": "claw_unlisted_library_load", "library_path": "/tmp/a.so"},
    {"detection_id": "*", "library_path": "/opt/datadog-packages/*"},
    {"detection_id": "claw_unlisted_*", "library_path": "/tmp/x.so", "library_digest": D1},
    {"detection_id": "claw_sensor_silent", "host": "node-1"},
    {"detection_id": "claw_sensor_silent"},
    {"detection_id": "", "library_path": "/tmp/a.so"},
    {"detection_id": "claw_nope", "library_path": "/tmp/a.so"},
    {"detection_id": "(?i).*", "library_path": "/tmp/a.so"},
    {"detection_id": "*", "library_path": "*"},
    {"detection_id": "*", "library_path": "/*"},
    {"detection_id": "*", "namespace": "-*"},
    {"detection_id": "*", "library_path": '/tmp/"*'},
    {"detection_id": "*", "library_path": "/tmp/a\\b"},
    {"detection_id": "*", "library_path": "/tmp/a.so", "library_digest": "sha256:*"},
    {"detection_id": "*", "subject_digest": "SHA256:" + "A" * 64},
    {"detection_id": "*", "image_digest": "sha512:" + "c" * 128},
    {"detection_id": "*", "image_digest": D1 + " "},
]
EXPIRES = ["2027-06-30", "2027-06-30T10:00:00Z", "2027-06-30T10:00:00+00:00", "", "next year",
           "2027-01-01 00:00", "2027-01-01T00:00:00+02:00", "27-01-01", " 2027-06-30"]


def _fields(row):
    return dict((k, v) for k, v in row.items() if v != "")


@pytest.mark.parametrize("row", ROWS)
def test_where_clause_accepts_exactly_the_rows_validate_row_accepts(row):
    valid = compile_expression(spl.valid_expression())
    python = [e for e in al.validate_row(dict(row, expires="2027-06-30")) if "expires" not in e]
    assert bool(valid(_fields(row))) is (python == []), python


@pytest.mark.parametrize("row", ROWS)
def test_the_invalid_rows_report_names_a_problem_exactly_for_invalid_rows(row):
    problem = compile_expression(spl.problem_expression())
    for expires in EXPIRES:
        full = dict(row, expires=expires)
        end = al.expires_at(expires)
        fields = _fields(full)
        if end is not None:
            fields["claw_exp"] = str(end)
        assert (problem(fields) is None) is (al.validate_row(full) == []), (full, problem(fields))


def test_expiry_forms_of_the_spl_are_those_python_parses():
    day, instant = re.findall(r'match\(coalesce\(expires, ""\), "([^"]+)"\)', spl.EXPIRES_EVAL)
    for text in EXPIRES + ["2027-02-30"]:
        spl_form = re.search(day.replace("\\\\", "\\"), text) or re.search(instant.replace("\\\\", "\\"), text)
        python = al.expires_at(text) is not None
        # Python also rejects impossible dates (2027-02-30), which strptime might roll over
        assert bool(spl_form) >= python, text


def test_the_macros_conf_holds_the_generated_allowlist_macros():
    macros = conf.parse(os.path.join(paths.APP_DEFAULT, "macros.conf"))
    rows = macros["claw_allowlist_rows(1)"]
    assert rows["args"] == "detection_id"
    assert rows["definition"] == spl.ALLOWLIST_ROWS == generate.ALLOWLIST_ROWS
    assert macros["claw_allowlist_invalid"]["definition"] == spl.INVALID_ROWS
    # every entity column reaches `format`, digest pins included
    assert "fields detection_id " + " ".join(al.ENTITY_FIELDS) in spl.ALLOWLIST_ROWS


def test_every_detection_reads_site_rows_before_the_shipped_defaults():
    searches = conf.parse(os.path.join(paths.APP_DEFAULT, "savedsearches.conf"))
    for name, keys in searches.items():
        query = keys.get("search", "")
        for table in ("claw_namespace_env", "claw_image_env"):
            site = query.find("lookup %s " % table)
            if site < 0:
                continue
            default = query.find("lookup %s_default " % table, site)
            assert default > site, name
            assert "OUTPUTNEW" in query[default:query.find("|", default)], name
