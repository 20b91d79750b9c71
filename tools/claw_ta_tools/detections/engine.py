"""Offline replay: run the detections of ``definitions.py`` over a scenario directory.

The scenario format is docs/scenario-format.md (``scenario.json``,
``events/``, ``sboms/``, ``lookups/``, ``expected.jsonl``). Events are read
with ``claw_ta_tools.normalize.read_events`` (all four delivery shapes) and streamed
once: each event goes to the detections whose base search selects it, in the
detection's time range ``[detect_from - lookback, detect_to)``; the stages up
to the first aggregation work event by event, so memory holds aggregates,
not events (except the few attestation events the tier baseline and the
denied-then-allowed sequence need in time order).

Then the common tail, the same as the SPL tail of every saved search:
namespace environment (claw_namespace_env.csv, events without a namespace
looked up as ``(none)``), the allowlist, severity and risk, and ``claw_alert``
(production only for workload detections). Alerts are throttled on the entity
fields (one alert per entity per run, like ``alert.suppress.fields``).
"""
import json
import os
import sys
import time as _time

from claw_ta import APP_DIR
from claw_ta_tools import lookups as lk
from claw_ta.detections import definitions as defs
from claw_ta_tools.detections import correlation, skips
from claw_ta.detections.filters import Search, Where
from claw_ta.detections.stages import Aggregate, DeniedThenAllowed, TierAnomaly
from claw_ta_tools.detections.scenario import (Scenario, ScenarioError, read_macro_params,  # noqa: F401
                                         read_sensor_rule, read_tier_node_label,
                                         read_tier_trusted_namespaces)
from claw_ta_tools.normalize import NS, ns_to_time

NO_NAMESPACE = "(none)"
# Site table -> (replay stand-in file, key field, default): the site rows (KV store
# in Splunk) and then <name>_default.csv, as the searches' two lookups read them.
LOOKUPS = {
    "claw_namespace_env": ("claw_namespace_env.csv", "namespace", "unknown"),
    "claw_image_env": ("claw_image_env.csv", "image_ref", "unknown"),
}
HEARTBEAT = "agent_heartbeat"
# What the tier baseline trains on: attestations, and heartbeats for the nodes' labels.
TIER_EVENT_TYPES = ("binary_attestation", "image_attestation", HEARTBEAT)
SUBJECTS_TABLE = "claw_sbom_subjects.csv"  # what NotSameAttestation looks up, in SPL too


