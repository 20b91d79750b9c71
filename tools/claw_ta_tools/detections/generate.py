"""Generate the detections' saved searches and macros from ``definitions.py``.

``python -m claw_ta_tools.detections.generate`` rewrites, in default/savedsearches.conf
and default/macros.conf, only the block between ``# BEGIN GENERATED:
claw_ta.detections`` and ``# END GENERATED: claw_ta.detections`` (appended
when absent), and in the repository's docs/detections.md the detection tables
between the Markdown markers of ``docs_table.py`` (skipped where the page is
absent); everything outside them is left as is.
``--check`` exits 1 when a block differs from what the definitions generate.
"""
import argparse
import json
import os
import sys

from claw_ta import DEFAULT_DIR
from claw_ta_tools import DOCS_DIR
from claw_ta.detections import definitions as defs
from claw_ta_tools.detections import correlation, docs_table
from claw_ta_tools.detections.correlation import DRILL_PREFIX, drill_escape, drill_token
from claw_ta_tools.detections.allowlist_spl import ALLOWLIST_ROWS, macro_stanzas  # noqa: F401

BEGIN = "# BEGIN GENERATED: claw_ta.detections"
END = "# END GENERATED: claw_ta.detections"
NOTE = ("# Do not edit this block: it is written by `python -m claw_ta_tools.detections.generate`\n"
        "# from bin/claw_ta/detections/definitions.py (the replay runs the same definitions).\n"
        "# Tune in local/ (a detection's `<detection_id>_filter` macro, the threshold macros)\n"
        "# or with the claw_allowlist KV store collection (docs/tuning.md).\n")
ANALYTIC_STORY = "Claw Runtime Supply Chain Integrity"
DOCS_FILE = os.path.join(DOCS_DIR, "detections.md")
OUTPUT_COMMON = ("detection_id", "severity", "environment", "risk_score", "risk_object",
                 "risk_object_type", "claw_alert", "count", "firstTime", "lastTime")


def _q(value):
    return '"%s"' % str(value).replace("\\", "\\\\").replace('"', '\\"')


def stage_segments(detection, params=None):
    """The pipeline segments (without the leading ``|``) of a detection's stages."""
    segments = []
    for stage in detection.stages:
        text = stage.spl(params)
        for part in text.split(" | "):
            part = part.strip()
            segments.append(part[1:].strip() if part.startswith("|") else part)
    return segments


def tail_segments(detection):
    """Environment, allowlist, severity/risk, filter macro, claw_alert: the same for every detection."""
    fields = []
    for field in detection.output_fields + OUTPUT_COMMON:
        if field not in fields:
            fields.append(field)
    fields = " ".join(fields)
    return [
        "eval detection_id=%s" % _q(detection.id),
        # Aggregated rows may carry several namespaces (values(), sorted): the
        # first decides, as in the replay.
        'eval claw_namespace=coalesce(mvindex(namespace, 0), "(none)")',
        # Site rows (KV store) first, then the shipped defaults for what they leave unset.
        "lookup claw_namespace_env namespace AS claw_namespace OUTPUT environment",
        "lookup claw_namespace_env_default namespace AS claw_namespace OUTPUTNEW environment",
        'eval environment=coalesce(environment, "unknown")',
        "search NOT [| inputlookup claw_allowlist | `claw_allowlist_rows(%s)`]" % detection.id,
        "eval severity=%s, risk_score=%d, risk_object=case(isnotnull(pod), pod, isnotnull(image_digest), "
        'image_digest, true(), host), risk_object_type=if(isnull(pod) AND isnotnull(image_digest), "other", "system")'
        % (_q(detection.severity), detection.risk_score),
        'eval claw_risk_system=if(risk_object_type="system", risk_object, null()), '
        'claw_risk_other=if(risk_object_type="other", risk_object, null())',
        "`%s`" % detection.filter_macro,
        ('eval claw_alert=if(environment="prod", 1, 0)' if detection.prod_only else "eval claw_alert=1"),
        drill_escape(drilldown_fields(detection)),
        "fields %s claw_risk_system claw_risk_other %s" % (
            fields, " ".join(DRILL_PREFIX + f for f in drilldown_fields(detection))),
        # Every result, every environment, to the risk summary (claw_ta_tools.detections.correlation).
        "`claw_risk_collect`",
    ]


