#!/usr/bin/env python
"""clawtierbaseline: the normal service tiers of every image digest, and spikes from outside them.

Syntax:
    clawtierbaseline mode=(train|detect) [tier_field=<field>] [baseline_lookup=<file.csv>]
        [host_tiers_lookup=<file.csv>] [trusted_namespaces=<ns1,ns2,...|*>]
        [node_tier_label=<label key>]
        detect: [min_count=<int>] [min_score=<float>] [unknown_tier_anomaly=<bool>]
        train:  [half_life_days=<float>] [host_ttl_days=<float>] [max_hosts=<int>]
                [merge=<bool>] [now=<epoch seconds>]

Description:
    Reads attestation events, or better the rows of the ``claw_tier_aggregate``
    macro (native stats per image_digest and host: count, first_time,
    last_time, hours, tier labels), which Splunk computes map/reduce.
    mode=train merges the window into the baseline lookup (decaying old hosts)
    and outputs one row per image digest, for ``| outputlookup
    claw_tier_baseline.csv``. mode=detect outputs, per (image_digest, host),
    tier_status (in_tier, outside_tier, new_digest, unknown_host_tier), count,
    expected_count, spike_score and is_anomaly. Lookups are read from the
    app's lookups folder (claw_tier_baseline.csv, claw_host_tiers.csv; a
    missing one is empty). Pod tier labels count only from pods whose
    namespaces are all in trusted_namespaces (default none: the macro
    claw_tier_trusted_namespaces); anyone who deploys a pod writes its labels.
    A node's tier label (node_tier_label, default tier: the macro
    claw_tier_node_label) from its sensor's heartbeats (the node rows of
    claw_tier_aggregate) comes right after the host tier lookup.

Example:
    `claw_runtime_index` earliest=-1d@d latest=@d | `claw_tier_aggregate`
    | clawtierbaseline mode=train | outputlookup claw_tier_baseline.csv

    `claw_runtime_index` earliest=-1h@h latest=@h | `claw_tier_baseline_detect`
    | where is_anomaly=1
"""
import csv
import gc
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from claw_ta.sdk import use_splunklib  # noqa: E402

use_splunklib()  # bin/sdk/<this Python's copy> on sys.path (claw_ta/sdk.py)

from splunklib.searchcommands import Configuration, Option, ReportingCommand, dispatch, validators  # noqa: E402

from claw_ta import scp, tiers  # noqa: E402
from claw_ta.tiers import stream  # noqa: E402


