"""How Splunk runs the app's searches, as content rules (docs/dashboards.md, content checks): no risky command in
a dashboard search, no append/join subsearch in a scheduled correlation search.

The lists they use are in tools/claw_ta_tools/emulators/spl_lint.py (risky commands, subsearch joins);
tests/test_content_integrity.py applies the rules to the shipped content and
tests/test_spl_lint.py feeds them broken content.
"""
import os

from claw_ta_tools.emulators import spl_lint
from claw_ta_tools.emulators.app_content import is_detection


# Dashboard searches allowed to run a risky command: {(view file, command): why}.
# None: the review dashboard writes through its REST endpoint, not a search.
RISKY_IN_DASHBOARD_EXEMPT = {}


def dashboard_risky_problems(searches, content):
    """Dashboard searches that run a risky command (SPL safeguards), unless exempted by name."""
    problems = []
    for search in searches:
        if not search.origin.endswith(".xml"):
            continue
        view = os.path.basename(search.origin)
        segments = spl_lint.split_pipeline(content.expand(search.spl))
        for command in spl_lint.risky_commands(segments, content.risky_commands):
            if (view, command) not in RISKY_IN_DASHBOARD_EXEMPT:
                problems.append("%s [%s]: risky command %s in a dashboard search" % (view, search.name, command))
    return problems


def is_scheduled_correlation(search, content):
    """A scheduled saved search that alerts (a detection or a correlation of detections)."""
    return (search.origin == "savedsearches.conf"
            and search.conf.get("enableSched", "0").strip().lower() in ("1", "true")
            and is_detection(search, content))


def subsearch_join_problems(searches, content):
    """Scheduled correlation searches must not combine results through append/join subsearches."""
    problems = []
    for search in searches:
        if not is_scheduled_correlation(search, content):
            continue
        for found in spl_lint.subsearch_joins(spl_lint.split_pipeline(content.expand(search.spl))):
            problems.append("%s: %s: a subsearch stops at the subsearch limits without an error"
                            % (search.name, found))
    return problems