def results_spl(detection, sep=" "):
    """The detection over every environment (what risk is computed from)."""
    segments = stage_segments(detection) + tail_segments(detection)
    return segments[0] + "".join(sep + "| " + s for s in segments[1:])


def alert_spl(detection, sep=" "):
    return results_spl(detection, sep) + sep + "| where claw_alert=1"


# Continuous scheduling (savedsearches.conf spec, realtime_schedule): every
# detection collects its results to the risk summary over abutting windows,
# and the two rules that read the summary look back over fixed windows; under
# the default real-time scheduling "the scheduler might skip some execution
# periods", a permanent gap in the summary and the alerts. With 0 a skipped
# period runs later instead.
CONTINUOUS = ("realtime_schedule", "0")


def _conf_value(spl):
    """A multi-line conf value: continuation lines end with a backslash."""
    return spl.replace("\n", " \\\n")


def _dispatch(detection):
    span = detection.interval_minutes + detection.lookback_minutes + detection.lag_minutes
    latest = "-%dm@m" % detection.lag_minutes if detection.lag_minutes else "now"
    return "-%dm@m" % span, latest


def drilldown_fields(detection):
    return [f for f in detection.entity_fields if f not in ("namespace", "tier", "image_ref")]


def drilldown(detection):
    base = detection.stages[0].spl(None)
    return base + "".join(" %s=%s" % (f, drill_token(f)) for f in drilldown_fields(detection))


def _risk_param(score):
    return json.dumps([
        {"risk_object_field": "claw_risk_system", "risk_object_type": "system", "risk_score": score},
        {"risk_object_field": "claw_risk_other", "risk_object_type": "other", "risk_score": score},
    ])


def _es_keys(label, title, description, severity, mitre, score, entity_fields, drill, message):
    annotations = json.dumps({"analytic_story": [ANALYTIC_STORY], "mitre_attack": list(mitre)},
                             sort_keys=True)
    return [
        ("action.correlationsearch.enabled", "1"),
        ("action.correlationsearch.label", label),
        ("action.correlationsearch.annotations", annotations),
        # Off: only Enterprise Security defines the notable and risk actions
        # (ES_FILE switches them on where it is installed).
        ("action.notable", "0"),
        ("action.notable.param.rule_title", title),
        ("action.notable.param.rule_description", description),
        ("action.notable.param.security_domain", "endpoint"),
        ("action.notable.param.severity", severity),
        ("action.notable.param.nes_fields", ",".join(entity_fields)),
        ("action.notable.param.drilldown_name", "View the events behind this alert"),
        ("action.notable.param.drilldown_search", drill),
        ("action.notable.param.drilldown_earliest_offset", "$info_min_time$"),
        ("action.notable.param.drilldown_latest_offset", "$info_max_time$"),
        ("action.risk", "0"),
        ("action.risk.param._risk", _risk_param(score)),
        ("action.risk.param._risk_message", message),
        ("action.risk.param.verbose", "0"),
    ]


def _alert_keys(severity, entity_fields, throttle):
    return [
        ("counttype", "number of events"),
        ("relation", "greater than"),
        ("quantity", "0"),
        ("alert.track", "1"),
        ("alert.digest_mode", "0"),
        ("alert.severity", str(defs.SEVERITY_LEVELS[severity])),
        ("alert.suppress", "1"),
        ("alert.suppress.fields", ",".join(entity_fields)),
        ("alert.suppress.period", throttle),
    ]


def _stanza(name, keys):
    lines = ["[%s]" % name]
    for key, value in keys:
        lines.append("%s = %s" % (key, _conf_value(value)))
    return "\n".join(lines) + "\n"


def detection_stanza(d):
    earliest, latest = _dispatch(d)
    message = "%s (%s) on %s" % (d.title, d.id, ", ".join("%s=$%s$" % (f, f) for f in d.entity_fields))
    keys = [
        ("description", "[%s] %s%s" % (d.id, d.description,
                                       " Alerts in production namespaces only (claw_namespace_env); "
                                       "elsewhere it only adds risk." if d.prod_only else
                                       " Alerts in every environment.")),
        ("search", alert_spl(d, sep="\n")),
        ("disabled", "1"),
        ("enableSched", "1"),
        ("cron_schedule", d.cron),
        ("dispatch.earliest_time", earliest),
        ("dispatch.latest_time", latest),
        ("schedule_window", "auto"),
        CONTINUOUS,
    ]
    keys += _alert_keys(d.severity, d.throttle_fields, d.throttle)
    keys += _es_keys(d.search_name, "%s: %s" % (d.title, ", ".join("$%s$" % f for f in d.entity_fields)),
                     d.description, d.severity, d.mitre, d.risk_score, d.entity_fields, drilldown(d), message)
    keys += _feedback_keys(d.id)
    return _stanza(d.search_name, keys)


