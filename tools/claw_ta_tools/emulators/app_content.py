"""What the app ships, as the content integrity tests need it.

Reads default/*.conf (``claw_ta.conffile``), lookups/ and dashboards; holds the explicit
lists of what Splunk/CIM provide and what the add-on's commands output.
"""
import csv
import glob
import os
import re
import xml.etree.ElementTree as ET
from collections import namedtuple

from claw_ta import APP_DIR, DEFAULT_DIR, LOOKUPS_DIR
from claw_ta import conffile as conf
from claw_ta_tools.emulators import spl_fields, spl_lint

# Built-in SPL commands (Splunk Search Reference, 9.x). A command not here and
# not in commands.conf is reported as unknown.
BUILTIN_COMMANDS = frozenset("""
abstract accum addcoltotals addinfo addtotals analyzefields anomalies anomalousvalue
anomalydetection append appendcols appendpipe arules associate audit autoregress bin
bucket bucketdir chart cluster cofilter collect concurrency contingency convert correlate
datamodel dbinspect dedup delete delta diff erex eval eventcount eventstats extract
fieldformat fields fieldsummary filldown fillnull findtypes folderize foreach format from
fromjson gauge gentimes geom geomfilter geostats head highlight history iconify inputcsv
inputlookup iplocation join kmeans kv kvform loadjob localize localop lookup
makecontinuous makemv makeresults map mcollect metadata metasearch meventcollect mpreview
msearch mstats multikv multisearch mvcombine mvexpand nomv outlier outputcsv outputlookup
outputtext overlap pivot predict rangemap rare redistribute regex reltime rename replace
require rest return reverse rex rtorder run savedsearch script scrub search searchtxn
selfjoin sendalert sendemail set setfields sichart sirare sistats sitimechart sitop sort
spath stats strcat streamstats table tags tail timechart timewrap tojson top transaction
transpose trendline tscollect tstats typeahead typelearner typer union uniq untable
walklex where x11 xmlkv xmlunescape xpath xyseries
""".split())

# Fields every event has, and search-time modifiers that look like fields.
DEFAULT_FIELDS = frozenset("""
_time _raw _indextime _cd _serial _si _sourcetype _kv _bkt _eventtype_color host source
sourcetype index splunk_server splunk_server_group linecount punct eventtype tag
timestartpos timeendpos date_hour date_mday date_minute date_month date_second date_wday
date_year date_zone earliest latest _index_earliest _index_latest earliest_time latest_time
starttime endtime savedsearch
""".split())

# CIM fields (and data model object names, for All_Traffic.dest-style fields)
# that the app's searches may filter on without producing them itself.
CIM_FIELDS = frozenset("""
action dest dest_ip dest_port dest_category src src_ip src_port src_category user app
transport protocol direction bytes bytes_in bytes_out vendor_product signature signature_id
severity ids_type file_hash file_name file_path process process_id process_name
process_path process_hash parent_process loaded_file loaded_file_path category
risk_object risk_object_type risk_score risk_message risk_object_field search_name
threat_object threat_object_type orig_sid orig_rid urgency rule_name
All_Traffic Processes Filesystem IDS_Attacks All_Risk Risk Network_Traffic Endpoint
Intrusion_Detection
""".split())

# Lookups Splunk itself (or CIM) provides, that a search may use.
PROVIDED_LOOKUPS = frozenset(["dnslookup", "geo_countries", "geo_us_states"])

# Fields the add-on's custom commands add (searchbnf.conf / their issues).
# test_content_integrity checks each name appears in the command's code.
COMMAND_OUTPUTS = {
    "clawsbomcheck": ("sbom_status", "sbom_match", "sbom_ref", "sbom_reason", "sbom_trust", "sbom_signer",
                      "sbom_name"),
    "clawsbomindex": ("claw_table", "subject_digest", "subject_kind", "evidence", "sbom_id", "sbom_ref",
                      "sbom_format", "platform_digests", "sbom_name", "sbom_trust", "sbom_signer",
                      "sbom_trust_reason", "platform_names", "library_path", "library_digest", "package_name",
                      "package_version", "purl"),
    # mode=detect rows, then mode=train (baseline) rows
    "clawtierbaseline": ("image_digest", "host", "tier", "tier_source", "pod_tier", "baseline_tiers",
                         "tier_status", "count", "hours", "expected_count", "spike_score",
                         "is_anomaly", "first_time", "last_time", "reason",
                         "tiers", "host_count", "event_count", "rate_median", "rate_mad",
                         "first_seen", "last_seen", "updated", "hosts"),
}