class Context(object):
    """What stages see: the window, the tunables, the lookups, the SBOM index, the tier model."""

    def __init__(self, scenario, params, history_attestations, tier_trusted=frozenset(), node_label="tier",
                 platforms=None):
        self.scenario = scenario
        self.tier_trusted = tier_trusted  # the site's claw_tier_trusted_namespaces
        self.node_label = node_label  # the site's claw_tier_node_label
        self.platforms = platforms if platforms is not None else {}  # lowercased host -> (time, platform)
        self.detect_from = scenario.detect_from
        self.detect_to = scenario.detect_to
        self.start = self.detect_from
        self.end = self.detect_to
        self.params = params
        self.history_attestations = history_attestations
        self._lookups = {}
        self._sbom = None
        self._sbom_rows = None
        self._refs = None
        self.warnings = []

    def lookup_file(self, name):
        return lk.lookup_path(name, self.scenario.lookup_dirs)

    def node_platform(self, host):
        """``os/arch`` of the host's latest heartbeat with node labels (lookup claw_node_platforms)."""
        if not isinstance(host, str):
            return None
        found = self.platforms.get(host.lower())
        return found[1] if found is not None else None

    def lookup(self, name):
        table = self._lookups.get(name)
        if table is None:
            filename, key, default = LOOKUPS[name]
            table = lk.Lookup(lk.layered_rows(filename, self.scenario.lookup_dirs), key)
            table.default = default
            self._lookups[name] = table
        return table

    def allowlist(self):
        table = self._lookups.get("claw_allowlist")
        if table is None:
            table = lk.Allowlist(lk.read_csv(self.lookup_file("claw_allowlist.csv")), self.detect_to)
            self.warnings.extend(table.problems)
            self._lookups["claw_allowlist"] = table
        return table

    def sbom_tables(self):
        """The SBOM tables (claw_sbom_subjects/libraries.csv overrides) plus the scenario's sboms/."""
        if self._sbom_rows is None:
            from claw_ta.sbom.index import Tables, build_tables
            tables = Tables()
            for name, columns in ((SUBJECTS_TABLE, tables.subjects),
                                  ("claw_sbom_libraries.csv", tables.libraries)):
                path = self.lookup_file(name)
                if os.path.exists(path):
                    with open(path, encoding="utf-8") as handle:
                        next(handle, None)
                        for line in handle:
                            columns.add(line if line.endswith("\n") else line + "\n")
            if self.scenario.sbom_dir:
                built, errors = build_tables([self.scenario.sbom_dir])
                for lines, more in ((tables.subjects, built.subjects), (tables.libraries, built.libraries)):
                    for line in more:
                        lines.add(line)
                for error in errors:
                    self.warnings.append("sboms: %s" % (error,))
            self._sbom_rows = tables
        return self._sbom_rows

    @property
    def sbom_index(self):
        if self._sbom is None:
            from claw_ta.sbom.matcher import SbomIndex
            self._sbom = SbomIndex.from_tables(self.sbom_tables())
        return self._sbom

    def sbom_subject_rows(self):
        """The subjects table claw_sbom_subjects (overridden) plus the subjects of the
        scenario's sboms/, as `claw-ta sbom-index` would write them."""
        return list(self.sbom_tables().subject_rows())

    def sbom_refs(self, subject_digest):
        """The sbom_ref values (document identities) of the claw_sbom_subjects rows of
        ``subject_digest`` whose document is not untrusted."""
        if self._refs is None:
            self._refs = {}
            for row in self.sbom_subject_rows():
                digest = (row.get("subject_digest") or "").lower()
                if digest and row.get("sbom_ref") and row.get("sbom_trust") != "untrusted":
                    self._refs.setdefault(digest, set()).add(row["sbom_ref"])
        if not isinstance(subject_digest, str):
            return set()
        return self._refs.get(subject_digest.lower(), set())

    def tier_rows(self, window_events):
        """Rows of clawtierbaseline mode=detect over the window, trained on the history."""
        from claw_ta import tiers
        host_tiers = lk.read_csv(self.lookup_file("claw_host_tiers.csv"))
        shipped = lk.read_csv(self.lookup_file("claw_tier_baseline.csv"))
        history = self.history_attestations  # a tiers Aggregator: memory grows with (digest, host) pairs
        history = history.rows() + history.node_rows() if hasattr(history, "rows") else history
        trusted = self.tier_trusted
        baseline = tiers.train_from_events(history, baseline_rows=shipped or None, host_tiers=host_tiers,
                                           now=self.detect_from, trusted_namespaces=trusted,
                                           node_tier_label=self.node_label)
        return tiers.detect_from_events(window_events, baseline, host_tiers=host_tiers,
                                        trusted_namespaces=trusted, node_tier_label=self.node_label)


# What a buffered stage reads from each event (besides the Aggregate after it):
# the replay keeps only these fields of buffered events, so memory does not
# hold whole events. A stage type not listed keeps whole events.
BUFFER_READS = {DeniedThenAllowed: ("event_type", "verdict", "image_ref", "image_digest", "namespace")}


class _TierAccumulator(object):
    """The `claw_tier_aggregate` stats of the window (claw_ta.tiers): pairs and node rows, not events."""

    def __init__(self, node_label="tier"):
        from claw_ta.tiers.aggregate import Aggregator
        self.agg = Aggregator(node_label=node_label)
        self.add = self.agg.add_record

    def rows(self):
        return self.agg.rows() + self.agg.node_rows()