@Configuration(requires_preop=False, run_in_preview=False)
class ClawTierBaselineCommand(ReportingCommand):
    mode = Option(require=True, validate=validators.Set("train", "detect"),
                  doc="train: merge the input into the baseline; detect: score it against the baseline")
    tier_field = Option(default="tier", validate=validators.Fieldname(),
                        doc="field holding the pods' tier label")
    baseline_lookup = Option(default=tiers.BASELINE_LOOKUP, doc="baseline CSV in the app's lookups folder")
    host_tiers_lookup = Option(default=tiers.HOST_TIERS_LOOKUP, doc="host,tier CSV in the app's lookups folder")
    min_count = Option(validate=validators.Integer(minimum=1), doc="detect: fewest events for an anomaly")
    min_score = Option(validate=validators.Float(minimum=0.0), doc="detect: lowest spike_score for an anomaly")
    unknown_tier_anomaly = Option(validate=validators.Boolean(),
                                  doc="detect: hosts of unknown tier can be anomalies too")
    half_life_days = Option(validate=validators.Float(minimum=0.01), doc="train: decay half-life of old counts")
    host_ttl_days = Option(validate=validators.Float(minimum=0.01), doc="train: forget hosts unseen this long")
    max_hosts = Option(validate=validators.Integer(minimum=1), doc="train: hosts kept per digest")
    merge = Option(default=True, validate=validators.Boolean(), doc="train: merge into the existing baseline")
    now = Option(validate=validators.Float(minimum=0.0), doc="train: run time in epoch seconds (replays)")
    node_tier_label = Option(doc="the node label (from the sensor's heartbeats, k8s_node_labels) that names a "
                                 "node's tier (default tier)")
    trusted_namespaces = Option(doc="namespaces whose pods' tier labels may decide a host's tier "
                                    "(comma-separated; * = all; default none: only the host tier lookup "
                                    "and the learned history decide)")

    _aggregator = None
    _params = None

    def prepare(self):
        # No ReportingCommand.prepare: it would ask splunkd for a streaming_preop
        # (a map phase) that has nothing to do; the stats of claw_tier_aggregate
        # already run map/reduce on the indexers.
        if self.phase != "reduce":
            self.write_error("clawtierbaseline: phase=%s: this command has only a reduce phase" % self.phase)
            sys.exit(1)
        names = ("tier_field", "min_count", "min_score", "unknown_tier_anomaly",
                 "half_life_days", "host_ttl_days", "max_hosts", "trusted_namespaces", "node_tier_label")
        given = {n: getattr(self, n) for n in names if getattr(self, n) is not None}
        try:
            self._params = tiers.check_params(given)
            self._baseline_path = tiers.lookup_path(self.baseline_lookup, "baseline_lookup")
            self._host_tiers_path = tiers.lookup_path(self.host_tiers_lookup, "host_tiers_lookup")
        except ValueError as error:
            self.write_error("clawtierbaseline: %s" % error)
            sys.exit(1)
        self._aggregator = tiers.Aggregator(self._params["tier_field"], self._params["node_tier_label"])

    def reduce(self, records):
        # The SCP v1 path (and the reference semantics of _execute_v2): called
        # once per chunk, accumulates, emits only at the end.
        add = self._aggregator.add_record
        for record in records:
            add(record)
        if not self._finished:
            return
        fields, rows = self._results()
        rows = [dict(zip(fields, values)) for values in rows]
        self._report_skipped()
        for row in rows:
            yield row

    def _execute_v2(self, ifile, process):
        # SCP v2 record path (claw_ta.tiers.stream): each chunk's CSV goes into the
        # aggregation without per-record dicts; the final chunk's reply is written
        # as CSV (spilled to a file when large). claw_ta.scp.execute_chunks marks
        # the writer unflushed per chunk, so that a failure anywhere reaches
        # splunkd as an inspector ERROR (splunklib's finish() answers the chunk).
        # The cyclic garbage collector would walk the million pair states over
        # and over as they are created (none of them is in a cycle): off for
        # the run, back on (and collecting) at the end.
        gc.disable()
        try:
            for _metadata, body in scp.execute_chunks(self, ifile):
                stream.ingest(body.decode("utf-8", "replace"), self._aggregator)
                out = None
                if self._finished:
                    fields, rows = self._results(labels=True)
                    out = stream.CsvOut(fields, tiers.MULTIVALUE_FIELDS)
                    if self.mode == "detect":  # rows of iter_detect_labels: encoded once per distinct text
                        out.write_lines(stream.detect_lines(rows))
                    else:
                        for values in rows:
                            out.write(values)
                    self._report_skipped()
                self._send(out)
        finally:
            gc.enable()

    def _send(self, out):
        writer = self._record_writer
        reply = {"finished": bool(self._finished)}
        if writer._inspector:
            reply["inspector"] = dict(writer._inspector)
        meta = json.dumps(reply, separators=(",", ":")).encode("utf-8")
        length, body = out.body() if out is not None else (0, None)
        ofile = writer.ofile
        ofile.write(b"chunked 1.0,%d,%d\n" % (len(meta), length))
        ofile.write(meta)
        if body is not None:
            shutil.copyfileobj(body, ofile, 1 << 20)
            body.close()
        ofile.flush()
        writer._inspector.clear()
        writer._chunk_count += 1
        writer.is_flushed = True

    def _results(self, labels=False):
        """(field names, iterator of value lists) for the whole input; warnings in self._report.

        ``labels``: detect rows as :func:`claw_ta.tiers.model.iter_detect_labels` gives them.
        """
        self._report = report = dict(self._aggregator.report)
        reads_baseline = self.mode == "detect" or self.merge  # train merge=false starts a new one
        try:
            host_tiers = tiers.load_host_tiers(self._host_tiers_path, report)
            rows = (tiers.read_baseline_csv(self._baseline_path, report, tiers.baseline.READ_FIELDS)
                    if reads_baseline else None)
        except (OSError, csv.Error, UnicodeError) as error:
            self.write_error("clawtierbaseline: cannot read a lookup in the app's lookups folder: %s" % error)
            sys.exit(1)
        if reads_baseline and not os.path.exists(self._baseline_path):
            self.write_warning(tiers.missing_baseline_message(self._baseline_path, self.mode))
        p = self._params
        if self.mode == "train":
            now = self.now
            if now is None:
                latest = float(getattr(self.metadata.searchinfo, "latest_time", 0) or 0)
                now = latest if latest > 0 else time.time()
            rows = tiers.iter_train(self._aggregator.pairs, rows, host_tiers,
                                    now=now, half_life_days=p["half_life_days"],
                                    host_ttl_days=p["host_ttl_days"], max_hosts=p["max_hosts"], report=report,
                                    trusted_namespaces=p["trusted_namespaces"], node_tiers=self._aggregator.nodes)
            fields = tiers.BASELINE_FIELDS
            return fields, ([row.get(name) for name in fields] for row in rows)
        detect = tiers.model.iter_detect_labels if labels else tiers.iter_detect
        return tiers.DETECT_FIELDS, detect(
            self._aggregator.pairs, rows, host_tiers, min_count=p["min_count"], min_score=p["min_score"],
            unknown_tier_anomaly=p["unknown_tier_anomaly"], report=report,
            trusted_namespaces=p["trusted_namespaces"], node_tiers=self._aggregator.nodes)

    def _report_skipped(self):
        skipped = {k: v for k, v in sorted(self._report.items()) if v}
        if skipped:
            self.write_warning("clawtierbaseline: input not counted or ignored: %s"
                               % ", ".join("%s=%d" % kv for kv in skipped.items()))


dispatch(ClawTierBaselineCommand, sys.argv, sys.stdin, sys.stdout, __name__)
