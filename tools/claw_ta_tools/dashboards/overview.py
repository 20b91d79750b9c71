"""The Claw Runtime Overview (Dashboard Studio): its panels, searches and layout.

``definition(saved)`` builds the JSON definition that ``generate`` wraps into
default/data/ui/views/claw_runtime_overview.xml. The SPL is written here once,
as Python strings (the JSON escaping is json.dumps's); panels that show a saved
search run that saved search's SPL inline (the app's saved searches ship
disabled, and a disabled report cannot be run by reference), copied from
savedsearches.conf at generation time.
"""
from claw_ta_tools.detections.correlation import DRILL_PREFIX

VIEW = "claw_runtime_overview"
LABEL = "Claw Runtime Overview"
DESCRIPTION = ("Alerts, unlisted library loads with their SBOM evidence, sensor health, SBOM coverage "
               "and tier spikes of claw-runtime. Every search starts with the claw_runtime_index macro "
               "(alerts: claw_risk_summary_index): point those macros at your indexes.")
THEME = "dark"
REVIEW_VIEW = "claw_policy_proposals"  # the review dashboard (Simple XML: it hosts the review buttons' script)

# Hidden copies of clicked values (a leading underscore hides a field in a Studio table).
HIDDEN_DRILL = "_" + DRILL_PREFIX
TIME = "global_time"
SPAN = "10m"

COVERAGE_SEARCH = "Claw - SBOM Coverage by Image"
DROPS_SEARCH = "Claw - Sensor Filter Drops"
# Until the saved search "Claw - Sensor Filter Drops" ships, the panel runs this copy of
# its SPL (events that claw_runtime_index holds but `claw_runtime_sensor` rejects, per
# writer); once it ships, `generate` copies the saved search's SPL instead.
DROPS_FALLBACK = " \n".join((
    "`claw_runtime_index` NOT (`claw_runtime_sensor`)",
    '| eval writer=if(isnotnull(sensor_namespace), "pod", "systemd unit")',
    '| fillnull value="-" sensor_namespace sensor_pod _SYSTEMD_UNIT',
    "| stats count as dropped, dc(host) as hosts, values(event_type) as event_types, min(_time) as firstTime, "
    "max(_time) as lastTime by writer, sensor_namespace, sensor_pod, _SYSTEMD_UNIT",
    '| eval firstTime=strftime(firstTime, "%Y-%m-%dT%H:%M:%SZ"), lastTime=strftime(lastTime, "%Y-%m-%dT%H:%M:%SZ")',
    "| sort 0 - dropped",
    "| table writer, sensor_namespace, sensor_pod, _SYSTEMD_UNIT, dropped, hosts, event_types, firstTime, lastTime"))

def hidden_escape(fields):
    """``eval _claw_drill_<f>=<f> with each backslash doubled``: correlation.drill_escape's
    copies, hidden in a Studio table by the leading underscore."""
    return "eval " + ", ".join(r'%s%s=replace(%s, "\\\\", "\\\\\\\\")' % (HIDDEN_DRILL, f, f)
                               for f in fields)


ALERTS_BY = """`claw_risk_summary_index` source="claw:risk" claw_alert=1
| timechart span=%s count by %s"""

UNLISTED = """`claw_runtime_index` `claw_runtime_sensor` event_type=library_load
| fillnull value="-" image_digest library_digest
| stats count as loads, min(_time) as first_seen, max(_time) as last_seen, dc(host) as hosts, values(subject_name) as subject_name, values(image_ref) as image_ref by event_type, subject_digest, image_digest, library_path, library_digest
| eval image_digest=nullif(image_digest, "-"), library_digest=nullif(library_digest, "-")
| clawsbomcheck
| where sbom_status="unlisted"
| lookup claw_sbom_subjects subject_digest AS subject_digest OUTPUT evidence AS sbom_evidence
| lookup claw_sbom_subjects subject_digest AS image_digest OUTPUTNEW evidence AS sbom_evidence
| sort 0 - loads
| head 50
| convert ctime(first_seen) ctime(last_seen)
| {escape}
| table subject_name, library_path, sbom_status, sbom_reason, sbom_evidence, sbom_trust, sbom_signer, loads, hosts, first_seen, last_seen, library_digest, subject_digest, image_ref, sbom_ref, {p}subject_digest, {p}library_path""".format(
    p=HIDDEN_DRILL, escape=hidden_escape(["subject_digest", "library_path"]))