# The raw claw event fields of the log format (section 1) and the records of
# the other delivery shapes (sections 3 and 4), found by KV_MODE=json.
LOG_FORMAT_FIELDS = frozenset("""
timestamp event_id event_type agent_id runtime_version host verdict subject_digest
subject_name material_uri slsa_level policy_name reason triggering_process_path pid
container_id image_ref image_digest k8s_namespace k8s_pod library_path library_digest
expected_digest observed_digest log stream kubernetes MESSAGE _SYSTEMD_UNIT _HOSTNAME
""".split())

# Shipped searches that need not use `claw_runtime_index`: {name: (the index
# macro they must use instead, why)}. Searches that are purely lookup / rest /
# tstats-on-data-model are exempt by kind (``index_macro_exemption``).
INDEX_MACRO_EXEMPT = {
    "Claw - Rebuild SBOM Library Index": (
        "claw_runtime_sbom_index", "reads SBOM documents (sourcetype claw:sbom), not runtime events"),
    "Claw - Workload Risk Threshold - Rule": (
        "claw_risk_summary_index", "reads the results the detections collect to the risk summary"),
    "Claw - Unlisted Library Load With New Outbound Connection - Rule": (
        "claw_risk_summary_index", "reads the unlisted-library results of the risk summary and Network_Traffic"),
}
# Dashboard searches that need not use `claw_runtime_index`: {(view file, data source id):
# (the index macro they must use instead, why)}.
DASHBOARD_INDEX_MACRO_EXEMPT = {
    ("claw_runtime_overview.xml", ds_id): (
        "claw_risk_summary_index", "alerts: the results every detection collects to the risk summary")
    for ds_id in ("ds_alerts_detection", "ds_alerts_severity")
}
EXEMPT_GENERATORS = ("inputlookup", "rest", "makeresults")


def index_macro_exempt(search):
    """(index macro, reason) when ``search`` is named in an index-macro exemption, else None."""
    if search.name in INDEX_MACRO_EXEMPT and search.origin.startswith("savedsearches.conf"):
        return INDEX_MACRO_EXEMPT[search.name]
    match = re.match(r"^data source (\S+)", search.name)
    if match:
        return DASHBOARD_INDEX_MACRO_EXEMPT.get((os.path.basename(search.origin), match.group(1)))
    return None

Search = namedtuple("Search", "origin name spl conf")
# Searches a saved search ships besides its own (ES notable drill-down).
DRILLDOWN_KEYS = ("action.notable.param.drilldown_search",)


def _macros():
    """{(name, nargs): (definition, [arg names], iseval)}."""
    out = {}
    for stanza, keys in conf.app_conf("macros").items():
        match = re.match(r"^(.*?)(?:\((\d+)\))?$", stanza)
        name, nargs = match.group(1), int(match.group(2) or 0)
        names = [a.strip() for a in keys.get("args", "").split(",") if a.strip()]
        out[(name, nargs)] = (keys.get("definition", ""), names,
                              keys.get("iseval", "0").strip().lower() in ("1", "true"))
    return out


def _lookup_columns(transforms):
    """{lookup definition or file name: [columns]} from lookups/ files."""
    columns = {}
    for path in glob.glob(os.path.join(LOOKUPS_DIR, "*.csv")):
        with open(path, encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle), [])
        columns[os.path.basename(path)] = header
    for stanza, keys in transforms.items():
        if "filename" in keys:
            columns[stanza] = columns.get(keys["filename"], [])
        elif "fields_list" in keys:
            columns[stanza] = [f.strip() for f in keys["fields_list"].split(",")]
    return columns


