"""The detection definitions as named data, and the scenarios each one names.

Every detection lists the scenario folders that test it (``scenarios``: those whose
expected.jsonl names it) and the benign scenarios where it must stay quiet
(``quiet_in``); these tests hold both lists to the folders under scenarios/.
"""
import glob
import inspect
import json
import os

import pytest

from claw_ta.detections import definitions as defs
from claw_ta.detections.detection import Detection
from claw_ta_tools.detections.scenario import Scenario
from tests import paths

FOLDERS = sorted(os.path.basename(os.path.dirname(d)) for d in glob.glob(os.path.join(paths.SCENARIOS, "*", "")))


def _named_in_expected(folder):
    path = os.path.join(paths.SCENARIOS, folder, "expected.jsonl")
    if not os.path.exists(path):
        return set()
    with open(path, encoding="utf-8") as handle:
        return {json.loads(line)["detection_id"] for line in handle if line.strip()}


EXPECTED = dict((folder, _named_in_expected(folder)) for folder in FOLDERS)


def test_every_field_is_keyword_only():
    """A definition cannot be written with positions: the language refuses it."""
    parameters = inspect.signature(Detection.__init__).parameters.values()
    assert [p.name for p in parameters if p.kind is not p.KEYWORD_ONLY] == ["self"]
    with pytest.raises(TypeError):
        Detection("x_id", "Title", "Description.", "fires", [], [], "low", 1, [], [])  # noqa


def test_ids_are_unique_and_named_like_their_macros():
    ids = [d.id for d in defs.DETECTIONS]
    assert len(ids) == len(set(ids)) == len(defs.BY_ID)
    for d in defs.DETECTIONS:
        assert d.id.startswith("claw_") and d.filter_macro == d.id + "_filter"
        assert d.severity in defs.SEVERITY_LEVELS and d.fires_on and d.description


@pytest.mark.parametrize("detection", defs.DETECTIONS, ids=lambda d: d.id)
def test_scenarios_are_exactly_the_folders_that_expect_the_detection(detection):
    named = sorted(folder for folder, ids in EXPECTED.items() if detection.id in ids)
    assert sorted(detection.scenarios) == named, \
        "%s: scenarios= must list the folders whose expected.jsonl names it" % detection.id
    assert any(name.startswith("attack-") for name in detection.scenarios), \
        "%s: no attack scenario tests it" % detection.id


@pytest.mark.parametrize("detection", defs.DETECTIONS, ids=lambda d: d.id)
def test_quiet_in_are_benign_scenarios_with_events_the_detection_reads(detection):
    base = detection.stages[0]
    for name in detection.quiet_in:
        assert name in FOLDERS, "%s: quiet_in names %s, which is not a folder under scenarios/" % (detection.id, name)
        assert name.startswith("benign-"), name
        assert detection.id not in EXPECTED[name], "%s expects %s: list it in scenarios=" % (name, detection.id)
        scenario = Scenario(os.path.join(paths.SCENARIOS, name))
        read = any(e.get("event_type") in base.event_types and base.accept(e, None) for e in scenario.events())
        assert read, "%s: %s has no event its base search reads, so it proves nothing" % (detection.id, name)


def test_every_benign_scenario_is_named_by_a_detection():
    listed = set()
    for d in defs.DETECTIONS:
        listed.update(d.quiet_in + d.scenarios)
    assert sorted(f for f in FOLDERS if f.startswith("benign-") and f not in listed) == []