def _feedback_keys(detection_id):
    """The policy feedback alert action, off: enabling it is one switch (review mode)."""
    return [
        ("action.claw_policy_feedback", "0"),
        ("action.claw_policy_feedback.param.detection_id", detection_id),
        ("action.claw_policy_feedback.param.mode", "review"),
    ]


def risk_stanza():
    rule = defs.RISK_INCIDENT
    description = ("[%s] One entity (a pod, a host binary's host, else an image digest) collected risk from "
                   "at least %d different Claw detections within %d hours, in any environment. Works without "
                   "Enterprise Security: it reads the results every detection collects to the risk summary "
                   "(`claw_risk_summary_index`), no detection is re-run."
                   % (rule["id"], rule["min_detections"], rule["window_hours"]))
    keys = [
        ("description", description),
        ("search", correlation.risk_spl()),
        ("disabled", "1"),
        ("enableSched", "1"),
        ("cron_schedule", "20 * * * *"),
        ("dispatch.earliest_time", "-%dh@m" % rule["window_hours"]),
        ("dispatch.latest_time", "-5m@m"),
        ("schedule_window", "auto"),
        CONTINUOUS,
    ]
    keys += _alert_keys(rule["severity"], ("risk_object",), "24h")
    keys += _es_keys("Claw - %s - Rule" % rule["title"], "Workload risk: $risk_object$ ($detections$)",
                     description, rule["severity"], rule["mitre"], 0, ("risk_object",),
                     '`claw_risk_summary_index` source="%s" %s' % (correlation.SOURCE, drill_token("risk_object")),
                     "Claw workload risk incident on $risk_object$")
    keys = [(k, v) for k, v in keys if not k.startswith("action.risk")] + [("action.risk", "0")]
    return _stanza("Claw - %s - Rule" % rule["title"], keys)


def network_stanza():
    net = defs.NETWORK_CONTEXT
    description = ("[%s] Raises an unlisted-library alert (claw_unlisted_library_load) to %s when the same "
                   "pod or host (CIM Network_Traffic src: its name, or the addresses `claw_entity_addresses` "
                   "adds) contacts a destination it had not contacted in the previous 24 hours within %d "
                   "minutes after the load. Reads the alerts from the risk summary and Network_Traffic for "
                   "those sources only (accelerate the data model for speed); not covered by the offline replay."
                   % (net["id"], net["severity"], net["minutes"]))
    keys = [
        ("description", description),
        ("search", correlation.network_spl()),
        ("disabled", "1"),
        ("enableSched", "1"),
        ("cron_schedule", "*/15 * * * *"),
        ("dispatch.earliest_time", "-24h@m"),
        ("dispatch.latest_time", "-5m@m"),
        ("schedule_window", "auto"),
        CONTINUOUS,
    ]
    keys += _alert_keys(net["severity"], ("claw_entity",), "24h")
    keys += _es_keys("Claw - %s - Rule" % net["title"], "Unlisted library and new outbound connections: $claw_entity$",
                     description, net["severity"], net["mitre"], net["risk_score"],
                     ("claw_entity",),
                     '| tstats summariesonly=false count from datamodel=Network_Traffic.All_Traffic '
                     'where All_Traffic.src=%s by All_Traffic.dest All_Traffic.dest_port' % drill_token("claw_entity"),
                     "Unlisted library load followed by new outbound connections from $claw_entity$")
    return _stanza("Claw - %s - Rule" % net["title"], keys)


def savedsearches_block():
    parts = [BEGIN, NOTE]
    for d in defs.DETECTIONS:
        parts.append(detection_stanza(d))
    parts.append(risk_stanza())
    parts.append(network_stanza())
    parts.append(END)
    return "\n".join(parts) + "\n"


