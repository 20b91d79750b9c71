"""Every regex of props.conf and transforms.conf stays within PCRE's depth limit on megabyte inputs.

Splunk runs these regexes with PCRE and a backtracking depth limit
(transforms.conf DEPTH_LIMIT, default 1000:
https://help.splunk.com/en/data-management/splunk-enterprise-admin-manual/10.0/10.0.0-configuration-file-reference/transforms.conf);
a regex that needs a level per character fails on a long event, silently (a
field not set, a break not found). The inputs are workload-shaped: a long
path of slashes, a long JSON line, a CRI block of partials, a line of
newlines.
"""
import json
import re

import pytest

from claw_ta_tools.emulators import pcre2
from claw_ta_tools.emulators import props_emulator as pe
from tests.test_props_index_time import claw_line, cri

pytestmark = pytest.mark.skipif(not pcre2.available(),
                                reason="libpcre2-8 is not installed: PCRE's depth limit cannot be checked")

SIZE = 1 << 20


def regex_arguments(expression):
    """The string-literal second argument of every match() / replace() call in an eval expression."""
    out = []
    for call in re.finditer(r"\b(?:match|replace)\(", expression):
        commas, close = pe.commas_outside(expression, call.end())
        if commas:
            end = commas[1] if len(commas) > 1 else close
            argument = expression[commas[0] + 1:end].strip()
            if argument.startswith('"') and argument.endswith('"'):
                out.append(argument[1:-1].replace('\\"', '"').replace("\\\\", "\\"))
    return out


def all_regexes():
    """(where, regex) of every regex the two files hand to PCRE."""
    found = []
    for name, stanza in list(pe.PROPS.items()) + list(pe.TRANSFORMS.items()):
        for key, value in stanza.items():
            if key in ("LINE_BREAKER", "EVENT_BREAKER", "TIME_PREFIX", "REGEX"):
                found.append(("%s %s" % (name, key), value))
            elif key.startswith("EXTRACT-"):
                found.append(("%s %s" % (name, key), value.rpartition(" in ")[0] or value))
            elif key.startswith("EVAL-") or key == "INGEST_EVAL":
                for regex in regex_arguments(value):
                    found.append(("%s %s" % (name, key), regex))
    return found


def subjects():
    path = "/" * SIZE
    return {
        "slashes": path,
        "json": claw_line("big", library_path="/tmp/" + "a/" * (SIZE // 2)),
        "cri": cri(claw_line("big", reason="x" * SIZE)),
        "newlines": "\n" * SIZE,
        "escaped": json.dumps({"log": claw_line("e", reason='\\"' * (SIZE // 4))}),
    }


def test_the_regexes_are_found():
    where = [w for w, _ in all_regexes()]
    assert len(where) >= 10
    assert any("LINE_BREAKER" in w for w in where) and any("INGEST_EVAL" in w for w in where)
    assert any("EVAL-loaded_file" in w for w in where) and any("EXTRACT-cri_file" in w for w in where)


@pytest.mark.parametrize("shape", sorted(subjects()))
def test_no_regex_hits_the_depth_limit(shape):
    subject = subjects()[shape]
    failed = [(where, regex[:60]) for where, regex in all_regexes()
              if pcre2.match(regex, subject) == pcre2.ERROR_DEPTHLIMIT]
    assert failed == []


def test_the_check_can_fail():
    assert pcre2.match(r"^(?:a|b)*c", "a" * 5000) == pcre2.ERROR_DEPTHLIMIT
