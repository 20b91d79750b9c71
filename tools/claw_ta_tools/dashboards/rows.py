"""The rows each overview search would return over the bundled scenarios, for the render test.

The scenarios are read as one Splunk instance that indexed them all, searched
over their common window (each scenario's ``detect_from``..``detect_to``; they
share one): events through claw_ta_tools.normalize and the sensor rule, alerts
through the replay (engine.Replay: the detections' results, as
`claw_risk_collect` writes them to the risk summary), SBOM verdicts through
claw_ta.sbom.matcher with each scenario's own SBOM tables, tier rows through
claw_ta.tiers trained on the scenario's history. ``convert ctime`` is the
default ``%m/%d/%Y %H:%M:%S`` in UTC; ``_time`` is ISO 8601 as Splunk's search
API returns it. Each builder names the fields it knows; a field a search's final
``table`` lists that its builder does not know is reported, not invented.
"""
import re
import time

from claw_ta_tools.dashboards import overview
from claw_ta_tools.detections import engine
from claw_ta_tools.detections.scenario import (Scenario, read_macro_params, read_sensor_rule,
                                               read_tier_trusted_namespaces)

SPAN_SECONDS = {"10m": 600}[overview.SPAN]
TIMECHART_LIMIT = 10  # timechart's default limit: the top 10 series, the rest as OTHER
ATTESTATIONS = ("binary_attestation", "image_attestation")
_RANK = {"unlisted": 0, "unverifiable": 1, "no_sbom": 2, "listed": 3}


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000+00:00", time.gmtime(epoch))


def ctime(epoch):
    return time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(epoch))


def table_fields(spl):
    """The fields of the search's final ``| table`` (None if it ends otherwise)."""
    last = re.split(r"\n\s*\|", spl.strip())[-1].strip()
    match = re.match(r"^\|?\s*table\s+(.+)$", last, re.S)
    return [f.strip() for f in match.group(1).split(",")] if match else None


def _mv(values):
    values = sorted(set(v for v in values if v not in (None, "")))
    return values if len(values) > 1 else (values[0] if values else None)


def _has(event, *fields):
    return all(event.get(f) not in (None, "") for f in fields)


class _World(object):
    """What the searches see: per-scenario contexts and the events of the window."""

    def __init__(self, paths, app_dir):
        from claw_ta.tiers.aggregate import Aggregator
        params, sensor = read_macro_params(app_dir), read_sensor_rule(app_dir)
        self.params = params
        trusted = read_tier_trusted_namespaces(app_dir)
        self.start = self.end = None
        self.results, self.accepted, self.dropped, self.tier_rows = [], [], [], []
        for path in paths:
            scenario = Scenario(path)
            self.results += engine.Replay(scenario, params=params, sensor=sensor, app_dir=app_dir).results
            history, window = Aggregator(), Aggregator()
            ctx = engine.Context(scenario, params, history, trusted)
            self.start = min(self.start or scenario.detect_from, scenario.detect_from)
            self.end = max(self.end or scenario.detect_to, scenario.detect_to)
            for event in scenario.events():
                t = event.get("_time")
                if "parse_error" in event or t is None or t >= scenario.detect_to:
                    continue
                ok = sensor.accepts(event)
                if ok and event.get("event_type") in ATTESTATIONS:
                    (history if t < scenario.detect_from else window).add_record(event)
                if t < scenario.detect_from:
                    continue
                (self.accepted if ok else self.dropped).append((ctx, event))
            self.tier_rows += [r for r in ctx.tier_rows(window.rows())
                               if str(r.get("is_anomaly", "")).lower() in ("1", "true")]

    def events(self, *event_types):
        return [(ctx, e) for ctx, e in self.accepted if e.get("event_type") in event_types]