def macros_block():
    parts = [BEGIN, NOTE]
    parts.append("# Thresholds (override in local/macros.conf; the replay reads the effective value).")
    for name, value, doc in defs.PARAMS:
        parts.append("# %s\n[%s]\ndefinition = %s\niseval = 0\n" % (doc, name, value))
    parts.extend(macro_stanzas())
    parts.extend(correlation.macro_stanzas())
    parts.append("# Site-specific tuning: one filter per detection, `search *` by default.\n"
                 "# The offline replay does not see what you put here.")
    ids = [d.id for d in defs.DETECTIONS] + [defs.RISK_INCIDENT["id"], defs.NETWORK_CONTEXT["id"]]
    for detection_id in ids:
        parts.append("[%s_filter]\ndefinition = search *\niseval = 0\n" % detection_id)
    parts.append(END)
    return "\n".join(parts) + "\n"


def splice(text, block, begin=BEGIN, end_marker=END):
    """``text`` with its generated block replaced by ``block`` (appended when it has none)."""
    start = text.find(begin)
    if start < 0:
        if text and not text.endswith("\n"):
            text += "\n"
        return text + ("\n" if text else "") + block
    end = text.find(end_marker, start)
    if end < 0:
        raise ValueError("%s without %s" % (begin, end_marker))
    end += len(end_marker)
    if text[end:end + 1] == "\n":
        end += 1
    return text[:start] + block + text[end:]


def current_block(text, begin=BEGIN, end_marker=END):
    start = text.find(begin)
    end = text.find(end_marker, start)
    if start < 0 or end < 0:
        return None
    return text[start:end + len(end_marker)] + "\n"


# The Enterprise Security switch: shipped in README/, copied into
# local/savedsearches.conf on search heads where ES is installed.
ES_FILE = "enterprise_security_savedsearches.conf.example"
ES_HEADER = """# Enterprise Security switch for TA-claw-runtime (generated; see docs/detections.md).
# The detections ship with action.notable = 0 and action.risk = 0: the notable
# and risk alert actions exist only where Splunk Enterprise Security is
# installed, and a search that triggers an action that does not exist fails to
# run it. On ES search heads only (the SHC deployer: etc/shcluster/apps/), copy
# the stanzas below into $SPLUNK_HOME/etc/apps/TA-claw-runtime/local/savedsearches.conf.
# Every other key (titles, drill-downs, risk objects, annotations) ships in
# default/savedsearches.conf.

"""


def es_block():
    """The local/ stanzas that turn on ES's notable and risk actions for every rule."""
    parts = [BEGIN, NOTE]
    names = [(d.search_name, True) for d in defs.DETECTIONS]
    names += [("Claw - %s - Rule" % defs.RISK_INCIDENT["title"], False),
              ("Claw - %s - Rule" % defs.NETWORK_CONTEXT["title"], True)]
    for name, risk in names:
        parts.append("[%s]\naction.notable = 1\n%s" % (name, "action.risk = 1\n" if risk else ""))
    parts.append(END)
    return "\n".join(parts) + "\n"


TARGETS = (("savedsearches.conf", savedsearches_block), ("macros.conf", macros_block))


def _targets(default_dir, docs_file):
    """(path, block, begin, end) of every generated block; the docs page only where it exists."""
    found = [(os.path.join(default_dir, name), make(), BEGIN, END) for name, make in TARGETS]
    readme = os.path.join(os.path.dirname(default_dir), "README")
    if os.path.isdir(readme):  # the app's README/ folder (absent from a test's bare default/)
        found.append((os.path.join(readme, ES_FILE), es_block(), BEGIN, END))
    if docs_file and os.path.exists(docs_file):
        found.append((docs_file, docs_table.docs_block(), docs_table.BEGIN, docs_table.END))
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m claw_ta_tools.detections.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated block is out of date")
    parser.add_argument("--default-dir", default=DEFAULT_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--docs-file", default=DOCS_FILE, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    stale = []
    for path, block, begin, end in _targets(args.default_dir, args.docs_file):
        name = os.path.basename(path)
        text = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
        if not text and name == ES_FILE:
            text = ES_HEADER
        if current_block(text, begin, end) == block:
            continue
        stale.append(name)
        if not args.check:
            with open(path, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(splice(text, block, begin, end))
    if args.check and stale:
        sys.stderr.write("out of date: %s (run python -m claw_ta_tools.detections.generate)\n" % ", ".join(stale))
        return 1
    for name in stale:
        sys.stdout.write("wrote %s\n" % name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
