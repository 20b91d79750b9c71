"""The per-(image digest, host) counting that runs before the tier logic.

This is the Python twin of the native ``stats`` in the ``claw_tier_aggregate``
macro (default/macros.conf)::

    | search event_type=image_attestation OR event_type=binary_attestation
    | eval image_digest=coalesce(image_digest, if(event_type=="image_attestation", subject_digest, null())),
           host=coalesce(dest, host), claw_hour=floor(_time/3600)
    | where isnotnull(image_digest)
    | stats count min(_time) as first_time max(_time) as last_time
            dc(claw_hour) as hours values(tier) as tier values(namespace) as namespace
            by image_digest host

Every statistic is exactly mergeable (sum, min, max, distinct hours, distinct
labels), so Splunk runs it map/reduce on the indexers and the result does not
depend on how the events were partitioned; :meth:`Aggregator.merge` is the
combine step of the same computation. Memory grows with the distinct
(digest, host) pairs, never with the number of events: a pair keeps its count,
first/last time, its active hours as a bit mask and its pod tier labels.

An :class:`Aggregator` accepts both shapes the command can be fed: raw
normalized events (count 1 each) and rows the ``stats`` above produced
(``count``, ``first_time``, ``last_time``, ``hours``). Raw events may also be
claw events as parsed from the JSON line (``timestamp``, ``host``,
``k8s_namespace``, ``k8s_labels``): the time, namespace and pod tier label are
read from those when the normalized fields are absent.

Node labels: the sensor's ``agent_heartbeat`` of a Kubernetes node carries
``k8s_node_labels``; the macro turns each node's heartbeats into one row with
``image_digest`` = :data:`NODE_ROW` and the labels' JSON texts in
``node_labels``. The aggregator keeps, per lowercased host, the values of the
node label ``node_label`` (default ``tier``) in :attr:`Aggregator.nodes`: the
``node_labels`` tier source (claw_ta.tiers.model).
"""
import calendar
import json
import re

from claw_ta.nodelabels import label_value, parse_labels
from claw_ta.tiers.pairs import MAX_MASK_HOURS, MAX_VALUES, PairState, union  # noqa: F401

COUNTED_EVENT_TYPES = ("image_attestation", "binary_attestation")
MAX_FIELD_CHARS = 256       # longer digests/hosts are rejected, longer tier labels ignored
_MIN_TIME, _MAX_TIME = 0.0, 4102444800.0
_INF = float("inf")  # 1970 .. 2100: anything else is a bad time

# Report counter names (see Aggregator.report).
MALFORMED = "malformed"          # parse_error, no host, bad time, bad aggregate row
OTHER_TYPE = "other_event_type"  # an event type that is not counted (library_load, unknown, ...)
NO_DIGEST = "no_image_digest"    # binary_attestation outside a container (host binaries)
OVERSIZED = "oversized_field"    # digest or host longer than MAX_FIELD_CHARS
TIER_IGNORED = "tier_label_ignored"  # a tier label longer than MAX_FIELD_CHARS
HEARTBEAT = "agent_heartbeat"
NODE_ROW = "(node)"  # image_digest of the aggregate's per-node rows (heartbeats with node labels)
_RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?([Zz]|[+-]\d\d:?\d\d)\Z")


def parse_timestamp(text):
    """Epoch seconds (float, truncated to microseconds) of an RFC 3339 claw ``timestamp``; ValueError."""
    match = _RFC3339.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError("not an RFC 3339 time")
    g = match.groups()
    seconds = calendar.timegm((int(g[0]), int(g[1]), int(g[2]), int(g[3]), int(g[4]), int(g[5]), 0, 0, 0))
    zone = g[7]
    if zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[-2:]) * 60)
    micros = int(((g[6] or "") + "000000")[:6])
    return seconds + micros / 1000000.0