def _props_fields(props, transforms, lookup_columns):
    """Fields props.conf produces at search time (EVAL, FIELDALIAS, EXTRACT, REPORT, LOOKUP)."""
    fields = set()
    for keys in props.values():
        for key, value in keys.items():
            kind, _, name = key.partition("-")
            if kind == "EVAL":
                fields.add(name.strip())
            elif kind == "FIELDALIAS":
                fields |= {unquoted for unquoted in (spl_lint.unquote(m) for m in re.findall(
                    r"(?i)\bAS(?:NEW)?\s+(\"[^\"]+\"|\S+)", value))}
            elif kind == "EXTRACT":
                fields |= set(re.findall(r"\(\?P?<([A-Za-z_]\w*)>", value))
            elif kind == "REPORT":
                for transform in (t.strip() for t in value.split(",")):
                    spec = transforms.get(transform, {})
                    fields |= set(re.findall(r"\(\?P?<([A-Za-z_]\w*)>", spec.get("REGEX", "")))
                    fields |= set(re.findall(r"([A-Za-z_]\w*)::", spec.get("FORMAT", "")))
                    fields |= {f.strip(' "') for f in spec.get("FIELDS", "").split(",") if f.strip()}
            elif kind == "LOOKUP":
                tokens = value.split(None, 1)
                match = re.search(r"\bOUTPUT(?:NEW)?\b(.*)$", value)
                if match:
                    fields |= {t.strip(",") for t in match.group(1).replace(",", " ").split()
                               if t.lower() != "as"}
                elif tokens:
                    fields |= set(lookup_columns.get(tokens[0], ()))
    return fields


def dashboard_files():
    return sorted(glob.glob(os.path.join(DEFAULT_DIR, "data", "ui", "views", "*.xml")))


def studio_searches(origin, xml_text):
    """The search data sources of a Studio view, as Search rows named by data source id."""
    from claw_ta_tools.dashboards import studio
    return [Search(origin, "data source %s (panel %r)" % (s.ds_id, s.title), s.spl, {})
            for s in studio.searches(studio.parse_view(xml_text)[3])]


def _dashboard_searches():
    """Every <query> of every Simple XML dashboard, named by its panel title (or search id), and
    every search data source of every Studio dashboard, named by its data source id."""
    from claw_ta_tools.dashboards import studio
    found = []
    for path in dashboard_files():
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        if studio.is_studio(text):
            found += studio_searches(os.path.relpath(path, APP_DIR), text)
            continue
        root = ET.parse(path).getroot()
        labelled = {}
        for panel in root.iter("panel"):
            title = (panel.findtext("title") or "untitled panel").strip()
            for query in panel.iter("query"):
                labelled[id(query)] = "panel %r" % title
        for index, search in enumerate(root.iter("search")):
            for query in search.findall("query"):
                label = labelled.get(id(query)) or "search %r" % search.get("id", "#%d" % index)
                if (query.text or "").strip():
                    found.append(Search(os.path.relpath(path, APP_DIR), label, query.text, {}))
    return found


class AppContent(object):
    """The app's searchable content and everything a search may refer to."""

    def __init__(self):
        self.macros = _macros()
        self.transforms = conf.app_conf("transforms")
        self.commands = set(self._stanzas("commands"))
        self.risky_commands = {name for name, keys in self._conf("commands").items()
                               if keys.get("is_risky", "").strip().lower() in ("1", "true")}
        self.eventtypes = set(self._stanzas("eventtypes"))
        self.tags = set()
        for stanza, keys in self._conf("tags").items():
            self.tags |= {tag for tag, state in keys.items() if state.strip() == "enabled"}
        self.lookup_files = set(os.listdir(LOOKUPS_DIR)) if os.path.isdir(LOOKUPS_DIR) else set()
        self.lookup_columns = _lookup_columns(self.transforms)
        # A file a definition names counts even when not shipped: outputlookup creates it
        # (site and generated tables are never shipped, docs/tuning.md).
        self.lookups = ({s for s, k in self.transforms.items()
                         if k.get("filename") or k.get("collection") or k.get("external_cmd")}
                        | {k["filename"] for k in self.transforms.values() if k.get("filename")}
                        | self.lookup_files | PROVIDED_LOOKUPS)
        props = self._conf("props")
        self.app_fields = (_props_fields(props, self.transforms, self.lookup_columns)
                           | LOG_FORMAT_FIELDS | _normalize_fields() | _risk_summary_fields())
        self.known_fields = self.app_fields | DEFAULT_FIELDS | CIM_FIELDS
        self.savedsearches = self._conf("savedsearches")
        self.searches = [Search("savedsearches.conf", name, keys["search"], keys)
                         for name, keys in self.savedsearches.items() if "search" in keys]
        self.searches += [Search("savedsearches.conf (drilldown)", name, keys[key], {})
                          for name, keys in self.savedsearches.items()
                          for key in DRILLDOWN_KEYS if keys.get(key, "").strip()]
        self.searches += _dashboard_searches()

    def _conf(self, name):
        path = os.path.join(DEFAULT_DIR, name + ".conf")
        return conf.parse(path) if os.path.exists(path) else {}

    def _stanzas(self, name):
        return [s for s in self._conf(name) if s != "default"]

    def expand(self, spl):
        return spl_lint.expand_macros(spl, self.macros)


