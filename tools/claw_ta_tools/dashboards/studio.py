"""Dashboard Studio views: the XML wrapper, the searches in the JSON, and static checks.

A Studio dashboard in an app is a view whose root is ``<dashboard version="2"
theme="light|dark">`` with ``<label>``, optional ``<description>`` and the JSON
definition wrapped in ``<definition><![CDATA[ ... ]]></definition>`` (Splunk,
"Create a dashboard using REST API endpoints", Format the dashboard definition:
https://help.splunk.com/en/splunk-enterprise/create-dashboards-and-reports/dashboard-studio/10.0/manage-dashboards).
The definition's sections (``dataSources``, ``visualizations``, ``inputs``,
``layout``, ``defaults``) are those of "What is a dashboard definition?":
https://help.splunk.com/en/splunk-enterprise/create-dashboards-and-reports/dashboard-studio/10.4/source-code-editor/what-is-a-dashboard-definition
"""
import json
import re
import xml.etree.ElementTree as ET
from collections import namedtuple
from xml.sax.saxutils import escape

THEMES = ("light", "dark")
# Data source types whose search the app ships (ds.savedSearch is not used: the app's saved
# searches ship disabled, and a panel runs the same SPL inline instead).
SEARCH_TYPES = ("ds.search", "ds.chain")
# Visualization types the overview may use (Splunk's own, in the renderer's preset).
VIZ_TYPES = frozenset(["splunk.table", "splunk.column", "splunk.line", "splunk.area", "splunk.bar",
                       "splunk.singlevalue", "splunk.markdown", "splunk.pie", "splunk.events"])
# Tokens a search may use without a filter: the time picker's (values Splunk itself sets).
TIME_TOKEN = re.compile(r"^[A-Za-z_]\w*\.(earliest|latest)$")
TOKEN = re.compile(r"\$([^$\s]+)\$")

DataSearch = namedtuple("DataSearch", "ds_id title spl")


def is_studio(xml_text):
    """Whether a view's XML is a Studio (version 2) dashboard."""
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError:
        return False
    return root.tag == "dashboard" and root.get("version") == "2"


def parse_view(xml_text):
    """``(root attributes, label, description, definition dict)`` of a Studio view."""
    root = ET.fromstring(xml_text)
    text = root.findtext("definition")
    if text is None:
        raise ValueError("no <definition> element")
    return dict(root.attrib), root.findtext("label"), root.findtext("description"), json.loads(text)


def render_view(definition, theme, label, description):
    """The view's XML text: the JSON inside CDATA (refused if it holds the CDATA end)."""
    if theme not in THEMES:
        raise ValueError("theme %r is not one of %s" % (theme, THEMES))
    payload = json.dumps(definition, indent=4, ensure_ascii=False)
    if "]]>" in payload:
        raise ValueError("the definition holds ']]>', which would end the CDATA section")
    return ('<dashboard version="2" theme="%s">\n'
            "  <label>%s</label>\n"
            "  <description>%s</description>\n"
            "  <definition><![CDATA[\n%s\n]]></definition>\n"
            '  <meta type="hiddenElements"><![CDATA[\n{"hideEdit": false, "hideOpenInSearch": false, '
            '"hideExport": false}\n]]></meta>\n'
            "</dashboard>\n" % (theme, escape(label), escape(description), payload))


def searches(definition):
    """The SPL of every search data source, named by the title of a panel that shows it."""
    titles = {}
    for viz in definition.get("visualizations", {}).values():
        for ds_id in (viz.get("dataSources") or {}).values():
            titles.setdefault(ds_id, viz.get("title") or ds_id)
    found = []
    for ds_id, ds in sorted(definition.get("dataSources", {}).items()):
        query = (ds.get("options") or {}).get("query")
        if ds.get("type") in SEARCH_TYPES and query:
            found.append(DataSearch(ds_id, titles.get(ds_id, ds_id), query))
    return found


def drilldown_tokens(definition):
    """``{token name: row field it is set from}`` of every drilldown.setToken handler."""
    tokens = {}
    for viz in definition.get("visualizations", {}).values():
        for handler in viz.get("eventHandlers") or ():
            if handler.get("type") == "drilldown.setToken":
                for entry in (handler.get("options") or {}).get("tokens") or ():
                    match = re.match(r"^row\.(.+)\.value$", entry.get("key", ""))
                    tokens[entry.get("token")] = match.group(1) if match else entry.get("key")
    return tokens


def problems(xml_text, escaped_prefix="_claw_drill_"):
    """Static problems of a Studio view: wrapper, JSON, references, token safety.

    A token set from a clicked row must read a copy of the value with its
    backslashes doubled (a field starting with ``escaped_prefix``: hidden in the
    table, https://help.splunk.com/splunk-enterprise/create-dashboards-and-reports/dashboard-studio/10.0/add-dashboard-interactions/configure-field-level-drilldowns-in-a-table)
    and every token in a search other than the time picker's must use the ``|s``
    filter, which quotes the value and escapes the quotes in it (Studio "Tokens",
    token filters: https://help.splunk.com/splunk-enterprise/create-dashboards-and-reports/dashboard-studio/10.0/make-dashboards-dynamic-and-interactive/tokens).
    """
    out = []
    try:
        attrs, label, _, definition = parse_view(xml_text)
    except (ET.ParseError, ValueError) as error:
        return ["not a well-formed Studio view: %s" % error]
    if attrs.get("theme") not in THEMES:
        out.append('theme="%s", not light or dark' % attrs.get("theme"))
    if not (label or "").strip():
        out.append("no <label>")
    sources = definition.get("dataSources", {})
    for viz_id, viz in sorted(definition.get("visualizations", {}).items()):
        if viz.get("type") not in VIZ_TYPES:
            out.append("%s: visualization type %r is not one of the known types" % (viz_id, viz.get("type")))
        for role, ds_id in sorted((viz.get("dataSources") or {}).items()):
            if ds_id not in sources:
                out.append("%s: data source %s (%s) does not exist" % (viz_id, ds_id, role))
    placed = set()
    for item in (definition.get("layout") or {}).get("structure") or ():
        placed.add(item.get("item"))
        if item.get("item") not in definition.get("visualizations", {}):
            out.append("layout places %r, which is not a visualization" % item.get("item"))
    for viz_id in sorted(set(definition.get("visualizations", {})) - placed):
        out.append("%s: not placed in the layout" % viz_id)
    drill = drilldown_tokens(definition)
    for token, field in sorted(drill.items(), key=lambda kv: str(kv[0])):
        if not str(field).startswith(escaped_prefix):
            out.append("token %s is set from %r, not from an escaped copy (%s<field>)" % (token, field, escaped_prefix))
    for search in searches(definition):
        for token in TOKEN.findall(search.spl):
            name, _, flt = token.partition("|")
            if TIME_TOKEN.match(name) and not flt:
                continue
            if flt != "s":
                out.append("%s: token $%s$ is not quoted with |s" % (search.ds_id, token))
            elif name not in drill:
                out.append("%s: token $%s$ is set by no drilldown" % (search.ds_id, token))
    for ds_id, ds in sorted(sources.items()):
        if ds.get("type") not in SEARCH_TYPES:
            out.append("%s: data source type %r (the shipped view runs searches only)" % (ds_id, ds.get("type")))
    return out