def _timechart(world, points):
    """``timechart span=<SPAN> count by <split>`` over the window: points are (time, value);
    those outside the window are not searched."""
    points = [(t, v) for t, v in points if world.start <= t < world.end and v not in (None, "")]
    totals = {}
    for _, value in points:
        totals[value] = totals.get(value, 0) + 1
    top = sorted(totals, key=lambda v: (-totals[v], v))[:TIMECHART_LIMIT]
    series = sorted(top) + (["OTHER"] if len(totals) > len(top) else [])
    first = int(world.start) // SPAN_SECONDS * SPAN_SECONDS
    buckets = list(range(first, int(world.end), SPAN_SECONDS))
    counts = dict(((b, s), 0) for b in buckets for s in series)
    for t, value in points:
        bucket = int(t) // SPAN_SECONDS * SPAN_SECONDS
        counts[(bucket, value if value in top else "OTHER")] += 1
    rows = [dict([("_time", iso(b))] + [(s, counts[(b, s)]) for s in series]) for b in buckets]
    return ["_time"] + series, rows


def alerts_by(field):
    def build(world):
        points = [(r.get("firstTime") or world.end, r.get(field)) for r in world.results if r.get("claw_alert") == 1]
        return _timechart(world, points)
    return build


def verdicts(world):
    return _timechart(world, [(e["_time"], e["verdict"]) for _, e in world.events(*ATTESTATIONS)
                              if e.get("verdict") not in (None, "")])


def _evidence(ctx, *digests):
    rows = ctx.sbom_subject_rows()
    for digest in digests:
        found = [r.get("evidence") for r in rows if digest and (r.get("subject_digest") or "").lower() == digest.lower()]
        if found:
            return _mv(found)
    return None


UNLISTED_FIELDS = ["subject_name", "library_path", "sbom_status", "sbom_reason", "sbom_evidence", "sbom_trust",
                   "sbom_signer", "loads", "hosts", "first_seen", "last_seen", "library_digest", "subject_digest",
                   "image_ref", "sbom_ref", overview.HIDDEN_DRILL + "subject_digest",
                   overview.HIDDEN_DRILL + "library_path"]


def _unlisted(world):
    groups = {}
    for ctx, e in world.events("library_load"):
        if not _has(e, "subject_digest", "library_path"):
            continue  # stats ... by drops a row whose by-field is null (the others are fillnull'ed)
        key = (id(ctx), e.get("subject_digest"), e.get("image_digest"), e.get("library_path"), e.get("library_digest"))
        groups.setdefault(key, (ctx, []))[1].append(e)
    rows = []
    for (_, subject, image, path, digest), (ctx, events) in groups.items():
        status = ctx.sbom_index.check({"event_type": "library_load", "subject_digest": subject,
                                       "image_digest": image, "library_path": path, "library_digest": digest})
        if status.get("sbom_status") != "unlisted":
            continue
        times = [e["_time"] for e in events]
        rows.append(dict(subject_name=_mv(e.get("subject_name") for e in events), library_path=path,
                         library_digest=digest, sbom_status="unlisted", sbom_reason=status.get("sbom_reason"),
                         sbom_evidence=_evidence(ctx, subject, image), sbom_trust=status.get("sbom_trust"),
                         sbom_signer=status.get("sbom_signer"), sbom_ref=status.get("sbom_ref"), loads=len(events),
                         hosts=len(set(e.get("host") for e in events)), first_seen=min(times),
                         last_seen=max(times), subject_digest=subject,
                         image_ref=_mv(e.get("image_ref") for e in events), _events=events))
    rows.sort(key=lambda r: (-r["loads"], r["subject_digest"] or "", r["library_path"] or ""))
    rows = rows[:50]
    for row in rows:
        row["first_seen"], row["last_seen"] = ctime(row["first_seen"]), ctime(row["last_seen"])
        for field in ("subject_digest", "library_path"):
            row[overview.HIDDEN_DRILL + field] = (row[field] or "").replace("\\", "\\\\")
    return rows


def unlisted(world):
    return UNLISTED_FIELDS, [dict((k, v) for k, v in r.items() if k != "_events") for r in _unlisted(world)]


def selected_loads(world):
    """The loads of the first unlisted row: what the panel lists after a click on it."""
    fields = ["_time", "host", "namespace", "pod", "image_ref", "triggering_process_path", "library_digest"]
    found = _unlisted(world)
    events = sorted(found[0]["_events"], key=lambda e: -e["_time"]) if found else []
    return fields, [dict([("_time", iso(e["_time"]))] + [(f, e.get(f)) for f in fields[1:]]) for e in events]