# The tokens hold the clicked row's copies with backslashes doubled. Splunk documents the
# |s filter as escaping quotes only, and then the doubled copy quoted is the value itself;
# the pinned Studio renderer's |s is JSON.stringify, which escapes backslashes too, and
# then the quoted copy is the doubled value: the replace() undoes the doubling. Either
# way the value stays one quoted string (tests/test_dashboard_render.py clicks a row).
SELECTED_LOADS = """`claw_runtime_index` `claw_runtime_sensor` event_type=library_load subject_digest=$claw_sel_subject|s$
| where subject_digest=$claw_sel_subject|s$ AND (library_path=$claw_sel_library|s$ OR library_path={undouble})
| table _time, host, namespace, pod, image_ref, triggering_process_path, library_digest""".format(
    undouble=r'replace($claw_sel_library|s$, "\\\\\\\\", "\\\\")')

SENSOR_HEALTH = """`claw_runtime_index` `claw_runtime_sensor` event_type=agent_heartbeat
| stats count as heartbeats, latest(_time) as last_heartbeat, latest(runtime_version) as runtime_version by agent_id, host
| addinfo
| eval minutes_since_heartbeat=round((min(coalesce(tonumber(info_max_time), now()), now()) - last_heartbeat) / 60, 1)
| eval status=if(minutes_since_heartbeat > `claw_sensor_silent_minutes`, "silent", "ok")
| sort 0 - minutes_since_heartbeat
| convert ctime(last_heartbeat)
| table status, agent_id, host, last_heartbeat, minutes_since_heartbeat, heartbeats, runtime_version"""

TIER_SPIKES = """`claw_runtime_index`
| `claw_tier_baseline_detect`
| where is_anomaly=1
| sort 0 - spike_score
| table image_digest, host, tier, baseline_tiers, tier_status, count, expected_count, spike_score, reason"""

VERDICTS = """`claw_runtime_index` `claw_runtime_sensor` (event_type=binary_attestation OR event_type=image_attestation) verdict=*
| timechart span=%s count by verdict""" % SPAN

SEVERITY_COLORS = {"critical": "#DC4E41", "high": "#F1813F", "medium": "#F8BE34", "low": "#53A051",
                   "informational": "#5A8DC2"}


def _search(query):
    return {"type": "ds.search", "options": {"query": query}}


def _table(title, ds_id, description=None, short=(), **options):
    """A table; the columns in ``short`` (digests, references) are cut with an ellipsis."""
    if short:
        options.setdefault("columnFormat", {}).update((f, {"textOverflow": "ellipsis"}) for f in short)
    viz = {"type": "splunk.table", "title": title, "dataSources": {"primary": ds_id},
           "options": dict({"count": 10, "showInternalFields": False}, **options)}
    if description:
        viz["description"] = description
    return viz


def _column(title, ds_id, description, colors=None):
    options = {"stackMode": "stacked", "legendDisplay": "bottom", "xAxisTitleVisibility": "hide",
               "yAxisTitleText": "alerts" if "alert" in title.lower() else "events"}
    if colors:
        options["seriesColorsByField"] = colors
    return {"type": "splunk.column", "title": title, "description": description,
            "dataSources": {"primary": ds_id}, "options": options}


def _status_colors(field, mapping):
    """(table options, context) colouring the cells of ``field`` by value."""
    return ({"columnFormat": {field: {
        "rowBackgroundColors": "> table | seriesByName(\"%s\") | matchValue(%sColors)" % (field, field),
        "rowColors": "> table | seriesByName(\"%s\") | matchValue(%sText)" % (field, field)}}},
            {"%sColors" % field: [{"match": value, "value": color} for value, color in mapping],
             "%sText" % field: [{"match": value, "value": "#FFFFFF"} for value, _ in mapping]})


