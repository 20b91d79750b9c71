"""The Studio overview rendered by Splunk's renderer in headless Chromium, on the bundled scenarios.

Each data source of the shipped definition is replaced by ``ds.test`` rows that
the replay computes from scenarios/ (claw_ta_tools/dashboards/rows.py); the
dev-only tool in tools/dashboard-render draws it at a fixed viewport in the
light and dark themes, and every panel is judged from the page's content
(claw_ta_tools/dashboards/render.py): a data source that does not exist only
shows a placeholder and logs nothing. The screenshots go to docs/img/.

The tests that render need tools/dashboard-render/node_modules (``npm ci``) and
Chromium (``apt-get install -y chromium``); .ci/run installs both. Elsewhere they
skip and say why. The rows and the judging logic are tested without them.
"""
import copy
import glob
import json
import os
import re
import struct

import pytest

from claw_ta_tools.dashboards import generate, overview, render, rows, studio
from claw_ta_tools.emulators import spl_eval
from tests import paths

DOCS_IMG = os.path.join(paths.REPO, "docs", "img")
THEMES = ("light", "dark")


@pytest.fixture(scope="module")
def shipped():
    with open(generate.VIEW_PATH, encoding="utf-8") as handle:
        definition = studio.parse_view(handle.read())[3]
    data, problems = rows.data_for(definition, sorted(glob.glob(os.path.join(paths.SCENARIOS, "*", ""))))
    return definition, data, problems


@pytest.fixture(scope="module")
def renderer(tmp_path_factory):
    why = render.missing_tools()
    if why:
        pytest.skip("render test skipped: %s" % why)
    render.build_bundle()
    return str(tmp_path_factory.mktemp("render"))


def _png_size(path):
    with open(path, "rb") as handle:
        head = handle.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])


# --- without the browser ------------------------------------------------------------

def test_every_data_source_gets_rows_in_its_own_field_names(shipped):
    definition, data, problems = shipped
    assert problems == []
    assert set(data) == set(definition["dataSources"])
    for ds_id, ds in definition["dataSources"].items():
        wanted = rows.table_fields(ds["options"]["query"])
        if wanted:  # the search's final | table, in its order
            assert data[ds_id]["fields"] == wanted, ds_id
    assert render.field_problems(definition, data) == []
    # The bundled scenarios give every panel rows, except the sensor filter drops (no
    # scenario holds an event the sensor filter rejects).
    empty = sorted(ds_id for ds_id, table in data.items() if not table["rows"])
    assert empty in ([], ["ds_filter_drops"]), empty


def test_rows_follow_the_replay(shipped):
    _, data, _ = shipped
    alerts = sum(int(v) for row in data["ds_alerts_detection"]["rows"] for k, v in row.items() if k != "_time")
    by_severity = sum(int(v) for row in data["ds_alerts_severity"]["rows"] for k, v in row.items() if k != "_time")
    assert alerts == by_severity > 0
    assert any(r["status"] == "silent" and r["agent_id"] == "claw-bm-db-02" for r in data["ds_sensor_health"]["rows"])
    unlisted = data["ds_unlisted"]["rows"]
    assert unlisted and all(r["sbom_status"] == "unlisted" and r["sbom_reason"] for r in unlisted)
    assert any(r["sbom_evidence"] == "files_sha256" for r in unlisted)
    assert [r["tier_status"] for r in data["ds_tier_spikes"]["rows"]] == ["outside_tier"]


def test_a_missing_field_is_reported_statically(shipped):
    definition, data, _ = shipped
    broken = copy.deepcopy(definition)
    broken["visualizations"]["viz_sensor_health"]["options"]["columnFormat"]["state"] = \
        broken["visualizations"]["viz_sensor_health"]["options"]["columnFormat"].pop("status")
    broken["visualizations"]["viz_unlisted"]["eventHandlers"][0]["options"]["tokens"][0]["key"] = "row.nosuch.value"
    found = render.field_problems(broken, data)
    assert any("viz_sensor_health" in p and "'state'" in p for p in found), found
    assert any("viz_unlisted" in p and "'nosuch'" in p for p in found), found
    query = broken["dataSources"]["ds_tier_spikes"]["options"]["query"]
    broken["dataSources"]["ds_tier_spikes"]["options"]["query"] = query + ", nosuch_field"
    assert any("nosuch_field" in p for p in rows.data_for(broken, [os.path.join(paths.SCENARIOS,
                                                                                "attack-sensor-silent")])[1])


def test_panel_judgement():
    definition = {"visualizations": {
        "t": {"type": "splunk.table", "dataSources": {"primary": "a"}},
        "c": {"type": "splunk.column", "dataSources": {"primary": "a"}},
        "e": {"type": "splunk.table", "dataSources": {"primary": "b"}}}}
    data = {"a": {"fields": ["x"], "rows": [{"x": "1"}]}, "b": {"fields": ["x"], "rows": []}}
    fine = {"found": True, "messages": [], "placeholder": False, "tableRows": 1, "chartPoints": 3,
            "majorValue": "", "text": "x"}
    report = {"t": dict(fine), "c": dict(fine), "e": dict(fine, tableRows=0, messages=["No data!"])}
    assert render.panel_problems(definition, data, report) == []
    report["t"]["placeholder"] = True
    report["c"]["chartPoints"] = 0
    report["e"]["messages"] = []
    found = render.panel_problems(definition, data, report)
    assert len(found) == 3 and "placeholder" in found[0] + found[1] + found[2]
    assert render.panel_problems(definition, data, {})[0].endswith("not rendered")


HOSTILE = 'x" | delete | search a="\\'  # quotes, a pipe, and a trailing backslash