def sensor_health(world):
    fields = ["status", "agent_id", "host", "last_heartbeat", "minutes_since_heartbeat", "heartbeats", "runtime_version"]
    silent = float(world.params["claw_sensor_silent_minutes"])
    agents = {}
    for _, e in world.events("agent_heartbeat"):
        if not _has(e, "agent_id", "host"):
            continue
        entry = agents.setdefault((e.get("agent_id"), e.get("host")), [0, None, None])
        entry[0] += 1
        if entry[1] is None or e["_time"] >= entry[1]:
            entry[1], entry[2] = e["_time"], e.get("runtime_version")
    rows = []
    for (agent, host), (count, last, version) in agents.items():
        minutes = round((world.end - last) / 60.0, 1)
        rows.append(dict(status="silent" if minutes > silent else "ok", agent_id=agent, host=host,
                         last_heartbeat=last, minutes_since_heartbeat=minutes, heartbeats=count,
                         runtime_version=version))
    rows.sort(key=lambda r: (-r["minutes_since_heartbeat"], r["agent_id"] or ""))
    for row in rows:
        row["last_heartbeat"] = ctime(row["last_heartbeat"])
    return fields, rows


def filter_drops(world):
    """Per writer (pod or systemd unit): the events `claw_runtime_sensor` rejected."""
    fields = ["writer", "sensor_namespace", "sensor_pod", "_SYSTEMD_UNIT", "dropped", "hosts", "event_types",
              "firstTime", "lastTime"]
    groups = {}
    for _, e in world.dropped:
        key = ("pod" if e.get("sensor_namespace") is not None else "systemd unit", e.get("sensor_namespace") or "-",
               e.get("sensor_pod") or "-", e.get("_SYSTEMD_UNIT") or "-")
        groups.setdefault(key, []).append(e)
    stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
    rows = []
    for key, events in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        times = [e["_time"] for e in events]
        rows.append(dict(zip(fields, key + (len(events), len(set(e.get("host") for e in events)),
                                            _mv(e.get("event_type") for e in events),
                                            stamp(min(times)), stamp(max(times))))))
    return fields, rows


def _documents(ctx, *digests):
    """``<trust> <name>: <reason>`` of the subjects-table rows of ``digests`` (the coverage search's
    mvzip of the two lookups)."""
    rows = ctx.sbom_subject_rows()
    return ["%s %s: %s" % (r.get("sbom_trust"), r.get("sbom_name"), r.get("sbom_trust_reason"))
            for digest in digests if digest for r in rows
            if (r.get("subject_digest") or "").lower() == digest.lower() and r.get("sbom_trust")]


