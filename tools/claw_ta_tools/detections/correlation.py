"""Correlation over the detections' results: the risk summary, the workload risk rule,
the network context rule. SPL (written by ``generate``) and the replay's twin.

Risk-based alerting as Splunk's security content does it: every detection writes
its results, in every environment, as risk events to an index, and the
correlation reads that index with ``stats`` (ES: the ``risk`` index and the Risk
data model; here, without ES: the summary index of `claw_risk_summary_index`).
No detection is re-run in a subsearch, so nothing is cut at the subsearch limits.

- ``claw_risk_collect`` (in every detection, after the filter macro and before
  the alert gate): ``_time`` set to ``firstTime`` (aggregated rows have none, so
  the summary event's time does not depend on how ``collect`` stamps such
  rows, its ``addtime`` option), the risk objects and the
  network entities as ``;``-joined single values (pod names, host names and
  digests hold no ``;``), then ``collect`` to the summary index with
  ``source="claw:risk"`` (sourcetype ``stash``: no licence use). The rows pass
  on unchanged to ``where claw_alert=1``.
- ``Claw - Workload Risk Threshold - Rule``: summary events of the last 24 h,
  one row per (risk object, detection) -- the highest score, as overlapping
  search windows collect the same result more than once -- then the risk
  objects with results from at least ``min_detections`` detections.
- ``Claw - Unlisted Library Load With New Outbound Connection - Rule``: the
  summary's alerted unlisted-library results of the last 35 minutes give the
  entities; ``tstats`` over ``Network_Traffic`` reads only those sources
  (a ``where`` subsearch of a few names), and a second subsearch keeps the
  (source, destination) pairs first seen within 15 minutes after the load.
"""
from claw_ta.detections import definitions as defs
from claw_ta.detections import imageref

SOURCE = "claw:risk"
DELIM = ";"
NETWORK_LOOKBACK = "-35m@m"
# Names a network source can have (DNS names, IPv4/IPv6 addresses). An entity
# outside this set never reaches the generated search string.
ENTITY_CHARS = "^[A-Za-z0-9._:-]+$"
# What both network subsearches return when no alert has an entity: format's default
# for no results is NOT( ), which matches everything (format, emptystr:
# https://help.splunk.com/splunk-cloud-platform/spl-search-reference/10.0.2503/search-commands/format);
# .invalid is a reserved name (RFC 2606), so this matches nothing.
NO_ENTITY = "claw-no-alert.invalid"


def _q(value):
    return '"%s"' % str(value).replace("\\", "\\\\").replace('"', '\\"')


# Drill-down searches embed result values, which the workload chose. A token is
# quoted with the |s filter, which wraps the value in quotes and escapes the
# quotes in it but not backslashes (Simple XML "Token usage in dashboards",
# token filters: https://help.splunk.com/splunk-enterprise/create-dashboards-and-reports/simple-xml-dashboards/10.0/drilldown-and-dashboard-interactivity/token-usage-in-dashboards),
# so a value ending in \ would escape the closing quote: the search embeds a copy
# of each value with its backslashes doubled (DRILL_PREFIX + field).
DRILL_PREFIX = "claw_drill_"


def drill_escape(fields):
    """``eval claw_drill_<f>=<f> with each backslash doubled`` for ``fields``."""
    return "eval " + ", ".join(r'%s%s=replace(%s, "\\\\", "\\\\\\\\")' % (DRILL_PREFIX, f, f)
                               for f in fields)


def drill_token(field):
    return "$%s%s|s$" % (DRILL_PREFIX, field)



# --- Macros -----------------------------------------------------------------------

COLLECT = (
    'eval _time=coalesce(firstTime, now()), claw_risk_objects=mvjoin(risk_object, "%s"), '
    'claw_entities=mvjoin(mvdedup(mvappend(pod, host)), "%s")'
    ' | collect `claw_risk_summary_index` source="%s"' % (DELIM, DELIM, SOURCE))