def _normalize_fields():
    """The normalized and CIM fields claw_ta_tools.normalize (the Python twin of props.conf) promises."""
    from claw_ta_tools import normalize
    return set(normalize.NORMALIZED_FIELDS) | set(normalize.CIM_FIELDS)


def _risk_summary_fields():
    """The fields of the risk summary events every detection collects (`claw_risk_collect`)."""
    from claw_ta_tools.detections import correlation
    return set(correlation.summary_fields())


def index_macro_exemption(spl_expanded):
    """Why a search may go without `claw_runtime_index` (None if it may not): it is
    purely a lookup, REST or data-model ``tstats`` search (no raw event search)."""
    segments = spl_lint.split_pipeline(spl_expanded)
    if not segments or segments[0].implicit:
        return None
    for seg in spl_lint.walk(segments):
        if seg.implicit and seg.args.strip():
            return None  # a raw event search (e.g. in a subsearch)
        if seg.name == "tstats" and not re.search(r"\bfrom\s+datamodel\s*=", seg.args):
            return None
    first = segments[0]
    if first.name in EXEMPT_GENERATORS:
        return "pure %s search" % first.name
    if first.name == "tstats":
        return "tstats on a data model"
    return None


CHECKS = ("macros", "lookups", "commands", "eventtypes_tags", "fields", "index_macro", "slow_patterns")


def _macros_needing_a_pipe(spl, content):
    """Macros whose definition starts with a command (``search ...``, ``stats ...``)
    but are called inside a search instead of after a ``|``: their command
    word would become a search term."""
    problems = []
    text = spl_lint.strip_comments(spl)
    for match in spl_lint.MACRO.finditer(text):
        args = [] if match.group(2) is None else spl_lint.split_args(match.group(2), sep=",")
        key = (match.group(1).strip(), len(args))
        definition = content.expand(content.macros.get(key, ("",))[0])
        first = re.match(r"\s*([A-Za-z]\w*)\b(?!\s*[=(])", definition)
        if not first or first.group(1).lower() not in BUILTIN_COMMANDS | content.commands:
            continue
        if not re.search(r"(^|\|)\s*$", text[:match.start()]):
            problems.append("macro `%s` starts with the command %r: call it after a pipe (| `%s`)"
                            % (key[0], first.group(1), key[0]))
    return problems


def check_search(spl, content):
    """{check name: [problems]} for one search of the app (all CHECKS keys present)."""
    problems = {name: [] for name in CHECKS}
    # Macros: every call, also inside the definitions it expands to.
    pending, seen = [spl], set()
    while pending:
        text = pending.pop()
        for name, nargs, _ in spl_lint.macro_calls(text):
            key = (name, nargs)
            if key in seen:
                continue
            seen.add(key)
            if key in content.macros:
                pending.append(content.macros[key][0])
            else:
                have = sorted("%s(%d)" % k if k[1] else k[0] for k in content.macros if k[0] == name)
                problems["macros"].append("macro `%s` with %d argument(s) is not in macros.conf%s" % (
                    name, nargs, " (have: %s)" % ", ".join(have) if have else ""))
    problems["macros"] += _macros_needing_a_pipe(spl, content)
    expanded = content.expand(spl)
    segments = spl_lint.split_pipeline(expanded)
    for command, lookup in spl_lint.lookups_used(segments):
        if lookup not in content.lookups and "$" not in lookup:
            problems["lookups"].append("%s %s: no such lookup definition in transforms.conf or file in lookups/"
                                       % (command, lookup))
    for command in spl_lint.commands_used(segments):
        if command.startswith("`"):
            continue  # an unknown macro, reported above
        if command not in BUILTIN_COMMANDS and command not in content.commands:
            problems["commands"].append("command %s is neither built in nor in commands.conf" % command)
    eventtypes, tags = spl_lint.eventtypes_and_tags(segments)
    problems["eventtypes_tags"] += ["eventtype %s is not in eventtypes.conf" % e
                                    for e in sorted(eventtypes - content.eventtypes)]
    problems["eventtypes_tags"] += ["tag %s is not enabled in tags.conf" % t for t in sorted(tags - content.tags)]
    for field, where in spl_fields.filtered_fields(segments, content.known_fields,
                                                  content.lookup_columns, COMMAND_OUTPUTS):
        problems["fields"].append("filters on field %s (%s) that neither the app, CIM nor the "
                                  "search itself produces" % (field, where))
    uses_macro = "claw_runtime_index" in macros_called(spl, content)  # directly or in a macro
    if not uses_macro and not index_macro_exemption(expanded):
        problems["index_macro"].append("does not use `claw_runtime_index` (and is not a pure "
                                       "lookup/rest/data-model tstats search)")
    problems["slow_patterns"] += spl_lint.lint(expanded, unexpanded=spl)
    return problems