def coverage(world):
    fields = ["image_ref", "image_digest", "subject_kind", "sbom_evidence", "evidence_trust", "loads",
              "unverifiable_pct", "no_sbom_pct", "ignored", "ignored_documents", "in_conflict", "conflicts",
              "reasons"]
    images = {}
    for ctx, e in world.events("library_load"):
        # by-fields without fillnull (subject_digest, library_path), and image_digest after
        # nullif, drop the row in stats
        if not _has(e, "subject_digest", "library_path", "image_digest"):
            continue
        status = ctx.sbom_index.check(e)
        key = (e.get("image_ref") or "-", e.get("image_digest"))
        entry = images.setdefault(key, {"loads": 0, "unverifiable": 0, "no_sbom": 0, "reasons": set(), "ctx": ctx,
                                        "trust": set(), "ignored": set(), "conflicts": set()})
        entry["loads"] += 1
        if status.get("sbom_status") in ("unverifiable", "no_sbom"):
            entry[status["sbom_status"]] += 1
            entry["reasons"].add("%s: %s" % (status["sbom_status"], status.get("sbom_reason")))
        if status.get("sbom_status") != "no_sbom":
            entry["trust"].add(status.get("sbom_trust"))
        if (status.get("sbom_reason") or "").startswith("documents disagree"):
            entry["conflicts"].add(status["sbom_reason"])
        entry["ignored"].update(d for d in _documents(ctx, e.get("image_digest"), e.get("subject_digest"))
                                if d.startswith("untrusted "))
    rows = []
    for (ref, digest), entry in images.items():
        subjects = [r for r in entry["ctx"].sbom_subject_rows()
                    if digest and (r.get("subject_digest") or "").lower() == digest.lower()]
        rows.append(dict(image_ref=ref, image_digest=digest, subject_kind=_mv(r.get("subject_kind") for r in subjects),
                         sbom_evidence=_mv(r.get("evidence") for r in subjects) or "none indexed",
                         evidence_trust=_mv(entry["trust"]), loads=entry["loads"],
                         unverifiable_pct=round(100.0 * entry["unverifiable"] / entry["loads"], 1),
                         no_sbom_pct=round(100.0 * entry["no_sbom"] / entry["loads"], 1),
                         ignored=len(entry["ignored"]), ignored_documents=_mv(entry["ignored"]),
                         in_conflict=len(entry["conflicts"]), conflicts=_mv(entry["conflicts"]),
                         reasons=_mv(entry["reasons"])))
    rows.sort(key=lambda r: (-r["no_sbom_pct"], -r["unverifiable_pct"], -r["ignored"], -r["in_conflict"],
                             -r["loads"], r["image_ref"]))
    return fields, rows


def tier_spikes(world):
    fields = ["image_digest", "host", "tier", "baseline_tiers", "tier_status", "count", "expected_count",
              "spike_score", "reason"]
    rows = sorted(world.tier_rows, key=lambda r: -float(r.get("spike_score") or 0))
    return fields, [dict((f, r.get(f)) for f in fields) for r in rows]


BUILDERS = {
    "ds_alerts_detection": alerts_by("detection_id"),
    "ds_alerts_severity": alerts_by("severity"),
    "ds_unlisted": unlisted,
    "ds_selected_loads": selected_loads,
    "ds_sensor_health": sensor_health,
    "ds_filter_drops": filter_drops,
    "ds_coverage": coverage,
    "ds_tier_spikes": tier_spikes,
    "ds_verdicts": verdicts,
}


def _cell(value):
    if isinstance(value, (list, tuple)):
        return [_cell(v) for v in value]
    return None if value is None else (value if isinstance(value, str) else str(value))


def data_for(definition, paths, app_dir=None):
    """``({ds_id: {"fields": [...], "rows": [...]}}, [problems])`` for every data source."""
    from claw_ta import APP_DIR
    world = _World(paths, app_dir or APP_DIR)
    out, problems = {}, []
    for ds_id, ds in sorted(definition.get("dataSources", {}).items()):
        builder = BUILDERS.get(ds_id)
        if builder is None:
            problems.append("%s: no rows builder for this data source" % ds_id)
            continue
        known, rows = builder(world)
        wanted = table_fields(ds.get("options", {}).get("query", "")) or known
        missing = [f for f in wanted if f not in known]
        if missing:
            problems.append("%s: the replay has no value for field(s) %s" % (ds_id, ", ".join(missing)))
        out[ds_id] = {"fields": wanted, "rows": [dict((f, _cell(r.get(f))) for f in wanted) for r in rows]}
    return out, problems


def with_test_sources(definition, data):
    """A copy of ``definition`` whose data sources are ds.test sources holding ``data``
    (``@splunk/datasources`` TestDataSource: fields and columns)."""
    import copy
    out = copy.deepcopy(definition)
    out.pop("defaults", None)
    # The time picker reads its presets from splunkweb (outside Splunk it shows "Cannot
    # access splunkweb"): the render shows the panels as the picker set to the scenarios' window.
    out["inputs"] = {}
    out.get("layout", {})["globalInputs"] = []
    out["dataSources"] = {}
    for ds_id, table in data.items():
        columns = [[row[f] for row in table["rows"]] for f in table["fields"]]
        out["dataSources"][ds_id] = {"type": "ds.test", "options": {"data": {
            "fields": [{"name": f} for f in table["fields"]], "columns": columns}}}
    return out
