"""Render a Studio definition with Splunk's renderer in headless Chromium, and judge each panel.

The dev-only tool in tools/dashboard-render (pinned @splunk packages, bundled
with esbuild; never shipped) draws the definition whose data sources
``rows.with_test_sources`` replaced by ``ds.test`` rows. Chromium runs twice
per theme at a fixed viewport in UTC with a virtual-time budget (timers and
animations run to their end, so the bytes do not depend on the machine's
speed): ``--dump-dom`` for the per-panel report the page writes, and
``--screenshot`` for the picture.

A panel fails when it shows a message while its rows are not empty (unknown
visualization type, a renderer error), a "waiting for data" placeholder (a
data source that does not exist: that logs nothing), no table row, chart
point or value for rows it was given, or when an option names a field its
rows do not have (the renderer shows nothing for those: checked statically).
"""
import json
import os
import re
import shutil
import subprocess

# tools/claw_ta_tools/dashboards/render.py -> tools/dashboard-render (a source checkout only)
TOOL_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "dashboard-render")
BUNDLE = os.path.join(TOOL_DIR, "build", "render.js")
VIEWPORT = (1440, 2360)
SETTLE_MS = 5000
BUDGET_MS = 15000
CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHARTS = ("splunk.column", "splunk.line", "splunk.area", "splunk.bar", "splunk.pie")
FIELD_REF = re.compile(r"""seriesByName\(\s*["']([^"']+)["']\s*\)""")


def chromium():
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def missing_tools():
    """Why the render cannot run here (None when it can)."""
    if not os.path.isdir(os.path.join(TOOL_DIR, "node_modules", "@splunk", "dashboard-core")):
        return "tools/dashboard-render/node_modules is absent (cd tools/dashboard-render && npm ci)"
    if shutil.which("node") is None:
        return "node is not installed"
    if chromium() is None:
        return "Chromium is not installed (apt-get install -y chromium)"
    return None


def build_bundle():
    """esbuild the renderer page script (build/render.js), about 2 s."""
    subprocess.run(["node", "build.mjs"], cwd=TOOL_DIR, check=True, capture_output=True, text=True, timeout=300)
    return BUNDLE


def page_html(definition, theme, bundle=BUNDLE, click=None):
    """The page; ``click`` ``{"viz": id, "row": n}`` clicks that table row before the report."""
    payload = json.dumps({"definition": definition, "theme": theme, "settleMs": SETTLE_MS, "click": click})
    payload = payload.replace("</", "<\\/")  # the JSON sits in a <script>: no "</script>" in it
    css = os.path.splitext(bundle)[0] + ".css"
    return ('<!doctype html><html><head><meta charset="utf-8"><title>render</title>'
            '<link rel="stylesheet" href="file://%s"></head><body><div id="root"></div>'
            "<script>window.CLAW_RENDER = %s;</script><script src=\"file://%s\"></script></body></html>"
            % (css, payload, bundle))


def _run_chromium(page, *args):
    env = dict(os.environ, TZ="UTC", LANG="en_US.UTF-8")
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--force-device-scale-factor=1", "--font-render-hinting=none", "--disable-lcd-text",
           "--window-size=%d,%d" % VIEWPORT, "--virtual-time-budget=%d" % BUDGET_MS,
           "--run-all-compositor-stages-before-draw"] + list(args) + ["file://" + page]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def render(definition, theme, workdir, screenshot=None, click=None):
    """The page's per-panel report ``{viz id: {...}}``; writes ``screenshot`` (PNG) when given."""
    page = os.path.join(workdir, "overview-%s%s.html" % (theme, "-click" if click else ""))
    with open(page, "w", encoding="utf-8") as handle:
        handle.write(page_html(definition, theme, click=click))
    proc = _run_chromium(page, "--dump-dom")
    match = re.search(r'<pre id="claw-render-report"[^>]*>(.*?)</pre>', proc.stdout, re.S)
    if not match:
        raise RuntimeError("the page wrote no report (Chromium exit %s): %s" % (proc.returncode, proc.stderr[-2000:]))
    text = match.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    report = dict((p["id"], p) for p in json.loads(text)["panels"])
    if screenshot:
        shot = _run_chromium(page, "--screenshot=%s" % screenshot)
        if shot.returncode != 0 or not os.path.exists(screenshot):
            raise RuntimeError("no screenshot: %s" % shot.stderr[-2000:])
    return report


def field_problems(definition, data):
    """Options and drilldowns that name a field the panel's rows do not have."""
    out = []
    for viz_id, viz in sorted(definition.get("visualizations", {}).items()):
        ds_id = (viz.get("dataSources") or {}).get("primary")
        if ds_id not in data:
            continue
        fields = set(data[ds_id]["fields"])
        options = viz.get("options") or {}
        named = set(FIELD_REF.findall(json.dumps(options)))
        named |= set((options.get("columnFormat") or {}).keys())
        for handler in viz.get("eventHandlers") or ():
            for token in (handler.get("options") or {}).get("tokens") or ():
                match = re.match(r"^row\.(.+)\.value$", token.get("key", ""))
                if match:
                    named.add(match.group(1))
        for field in sorted(named - fields):
            out.append("%s: names field %r, which %s does not return" % (viz_id, field, ds_id))
    return out


def panel_problems(definition, data, report):
    """What is wrong with each rendered panel, given the rows it was given."""
    out = []
    for viz_id, viz in sorted(definition.get("visualizations", {}).items()):
        panel = report.get(viz_id) or {"found": False}
        if not panel.get("found"):
            out.append("%s: not rendered" % viz_id)
            continue
        ds_id = (viz.get("dataSources") or {}).get("primary")
        rows = len(data[ds_id]["rows"]) if ds_id in data else None
        if panel["placeholder"]:
            out.append("%s: shows the waiting-for-data placeholder (data source %s missing?)" % (viz_id, ds_id))
        if panel["messages"] and rows != 0:
            out.append("%s: shows %s" % (viz_id, "; ".join(panel["messages"])))
        if rows is None:
            if ds_id is not None:
                out.append("%s: data source %s does not exist" % (viz_id, ds_id))
            elif viz.get("type") == "splunk.markdown" and not panel["text"]:
                out.append("%s: empty text" % viz_id)
            continue
        if rows == 0:
            if not panel["messages"]:
                out.append("%s: no rows, and no no-data message either" % viz_id)
            continue
        kind = viz.get("type")
        if kind == "splunk.table" and panel["tableRows"] < min(rows, int((viz.get("options") or {}).get("count", 10))):
            out.append("%s: shows %d table rows of %d" % (viz_id, panel["tableRows"], rows))
        elif kind in CHARTS and panel["chartPoints"] == 0:
            out.append("%s: a chart without points for %d rows" % (viz_id, rows))
        elif kind == "splunk.singlevalue" and panel["majorValue"] in ("", "N/A"):
            out.append("%s: single value %r" % (viz_id, panel["majorValue"]))
    return out