NETWORK_ENTITIES = (
    'eval claw_entity=split(claw_entities, "%s") | mvexpand claw_entity | `claw_entity_addresses`'
    ' | where match(claw_entity, "%s") | stats min(firstTime) as lib_time by claw_entity'
    % (DELIM, ENTITY_CHARS))


def macro_stanzas():
    """The macros.conf stanzas of the risk summary, the network entities and the image reference."""
    return [
        "# Where the detections' results go as risk events (the risk summary read by\n"
        "# claw_workload_risk and claw_unlisted_library_network_context). The index must\n"
        "# exist (summary does by default); set your own in local/macros.conf.\n"
        "[claw_risk_summary_index]\ndefinition = index=summary\niseval = 0\n",
        "# Every detection's results, all environments, to the risk summary (rows pass on unchanged).\n"
        "[claw_risk_collect]\ndefinition = %s\niseval = 0\n" % COLLECT,
        "# The pods and hosts of alerted summary rows as network sources, with the load time.\n"
        "[claw_network_entities]\ndefinition = %s\niseval = 0\n" % NETWORK_ENTITIES,
        "# Site hook: add the addresses of an entity (claw_entity: a pod or host name) when\n"
        "# your Network_Traffic src is an IP, e.g. `lookup pod_ips pod AS claw_entity OUTPUT\n"
        "# ip AS claw_ip | eval claw_entity=mvappend(claw_entity, claw_ip) | mvexpand claw_entity`.\n"
        "# The claw events carry no IP address (docs/detections.md, \"Network context\").\n"
        "[claw_entity_addresses]\ndefinition = search *\niseval = 0\n",
        "# registry/repository of an image reference, normalized (claw_ta/detections/imageref.py):\n"
        "# Docker Hub default registry and library/, default ports, case; tag and digest removed.\n"
        "[claw_normalize_image_ref(1)]\nargs = ref\ndefinition = %s\niseval = 0\n"
        % imageref.spl_expression("$ref$"),
    ]


# --- The workload risk rule -------------------------------------------------------

def _summary(detection_id=None, alerted=False, earliest=None):
    terms = ['`claw_risk_summary_index` source="%s"' % SOURCE]
    if earliest:
        terms.append("earliest=%s" % earliest)
    if detection_id:
        terms.append("detection_id=%s" % _q(detection_id))
    if alerted:
        terms.append("claw_alert=1")
    return " ".join(terms)


def risk_spl(sep="\n"):
    rule = defs.RISK_INCIDENT
    return sep.join([
        _summary(),
        '| eval risk_object=split(claw_risk_objects, "%s")' % DELIM,
        "| mvexpand risk_object",
        "| stats max(risk_score) as risk_score min(firstTime) as firstTime max(lastTime) as lastTime "
        "by risk_object risk_object_type detection_id",
        "| stats dc(detection_id) as detection_count values(detection_id) as detections "
        "sum(risk_score) as risk_score min(firstTime) as firstTime max(lastTime) as lastTime "
        "by risk_object risk_object_type",
        "| where detection_count >= %d" % rule["min_detections"],
        "| eval detection_id=%s, severity=%s" % (_q(rule["id"]), _q(rule["severity"])),
        '| eval claw_risk_system=if(risk_object_type="system", risk_object, null()), '
        'claw_risk_other=if(risk_object_type="other", risk_object, null())',
        "| " + drill_escape(["risk_object"]),
        "| `%s_filter`" % rule["id"],
    ])


