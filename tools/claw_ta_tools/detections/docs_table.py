"""The detection tables of docs/detections.md, written from ``definitions.py``.

``python -m claw_ta_tools.detections.generate`` puts them between the Markdown
markers below (the same run that writes the conf blocks), so the page and the
saved searches cannot drift apart (tests/test_docs.py, ``--check``).
"""
from claw_ta.detections import definitions as defs

BEGIN = "<!-- BEGIN GENERATED: claw_ta.detections (python -m claw_ta_tools.detections.generate) -->"
END = "<!-- END GENERATED: claw_ta.detections -->"
SCENARIO_LINK = "[`%s`](../scenarios/%s/)"


def _cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def _scenarios(names):
    return ", ".join(SCENARIO_LINK % (name, name) for name in names) or "-"


def detection_rows():
    lines = ["| `detection_id` | fires on | alerts in | severity | entity fields (throttle: also the pinned ones) | ATT&CK |",
             "|---|---|---|---|---|---|"]
    for d in defs.DETECTIONS:
        lines.append("| `%s` | %s | %s | %s | %s | %s |" % (
            d.id, _cell(d.fires_on), "prod" if d.prod_only else "any", d.severity,
            ", ".join(d.entity_fields) + "".join(" (pinned: %s)" % f for f in d.pin_fields), ", ".join(d.mitre)))
    return lines


def scenario_rows():
    lines = ["| `detection_id` | scenarios whose `expected.jsonl` names it | benign scenarios where it must stay quiet |",
             "|---|---|---|"]
    for d in defs.DETECTIONS:
        lines.append("| `%s` | %s | %s |" % (d.id, _scenarios(d.scenarios), _scenarios(d.quiet_in)))
    return lines


def docs_block():
    """The generated block, markers included, ending with a newline."""
    parts = [BEGIN, ""] + detection_rows() + ["", "Tested by (scenarios under `scenarios/`):", ""]
    parts += scenario_rows() + ["", END]
    return "\n".join(parts) + "\n"