class _Run(object):
    """One detection's streaming state during a replay."""

    def __init__(self, detection, ctx):
        self.d = detection
        scn = ctx.scenario
        self.start_ns = scn.detect_from_ns - int(round(detection.lookback_minutes * 60 * NS))
        self.end_ns = scn.detect_to_ns
        self.start = ns_to_time(self.start_ns)
        self.end = ctx.detect_to
        stages = list(detection.stages)
        if not isinstance(stages[0], Search):
            raise TypeError("%s: the first stage must be a Search" % detection.id)
        self.filters = [stages.pop(0)]
        while stages and isinstance(stages[0], Where):
            self.filters.append(stages.pop(0))
        self.acc = stages.pop(0).accumulator() if stages and isinstance(stages[0], Aggregate) else None
        if self.acc is None and stages and isinstance(stages[0], TierAnomaly):
            # TierAnomaly reads the stats rows (they re-aggregate exactly)
            self.acc = _TierAccumulator(ctx.node_label)
        self.rest = stages
        self.keep = self._kept_fields(stages) if self.acc is None else None
        self._values = {}
        self.buffer = []
        self.selected = 0
        # A Search without terms is routed by event type only: nothing more to check.
        self.accepts = [stage.accept for stage in self.filters if not (isinstance(stage, Search) and not stage.terms)]

    @staticmethod
    def _kept_fields(stages):
        reads = set(["_time", "_time_ns"])
        for stage in stages:
            if isinstance(stage, Aggregate):
                return frozenset(reads.union(stage.by, stage.values))
            if type(stage) not in BUFFER_READS:
                return None
            reads.update(BUFFER_READS[type(stage)])
        return None

    def add(self, event, params):
        """An event of the detection's time range [start_ns, end_ns) (the caller checks it)."""
        for accept in self.accepts:
            if not accept(event, params):
                return
        self.selected += 1
        if self.acc is not None:
            self.acc.add(event)
        elif self.keep is not None:
            values = self._values  # one string object per distinct value
            self.buffer.append(dict((k, values.setdefault(v, v) if type(v) is str else v)
                                    for k, v in event.items() if k in self.keep))
        else:
            self.buffer.append(event)

    def finish(self, ctx):
        ctx.start, ctx.end = self.start, self.end
        if self.acc is not None:
            rows = self.acc.rows()
        else:
            rows = sorted(self.buffer, key=lambda e: e["_time_ns"])
        self._values = None
        self.aggregated = len(rows)
        for stage in self.rest:
            rows = stage.apply(rows, ctx)
        return rows


def risk_object(row):
    """(risk_object, risk_object_type): the workload (pod, else a host binary's host), else the image digest."""
    if row.get("pod") is not None:
        return row["pod"], "system"
    if row.get("image_digest") is not None:
        return row["image_digest"], "other"
    return row.get("host"), "system"


def tail(detection, rows, ctx):
    """Environment, allowlist, severity, risk and claw_alert: the SPL tail of every saved search."""
    ns_env = ctx.lookup("claw_namespace_env")
    allow = ctx.allowlist()
    out = []
    for row in rows:
        row = dict(row)
        row["detection_id"] = detection.id
        namespace = row.get("namespace")
        if isinstance(namespace, list):
            namespace = namespace[0]
        row["environment"] = ns_env.get(namespace if namespace is not None else NO_NAMESPACE,
                                        "environment", ns_env.default)
        if allow.match(detection.id, row) is not None:
            continue
        row["severity"] = detection.severity
        row["risk_score"] = detection.risk_score
        row["risk_object"], row["risk_object_type"] = risk_object(row)
        row["claw_alert"] = 1 if (not detection.prod_only or row["environment"] == "prod") else 0
        out.append(row)
    return out


def iso(epoch):
    if epoch is None:
        return None
    text = _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(epoch))
    frac = ("%.6f" % (epoch % 1))[1:].rstrip("0").rstrip(".")
    return text + frac + "Z"


def alert_record(detection, row):
    """The JSON object printed for an alert: detection_id, severity, entity and context fields."""
    out = {"detection_id": detection.id, "severity": row["severity"]}
    for field in detection.output_fields + ("count",):
        value = row.get(field)
        if value is not None:
            out[field] = iso(value) if field in ("firstTime", "lastTime") else value
    out["firstTime"] = iso(row.get("firstTime"))
    out["environment"] = row["environment"]
    out["risk_score"] = row["risk_score"]
    out["risk_object"] = row["risk_object"]
    return out


def throttle(detection, rows):
    """One alert per entity (alert.suppress.fields): the earliest row of each entity, counts summed."""
    seen = {}
    out = []
    for row in sorted(rows, key=lambda r: r.get("firstTime") or 0):
        key = tuple(json.dumps(row.get(f), sort_keys=True) for f in detection.throttle_fields)
        if key in seen:
            kept = seen[key]
            kept["count"] = kept.get("count", 0) + row.get("count", 0)
            continue
        seen[key] = row
        out.append(row)
    return out