# --- Saved-search and dashboard level checks -----------------------------------

DETECTION_KEYS = ("alert.severity", "alert.track", "alert.suppress", "counttype", "alert_condition",
                  "action.correlationsearch.enabled", "action.notable", "action.risk")


def saved_search_problems(stanzas):
    """Every saved search ships disabled = 1 with a dispatch.earliest_time."""
    problems = []
    for name, keys in stanzas.items():
        if name == "default":
            continue
        if keys.get("disabled", "").strip().lower() not in ("1", "true"):
            problems.append("%s: not disabled = 1" % name)
        if not keys.get("dispatch.earliest_time", "").strip():
            problems.append("%s: no dispatch.earliest_time (unbounded time range)" % name)
    return problems


def detection_ids(spl, content):
    """The detection_id values the SPL assigns with eval (macros expanded)."""
    found = set()
    for seg in spl_lint.walk(spl_lint.split_pipeline(content.expand(spl))):
        if seg.name == "eval":
            found |= set(re.findall(r"""\bdetection_id\s*=\s*["']?(\w+)""", seg.args))
    return found


def is_detection(search, content):
    """A saved search with alert/ES settings, or one that assigns a detection_id."""
    keys = search.conf
    return any(keys.get(key, "0").strip() not in ("0", "false", "") for key in DETECTION_KEYS) \
        or bool(detection_ids(search.spl, content))


def macros_called(spl, content):
    """Names of the macros ``spl`` calls, directly or inside other macros."""
    used, pending = set(), [spl]
    while pending:
        for name, nargs, _ in spl_lint.macro_calls(pending.pop()):
            if name not in used:
                used.add(name)
                if (name, nargs) in content.macros:
                    pending.append(content.macros[(name, nargs)][0])
    return used


def detection_filter_problems(detections, content):
    """Each detection has a `<detection_id>_filter` macro in macros.conf, and uses it."""
    problems = []
    for search in detections:
        ids = detection_ids(search.spl, content)
        if not ids:
            problems.append("%s: a detection (alert settings) whose SPL assigns no detection_id" % search.name)
        used = macros_called(search.spl, content)
        for detection_id in sorted(ids):
            macro = detection_id + "_filter"
            if not any(name == macro for name, _ in content.macros):
                problems.append("%s: no macro %s in macros.conf" % (search.name, macro))
            elif macro not in used:
                problems.append("%s: does not use `%s`" % (search.name, macro))
    return problems


ALLOWED_SCRIPTS = ("claw_review.js",)  # the review buttons' POSTs (rules: tests/test_review_content.py)


def dashboard_problems(xml_text):
    """Simple XML problems: well-formedness, version 1.1, AppInspect-cloud safety; a Studio
    (version 2) view: claw_ta_tools.dashboards.studio.problems."""
    from claw_ta_tools.dashboards import studio
    if studio.is_studio(xml_text):
        return studio.problems(xml_text)
    problems = []
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as exc:
        return ["not well-formed XML: %s" % exc]
    if root.tag not in ("dashboard", "form"):
        problems.append("root element is <%s>, not <dashboard> or <form>" % root.tag)
    if root.get("version") != "1.1":
        problems.append('version="%s", not "1.1" (jQuery 3.5)' % root.get("version"))
    for attr in ("script", "stylesheet"):
        if root.get(attr) and not (attr == "script" and root.get(attr) in ALLOWED_SCRIPTS):
            problems.append("custom %s=%r" % (attr, root.get(attr)))
    for element in root.iter():
        if element.tag.lower() == "script":
            problems.append("<script> element")
        for name in element.attrib:
            if name.lower().startswith("on"):
                problems.append("event handler attribute %s on <%s>" % (name, element.tag))
        if element.tag == "html":
            inner = ET.tostring(element, encoding="unicode")
            if re.search(r"<script|\son\w+\s*=|javascript:", inner, re.I):
                problems.append("<html> panel with script or event handlers")
    if root.find("label") is None:
        problems.append("no <label>")
    return problems