def network_spl(sep="\n"):
    net = defs.NETWORK_CONTEXT
    alerts = _summary(net["base"], alerted=True, earliest=NETWORK_LOOKBACK)
    return sep.join([
        "| tstats summariesonly=false count as net_count min(_time) as net_first_seen "
        "from datamodel=Network_Traffic.All_Traffic where [search %s | `claw_network_entities` "
        "| rename claw_entity as All_Traffic.src | fields All_Traffic.src | format emptystr=%s] "
        "by All_Traffic.src All_Traffic.dest All_Traffic.dest_port" % (alerts, _q("All_Traffic.src=" + NO_ENTITY)),
        "| rename All_Traffic.src as claw_entity, All_Traffic.dest as net_dest, "
        "All_Traffic.dest_port as net_dest_port",
        # A subsearch field named "search" is inserted as search text, one window per entity
        # (https://help.splunk.com/en/splunk-enterprise/search/search-manual/9.2/subsearches/change-the-format-of-subsearch-results).
        '| search [search %s | `claw_network_entities` | eval search="(claw_entity=\\"" . claw_entity '
        '. "\\" net_first_seen>=" . lib_time . " net_first_seen<=" . (lib_time + %d) . ")" | fields search'
        ' | format emptystr=%s]' % (alerts, net["minutes"] * 60, _q("claw_entity=" + NO_ENTITY)),
        "| stats dc(net_dest) as new_destinations values(net_dest) as net_dest values(net_dest_port) as "
        "net_dest_port min(net_first_seen) as net_first_seen sum(net_count) as net_count by claw_entity",
        '| eval detection_id=%s, severity=%s, risk_score=%d, risk_object=claw_entity, '
        'risk_object_type="system", claw_risk_system=claw_entity'
        % (_q(net["id"]), _q(net["severity"]), net["risk_score"]),
        "| " + drill_escape(["claw_entity"]),
        "| `%s_filter`" % net["id"],
    ])


# --- The replay's twin --------------------------------------------------------------

def _values(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _dedup(values):
    seen = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def collect_events(results, now):
    """What `claw_risk_collect` writes to the summary index for ``results`` (tail rows)."""
    events = []
    for row in results:
        first = row.get("firstTime")
        events.append({
            "source": SOURCE, "_time": first if first is not None else now,
            "detection_id": row["detection_id"], "risk_object_type": row.get("risk_object_type"),
            "risk_score": row.get("risk_score"), "claw_alert": row.get("claw_alert"),
            "firstTime": first, "lastTime": row.get("lastTime"),
            "claw_risk_objects": DELIM.join(str(v) for v in _values(row.get("risk_object"))),
            "claw_entities": DELIM.join(str(v) for v in _dedup(_values(row.get("pod")) + _values(row.get("host")))),
        })
    return events


def summary_fields():
    """Fields a risk summary event can carry: what collect_events writes and every detection's output."""
    fields = set(collect_events([{"detection_id": ""}], 0)[0])
    for detection in defs.DETECTIONS:
        fields.update(detection.output_fields)
    return sorted(fields)


def risk_correlate(events, start, end):
    """The workload risk rule over summary events with ``start <= _time < end``: dicts with
    risk_object, risk_object_type, detection_count, detections, risk_score, firstTime, lastTime."""
    per = {}
    for event in events:
        if event.get("source") != SOURCE or event["_time"] is None or not start <= event["_time"] < end:
            continue
        for obj in (event.get("claw_risk_objects") or "").split(DELIM):
            if not obj:
                continue
            key = (obj, event.get("risk_object_type"), event["detection_id"])
            score, first, last = per.get(key, (None, None, None))
            values = (event.get("risk_score"), event.get("firstTime"), event.get("lastTime"))
            per[key] = (_max(score, values[0]), _min(first, values[1]), _max(last, values[2]))
    objects = {}
    for (obj, obj_type, detection_id), (score, first, last) in per.items():
        entry = objects.setdefault((obj, obj_type), {"detections": [], "risk_score": 0,
                                                     "firstTime": None, "lastTime": None})
        entry["detections"].append(detection_id)
        entry["risk_score"] += score or 0
        entry["firstTime"] = _min(entry["firstTime"], first)
        entry["lastTime"] = _max(entry["lastTime"], last)
    out = []
    for (obj, obj_type), entry in sorted(objects.items(), key=lambda item: (str(item[0][0]), str(item[0][1]))):
        if len(entry["detections"]) < defs.RISK_INCIDENT["min_detections"]:
            continue
        out.append(dict(entry, risk_object=obj, risk_object_type=obj_type,
                        detections=sorted(entry["detections"]), detection_count=len(entry["detections"])))
    return out


def _min(a, b):
    return b if a is None else a if b is None else min(a, b)


def _max(a, b):
    return b if a is None else a if b is None else max(a, b)