def risk_incidents(results, end):
    """claw_workload_risk at ``end``, as the saved search computes it: the results as
    `claw_risk_collect` writes them to the risk summary, then the rule over the
    summary events of the 24 hours before ``end`` (claw_ta_tools.detections.correlation)."""
    rule = defs.RISK_INCIDENT
    events = correlation.collect_events(results, end)
    incidents = []
    for found in correlation.risk_correlate(events, end - rule["window_hours"] * 3600, end):
        incidents.append({
            "detection_id": rule["id"], "severity": rule["severity"],
            "risk_object": found["risk_object"], "risk_object_type": found["risk_object_type"],
            "risk_score": found["risk_score"], "detection_count": found["detection_count"],
            "detections": found["detections"], "firstTime": iso(found["firstTime"]),
        })
    return incidents


class Replay(object):
    """The outcome of replaying one scenario: alerts, all risk-contributing results, statistics."""

    def __init__(self, scenario, params=None, detections=None, sampler=None, sensor=None, app_dir=None):
        # app_dir: the app whose default/ and local/macros.conf hold the site's values
        app_dir = app_dir or APP_DIR
        self.scenario = scenario
        self.params = params or read_macro_params(app_dir)
        self.detections = detections or defs.DETECTIONS
        self.sampler = sampler
        self.stats = {"events": 0, "malformed": 0, "not_sensor": 0, "no_time": 0, "sampled_out": 0}
        self.writers = {}  # the writers of the not_sensor events: description -> count
        self.sensor = sensor or read_sensor_rule(app_dir)
        self.tier_trusted = read_tier_trusted_namespaces(app_dir)
        self.node_label = read_tier_node_label(app_dir)
        self.warnings = []
        self._run()

    def _run(self):
        from claw_ta.tiers.aggregate import Aggregator
        scn = self.scenario
        history = Aggregator(node_label=self.node_label)  # the tier baseline's training input, as it streams
        platforms = self.platforms = {}  # lowercased host -> (time, os/arch) of its latest heartbeat
        ctx = Context(scn, self.params, history, self.tier_trusted, self.node_label, platforms)
        runs = [_Run(d, ctx) for d in self.detections]
        routes = {}
        for run in runs:
            for event_type in run.filters[0].event_types:
                routes.setdefault(event_type, []).append(run)
        detect_from = scn.detect_from_ns
        stats = self.stats
        sampler = self.sampler
        sensor = self.sensor
        params = self.params
        count = 0
        for event in scn.events():
            count += 1
            if "parse_error" in event:
                stats["malformed"] += 1
                if stats["malformed"] <= 5:
                    self.warnings.append("%s: skipped a malformed event: %s"
                                         % (event.get("source"), event["parse_error"]))
                continue
            if ("sensor_namespace" in event or "_SYSTEMD_UNIT" in event) and not sensor.accepts(event):
                stats["not_sensor"] += 1
                skips.count_writer(self.writers, event)
                continue
            t = event.get("_time_ns")
            if t is None:
                stats["no_time"] += 1
                continue
            event_type = event.get("event_type")
            if event_type == HEARTBEAT and "k8s_node_labels" in event:
                skips.note_platform(platforms, event, t)
            if sampler is not None and not sampler(event):
                stats["sampled_out"] += 1
                continue
            if t < detect_from and event_type in TIER_EVENT_TYPES:
                history.add_record(event)
            for run in routes.get(event_type, ()):
                if run.start_ns <= t < run.end_ns:
                    run.add(event, params)
        stats["events"] += count
        self.results = []
        self.alerts = []
        self.stage_counts = {}
        for run in runs:
            rows = tail(run.d, run.finish(ctx), ctx)
            self.stage_counts[run.d.id] = (run.selected, run.aggregated, len(rows))
            self.results.extend(rows)
            for row in throttle(run.d, [r for r in rows if r["claw_alert"] == 1]):
                self.alerts.append(alert_record(run.d, row))
        self.warnings.extend(ctx.warnings)

    def skipped_summary(self):
        """One line: how many events were skipped and why (None when none was)."""
        return skips.summary(self.stats, self.writers, self.sensor)

    def incidents(self):
        return risk_incidents(self.results, self.scenario.detect_to)


def replay(path, **kwargs):
    return Replay(Scenario(path), **kwargs)


def warn(message):
    sys.stderr.write("claw-ta: %s\n" % message)