def _scalar(value):
    """One clean string from a field value (multivalue: the first value), or None."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    value = value.strip()
    return value or None


def _labels(value):
    """The tier labels in a field value (a string or a multivalue list)."""
    if value is None:
        return ()
    values = value if isinstance(value, (list, tuple)) else str(value).split("\n")
    out = []
    for item in values:
        text = _scalar(item)
        if text is not None:
            out.append(text)
    return out


def _number(value):
    """A finite float from a field value (text, number or multivalue); ValueError otherwise."""
    if type(value) is not str:
        value = _scalar(value)
        if value is None:
            raise ValueError("missing")
    number = float(value)  # ValueError for "" and junk
    if number != number or number in (_INF, -_INF):
        raise ValueError("not finite")
    return number


def event_digest(event):
    """The image digest an attestation event counts for, or None.

    ``image_digest`` (the manifest digest of the container's image) for both
    counted types; for an ``image_attestation`` without it, ``subject_digest``
    (which is the image's manifest digest there). A ``binary_attestation``
    without ``image_digest`` is a host binary: it has no image, so no tier.
    """
    digest = _scalar(event.get("image_digest"))
    if digest is None and event.get("event_type") == "image_attestation":
        digest = _scalar(event.get("subject_digest"))
    return digest


class Aggregator(object):
    """Counts attestation events per (image digest, host); see the module docstring."""

    def __init__(self, tier_field="tier", node_label="tier"):
        self.tier_field = tier_field
        self.node_label = node_label
        self.pairs = {}
        self.nodes = {}  # lowercased host -> frozenset of its node tier labels (heartbeats)
        self.report = {}
        self._labels = {}  # field value -> (frozenset of kept labels or None, labels too long)
        self._names = {}  # one string object per distinct digest and host (a million pairs share them)

    def _count(self, name, n=1):
        self.report[name] = self.report.get(name, 0) + n

    def count_malformed(self):
        self._count(MALFORMED)

    def add_record(self, record):
        """Adds one raw event or one pre-aggregated row; never raises on bad input."""
        try:
            if not isinstance(record, dict):
                self._count(MALFORMED)
            elif record.get("count") not in (None, "") and "event_type" not in record:
                if _scalar(record.get("image_digest")) == NODE_ROW:
                    self.add_node_labels(_scalar(record.get("host")), record.get("node_labels"))
                else:
                    self._add_row(record)
            else:
                self._add_event(record)
        except (TypeError, ValueError, OverflowError):
            self._count(MALFORMED)

    def add_all(self, records):
        for record in records:
            self.add_record(record)
        return self

    def _key(self, digest, host):
        if digest is None or host is None:
            self._count(MALFORMED)
            return None
        if len(digest) > MAX_FIELD_CHARS or len(host) > MAX_FIELD_CHARS:
            self._count(OVERSIZED)
            return None
        return digest, host

    def _label_set(self, value):
        """(frozenset of the labels in a field value or None, how many were too long), cached."""
        key = tuple(value) if isinstance(value, list) else value
        hit = self._labels.get(key)
        if hit is None:
            labels = _labels(value)
            kept = [label for label in labels if len(label) <= MAX_FIELD_CHARS]
            hit = (union(None, kept), len(labels) - len(kept))
            if len(self._labels) < 10000:
                self._labels[key] = hit
        return hit

    def _shared(self, digest, host):
        names = self._names
        return names.setdefault(digest, digest), names.setdefault(host, host)

    def _state(self, key, tier_value, namespace_value):
        state = self.pairs.get(key)
        if state is None:
            state = self.pairs[self._shared(*key)] = PairState()
        tiers, ignored = self._label_set(tier_value)
        if ignored:
            self._count(TIER_IGNORED, ignored)
        if tiers:
            state.tiers = tiers if state.tiers is None else union(state.tiers, tiers)
        names = self._label_set(namespace_value)[0]
        if names:
            state.namespaces = names if state.namespaces is None else union(state.namespaces, names)
        return state

    def _add_event(self, event):
        if event.get("parse_error"):
            self._count(MALFORMED)
            return
        event_type = _scalar(event.get("event_type"))
        if event_type is None:
            self._count(MALFORMED)
            return
        if event_type not in COUNTED_EVENT_TYPES:
            if event_type == HEARTBEAT:  # a node's labels, not a count
                labels = event.get("k8s_node_labels")
                if labels is not None:
                    self.add_node_labels(_scalar(event.get("dest")) or _scalar(event.get("host")), [labels])
                return
            self._count(OTHER_TYPE)
            return
        digest = event_digest(event)
        if digest is None:
            self._count(NO_DIGEST)
            return
        when = event.get("_time")
        when = _number(when) if when is not None else parse_timestamp(event.get("timestamp"))
        if not _MIN_TIME <= when <= _MAX_TIME:
            raise ValueError("time out of range")
        key = self._key(digest, _scalar(event.get("dest")) or _scalar(event.get("host")))
        if key is None:
            return
        tier = event.get(self.tier_field)
        if tier is None and "k8s_labels" in event:  # a claw event as parsed: the pod's labels
            tier = label_value(parse_labels(event["k8s_labels"]), self.tier_field)
        namespace = event.get("namespace")
        state = self._state(key, tier, namespace if namespace is not None else event.get("k8s_namespace"))
        state.count += 1
        state.add_time(when, when)
        state.add_hour(int(when // 3600))

    def add_node_labels(self, host, value):
        """The node tier labels of ``host`` from ``node_labels`` JSON texts (a string, list or None)."""
        if host is None or len(host) > MAX_FIELD_CHARS:
            self._count(MALFORMED)
            return
        values = value if isinstance(value, (list, tuple)) else [value] if value is not None else []
        found = []
        for item in values:
            tier = label_value(parse_labels(item), self.node_label)
            if tier is not None:
                found.append(tier)
        if found:
            key = host.lower()
            self.nodes[key] = union(self.nodes.get(key), found)

    def _add_row(self, row):
        self.add_stats(_scalar(row.get("image_digest")), _scalar(row.get("host")), _scalar(row.get("count")),
                       _scalar(row.get("first_time")), _scalar(row.get("last_time")), _scalar(row.get("hours")),
                       row.get(self.tier_field), row.get("namespace"))

    def add_stats(self, digest, host, count, first, last, hours, tier_value, namespace_value):
        """One row of the claw_tier_aggregate stats; ValueError/TypeError/OverflowError if bad.

        ``digest``, ``host``: stripped strings or None; ``count``, ``first``,
        ``last``, ``hours``: text (``hours`` may be empty: 1); the label values
        are a string (values joined by newlines), a list or None.
        """
        count, first, last = int(float(count)), float(first), float(last)  # nan/inf: Value/OverflowError
        hours = int(float(hours)) if hours and hours.strip() else 1
        if count < 1 or hours < 1 or not _MIN_TIME <= first <= last <= _MAX_TIME:
            raise ValueError("inconsistent aggregate row")
        if digest is None or host is None:
            raise ValueError("no image_digest or host")
        if len(digest) > MAX_FIELD_CHARS or len(host) > MAX_FIELD_CHARS:
            self._count(OVERSIZED)
            return
        key = (digest, host)
        state = self.pairs.get(key)
        if state is None:  # a new pair (stats rows are one per pair): no merging
            names = self._names
            state = self.pairs[(names.setdefault(digest, digest), names.setdefault(host, host))] = PairState()
            known = self._labels  # _label_set()'s cache, read first (a call less per label)
            if tier_value is not None:
                hit = known.get(tier_value) if tier_value.__class__ is str else None
                tiers, ignored = hit or self._label_set(tier_value)
                if ignored:
                    self._count(TIER_IGNORED, ignored)
                state.tiers = tiers or None
            if namespace_value is not None:
                hit = known.get(namespace_value) if namespace_value.__class__ is str else None
                state.namespaces = (hit or self._label_set(namespace_value))[0] or None
            state.count, state.first, state.last, state.extra_hours = count, first, last, hours
            return
        state = self._state(key, tier_value, namespace_value)
        state.count += count
        if state.first is None:
            state.first, state.last = first, last
        else:
            state.add_time(first, last)
        state.extra_hours += hours

    def merge(self, other):
        """Adds another Aggregator's partial counts (the reduce step)."""
        for key, state in other.pairs.items():
            mine = self.pairs.get(key)
            if mine is None:
                mine = self.pairs[key] = PairState()
            mine.merge(state)
        for host, tiers in other.nodes.items():
            self.nodes[host] = union(self.nodes.get(host), sorted(tiers))
        for name, n in other.report.items():
            self._count(name, n)
        return self

    def node_rows(self):
        """One row per node with tier labels, as the macro's node rows (labels as JSON texts)."""
        return [{"image_digest": NODE_ROW, "host": host, "count": 1,
                 "node_labels": [json.dumps({self.node_label: tier}) for tier in sorted(self.nodes[host])]}
                for host in sorted(self.nodes)]

    def rows(self):
        """The rows ``stats`` outputs: sorted by (image_digest, host)."""
        out = []
        for (digest, host) in sorted(self.pairs):
            state = self.pairs[(digest, host)]
            row = {"image_digest": digest, "host": host, "count": state.count,
                   "first_time": state.first, "last_time": state.last, "hours": state.hours}
            if state.tiers:
                row[self.tier_field] = sorted(state.tiers)
            if state.namespaces:
                row["namespace"] = sorted(state.namespaces)
            out.append(row)
        return out


def aggregate_events(events, tier_field="tier", report=None, node_label="tier"):
    """``stats`` in Python: the aggregated rows for an iterable of events (or rows).

    Node rows (``image_digest`` :data:`NODE_ROW`, ``host``, ``node_labels``:
    the node's tier labels as ``{node_label: tier}`` JSON texts) follow the
    pair rows, one per node whose heartbeats named a tier.
    """
    agg = Aggregator(tier_field, node_label).add_all(events)
    if report is not None:
        report.update(agg.report)
    return agg.rows() + agg.node_rows()