def definition(saved):
    """The overview's definition; ``saved`` is ``{saved search name: SPL}`` (savedsearches.conf)."""
    drops = saved.get(DROPS_SEARCH, DROPS_FALLBACK)
    status_options, status_context = _status_colors("status", (("silent", "#DC4E41"), ("ok", "#53A051")))
    review_link = "/app/TA-claw-runtime/%s" % REVIEW_VIEW
    visualizations = {
        "viz_intro": {"type": "splunk.markdown", "options": {"markdown": (
            "Alerts are the detections' results collected to the risk summary (`claw_alert=1`). "
            "Click an unlisted library to list its loads below it. Decide on policy proposals in "
            "[Claw Policy Proposals](%s)." % review_link)}},
        "viz_alerts_detection": _column("Alerts by detection", "ds_alerts_detection",
                                        "Risk summary results that alerted, per %s" % SPAN),
        "viz_alerts_severity": _column("Alerts by severity", "ds_alerts_severity",
                                       "Risk summary results that alerted, per %s" % SPAN, SEVERITY_COLORS),
        "viz_unlisted": dict(_table(
            "Unlisted library loads to review (SBOM evidence and trust)", "ds_unlisted",
            "Loads the binary's SBOM / in-toto links do not list. Click a row to list its loads.",
            short=("library_digest", "subject_digest", "image_ref", "sbom_ref")),
            eventHandlers=[{"type": "drilldown.setToken", "options": {"tokens": [
                {"token": "claw_sel_subject", "key": "row.%ssubject_digest.value" % HIDDEN_DRILL},
                {"token": "claw_sel_library", "key": "row.%slibrary_path.value" % HIDDEN_DRILL}]}}]),
        "viz_selected_loads": _table("Loads of the selected unlisted library", "ds_selected_loads",
                                     "Shown after a click on an unlisted library above.",
                                     short=("library_digest", "image_ref")),
        "viz_sensor_health": dict(_table("Sensor health: last heartbeat per agent", "ds_sensor_health",
                                         "silent: no heartbeat for more than claw_sensor_silent_minutes",
                                         **status_options), context=status_context),
        "viz_filter_drops": _table("Events the sensor filter dropped", "ds_filter_drops",
                                   "Claw-shaped events not written by the sensor (claw_runtime_sensor): "
                                   "same SPL as the saved search \"%s\"" % DROPS_SEARCH,
                                   showInternalFields=True),  # _SYSTEMD_UNIT is a column
        "viz_coverage": _table("SBOM coverage by image", "ds_coverage",
                               "Evidence level and share of loads unverifiable / no_sbom: same SPL as the "
                               "saved search \"%s\"" % COVERAGE_SEARCH, short=("image_digest",)),
        "viz_tier_spikes": _table("Tier spikes", "ds_tier_spikes",
                                  "Attestations from hosts outside an image's normal tier, or far above its rate",
                                  short=("image_digest",)),
        "viz_verdicts": _column("Attestation verdicts", "ds_verdicts", "Per %s" % SPAN,
                                {"Allowed": "#53A051", "Denied": "#DC4E41"}),
    }
    data_sources = {
        "ds_alerts_detection": _search(ALERTS_BY % (SPAN, "detection_id")),
        "ds_alerts_severity": _search(ALERTS_BY % (SPAN, "severity")),
        "ds_unlisted": _search(UNLISTED),
        "ds_selected_loads": _search(SELECTED_LOADS),
        "ds_sensor_health": _search(SENSOR_HEALTH),
        "ds_filter_drops": _search(drops),
        "ds_coverage": _search(saved[COVERAGE_SEARCH]),
        "ds_tier_spikes": _search(TIER_SPIKES),
        "ds_verdicts": _search(VERDICTS),
    }
    rows = [  # (item, x, y, w, h) on a 1440 px wide grid
        ("viz_intro", 0, 0, 1440, 60),
        ("viz_alerts_detection", 0, 60, 720, 300), ("viz_alerts_severity", 720, 60, 720, 300),
        ("viz_unlisted", 0, 360, 1440, 600),
        ("viz_selected_loads", 0, 960, 1440, 260),
        ("viz_sensor_health", 0, 1220, 720, 400), ("viz_filter_drops", 720, 1220, 720, 400),
        ("viz_coverage", 0, 1620, 1440, 400),
        ("viz_tier_spikes", 0, 2020, 720, 300), ("viz_verdicts", 720, 2020, 720, 300),
    ]
    return {
        "title": LABEL,
        "description": DESCRIPTION,
        "inputs": {"input_time": {"type": "input.timerange", "title": "Time range",
                                  "options": {"token": TIME, "defaultValue": "-24h@h,now"}}},
        "defaults": {"dataSources": {"ds.search": {"options": {"queryParameters": {
            "earliest": "$%s.earliest$" % TIME, "latest": "$%s.latest$" % TIME}}}}},
        "visualizations": visualizations,
        "dataSources": data_sources,
        "layout": {"type": "grid", "options": {"width": 1440},
                   "structure": [{"item": item, "type": "block", "position": {"x": x, "y": y, "w": w, "h": h}}
                                 for item, x, y, w, h in rows],
                   "globalInputs": ["input_time"]},
    }