def _doc_s(value):
    """|s as Splunk documents it: quotes around, the quotes inside escaped (Studio "Tokens":
    https://help.splunk.com/splunk-enterprise/create-dashboards-and-reports/dashboard-studio/10.0/make-dashboards-dynamic-and-interactive/tokens)."""
    return '"%s"' % value.replace('"', '\\"')


def _where_matches(subject_literal, library_literal, event):
    """The selected-loads panel's ``where`` with the tokens substituted by these literals,
    evaluated on ``event`` (claw_ta_tools.emulators.spl_eval; its equality is ``==``)."""
    where = [line for line in overview.SELECTED_LOADS.splitlines() if line.startswith("| where ")]
    assert len(where) == 1
    expr = where[0][len("| where "):].replace("$claw_sel_subject|s$", subject_literal)
    expr = expr.replace("$claw_sel_library|s$", library_literal)
    expr = re.sub(r"\b(subject_digest|library_path)=", r"\1==", expr)
    return spl_eval.compile_expression(expr)(event)


@pytest.mark.parametrize("escape", [_doc_s, json.dumps], ids=["documented |s", "renderer |s (JSON)"])
@pytest.mark.parametrize("path", ["/usr/lib/libc.so.6", "/tmp/a\\b.so", HOSTILE])
def test_the_selected_loads_filter_finds_the_clicked_path_under_either_s(escape, path):
    """The click passes the copy with backslashes doubled; whether |s escapes backslashes
    (the pinned renderer: JSON.stringify) or not (as documented), the panel keeps the
    clicked path's loads and no other path's (but its doubled twin under the JSON |s)."""
    subject = "sha256:" + "ab" * 32
    doubled = path.replace("\\", "\\\\")
    literals = (escape(subject), escape(doubled))
    assert _where_matches(*literals, {"subject_digest": subject, "library_path": path})
    assert not _where_matches(*literals, {"subject_digest": subject, "library_path": path + "x"})
    assert not _where_matches(*literals, {"subject_digest": subject + "0", "library_path": path})


# --- in the browser ---------------------------------------------------------------------

@pytest.mark.parametrize("theme", THEMES)
def test_every_panel_renders(shipped, renderer, theme):
    """The shipped overview, on the scenarios' rows, in both themes; the picture goes to docs/img/."""
    definition, data, _ = shipped
    os.makedirs(DOCS_IMG, exist_ok=True)
    shot = os.path.join(DOCS_IMG, "overview-%s.png" % theme)
    report = render.render(rows.with_test_sources(definition, data), theme, renderer, screenshot=shot)
    assert render.panel_problems(definition, data, report) == []
    assert report["viz_unlisted"]["tableRows"] == 10  # the table's first page
    assert report["viz_alerts_detection"]["chartPoints"] > 0
    assert _png_size(shot) == render.VIEWPORT


def test_the_render_check_fails_on_a_broken_definition(shipped, renderer):
    """An unknown visualization type, a data source that does not exist and a chart whose
    field is missing: each panel is reported, though the page logs nothing for the second."""
    definition, data, _ = shipped
    broken = copy.deepcopy(definition)
    broken["visualizations"]["viz_alerts_detection"]["type"] = "splunk.nosuch"
    broken["visualizations"]["viz_coverage"]["dataSources"]["primary"] = "ds_nosuch"
    broken["visualizations"]["viz_verdicts"]["options"]["y"] = "> primary | frameBySeriesNames('nosuch')"
    report = render.render(rows.with_test_sources(broken, data), "light", renderer)
    found = render.panel_problems(broken, data, report)
    assert any(p.startswith("viz_alerts_detection: shows") and "splunk.nosuch" in p for p in found), found
    assert any(p.startswith("viz_coverage:") and "placeholder" in p for p in found), found
    assert any(p.startswith("viz_verdicts:") and "without points" in p for p in found), found
    assert not [p for p in found if p.split(":")[0] not in ("viz_alerts_detection", "viz_coverage", "viz_verdicts")]
    assert json.dumps(report)  # the report is plain data


def test_a_click_sets_the_tokens_from_the_escaped_copies(shipped, renderer):
    """In the renderer: a click on an unlisted row whose path is hostile sets the tokens from
    the hidden doubled copies; the |s text the renderer substitutes keeps the value one quoted
    string, and the panel's filter then matches exactly that path."""
    definition, data, _ = shipped
    data = copy.deepcopy(data)
    first = data["ds_unlisted"]["rows"][0]
    first["library_path"] = HOSTILE
    first[overview.HIDDEN_DRILL + "library_path"] = HOSTILE.replace("\\", "\\\\")
    page = rows.with_test_sources(definition, data)
    # A probe panel whose title prints the tokens as a search would receive them.
    page["visualizations"]["viz_probe"] = {
        "type": "splunk.table", "title": "SEL<$claw_sel_library|s$>SUB<$claw_sel_subject|s$>END",
        "dataSources": {"primary": "ds_tier_spikes"}}
    page["layout"]["structure"].append({"item": "viz_probe", "type": "block",
                                        "position": {"x": 0, "y": 2400, "w": 1440, "h": 100}})
    report = render.render(page, "light", renderer, click={"viz": "viz_unlisted", "row": 0})
    match = re.search(r"SEL<(.*)>SUB<(.*)>END", report["viz_probe"]["text"], re.S)
    assert match, report["viz_probe"]["text"]
    library_literal, subject_literal = match.group(1), match.group(2)
    assert library_literal.startswith('"') and library_literal.endswith('"') and HOSTILE not in library_literal
    event = {"subject_digest": first["subject_digest"], "library_path": HOSTILE}
    assert _where_matches(subject_literal, library_literal, event)
    assert not _where_matches(subject_literal, library_literal, dict(event, library_path="x"))
