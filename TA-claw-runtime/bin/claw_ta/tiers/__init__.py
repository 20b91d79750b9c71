"""Service tiers of image digests: ``| clawtierbaseline`` and its offline replay.

Public API (the command and the replay both call these):

- :func:`train_from_events` / :func:`detect_from_events`: the ``stats``
  pre-aggregation of the ``claw_tier_aggregate`` macro followed by the
  command's train / detect logic. ``events`` may be normalized events
  (``claw_ta.normalize``) or rows that ``stats`` already aggregated.
- :func:`load_host_tiers`, :func:`read_baseline_csv`, :func:`write_baseline_csv`,
  :func:`baseline_csv_text`: the two lookups.
- :func:`aggregate_events`, :class:`Aggregator`: the pre-aggregation alone.
- :func:`iter_train`, :func:`iter_detect`, :class:`BaselineTable`: the same
  logic one digest at a time (what the command streams out);
  ``claw_ta.tiers.stream``: the command's CSV record path (detect rows come
  from :func:`claw_ta.tiers.model.iter_detect_labels`, label sets unconverted,
  and are encoded by ``stream.detect_lines``).
- :func:`check_params`, :func:`lookup_path`, :func:`parse_namespaces`:
  argument checks shared with the command (``trusted_namespaces``: whose pod
  labels may decide a host's tier; docs/tiers.md).

Counted events: ``image_attestation`` and ``binary_attestation``; the digest
is ``image_digest``, else ``subject_digest`` for ``image_attestation``; the
host is ``dest``, else ``host``.
"""
import math
import os
import re

from claw_ta.tiers.aggregate import (  # noqa: F401
    COUNTED_EVENT_TYPES, NODE_ROW, Aggregator, aggregate_events, event_digest)
from claw_ta.tiers.baseline import (  # noqa: F401
    BASELINE_FIELDS, HOST_TIER_FIELDS, BaselineTable, baseline_csv_text, load_host_tiers,
    normalize_host_tiers, parse_baseline, read_baseline_csv, write_baseline_csv)
from claw_ta.tiers.model import (  # noqa: F401
    DETECT_FIELDS, IN_TIER, MULTIVALUE_FIELDS, NEW_DIGEST, OUTSIDE_TIER, TIER_STATUSES, UNKNOWN_HOST_TIER,
    TierResolver, detect, iter_detect, iter_train, train)

BASELINE_LOOKUP = "claw_tier_baseline.csv"
HOST_TIERS_LOOKUP = "claw_host_tiers.csv"

# name: (default, kind, minimum, applies to)
PARAMS = {
    "tier_field": ("tier", "field", None, "both"),
    "node_tier_label": ("tier", "label", None, "both"),
    "min_count": (5, "int", 1, "detect"),
    "min_score": (3.0, "float", 0.0, "detect"),
    "unknown_tier_anomaly": (False, "bool", None, "detect"),
    "half_life_days": (7.0, "float", 0.01, "train"),
    "host_ttl_days": (14.0, "float", 0.01, "train"),
    "max_hosts": (500, "int", 1, "train"),
    "trusted_namespaces": (frozenset(), "namespaces", None, "both"),
}
_TRUE = ("1", "t", "true", "y", "yes", "on")
_FALSE = ("0", "f", "false", "n", "no", "off")


def check_params(params, mode=None):
    """Validated parameters with defaults filled in; ValueError naming the bad argument."""
    out = {}
    for name in params:
        if name not in PARAMS:
            raise ValueError("unknown argument %s (expected one of: %s)" % (name, ", ".join(sorted(PARAMS))))
    for name, (default, kind, minimum, _applies) in PARAMS.items():
        value = params.get(name)
        if value is None:
            out[name] = default
            continue
        text = str(value).strip()
        if kind == "namespaces":
            out[name] = parse_namespaces(value, name)
        elif kind == "label":
            if not _LABEL_KEY.match(text):
                raise ValueError("%s must be a Kubernetes label key (e.g. tier, "
                                 "cloud.google.com/gke-nodepool), not %r" % (name, str(value)[:80]))
            out[name] = text
        elif kind == "field":
            if not text or len(text) > 128 or any(c in text for c in " \t\r\n\"'`|=,") :
                raise ValueError("%s must be a field name, not %r" % (name, value))
            out[name] = text
        elif kind == "bool":
            if isinstance(value, bool):
                out[name] = value
            elif text.lower() in _TRUE or text.lower() in _FALSE:
                out[name] = text.lower() in _TRUE
            else:
                raise ValueError("%s must be true or false, not %r" % (name, value))
        else:
            try:
                number = float(text)
                if kind == "int":
                    if number != int(number):
                        raise ValueError
                    number = int(number)
            except (ValueError, OverflowError):
                raise ValueError("%s must be %s, not %r" % (
                    name, "an integer" if kind == "int" else "a number", value))
            if isinstance(number, float) and (math.isnan(number) or math.isinf(number)):
                raise ValueError("%s must be a finite number, not %r" % (name, value))
            if number < minimum:
                raise ValueError("%s must be >= %s, not %r" % (name, minimum, value))
            out[name] = number
    return out


# [prefix/]name: a DNS subdomain prefix, a name of letters, digits, - _ . (Kubernetes label keys)
_LABEL_KEY = re.compile(r"([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?\Z")
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")


def parse_namespaces(value, name="trusted_namespaces"):
    """A frozenset of Kubernetes namespace names from ``a,b`` (or a list); ``*`` means every one."""
    items = value if isinstance(value, (list, tuple, set, frozenset)) else str(value).split(",")
    out = set()
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        if text != "*" and not _NAMESPACE.match(text):
            raise ValueError("%s must be Kubernetes namespace names separated by commas (or *), not %r"
                             % (name, text[:80]))
        out.add(text)
    return frozenset(out)


def lookup_path(name, argument, lookups_dir=None):
    """The path of a lookup file in the app's lookups/ folder; ValueError naming ``argument``.

    Only a plain ``*.csv`` file name is accepted: no folders, no ``..``.
    """
    if lookups_dir is None:
        from claw_ta import LOOKUPS_DIR as lookups_dir
    text = "" if name is None else str(name).strip()
    if (not text or len(text) > 200 or not text.lower().endswith(".csv") or text.startswith(".")
            or any(c in text for c in "/\\\0:") or text != os.path.basename(text)):
        raise ValueError("%s must be a plain .csv file name in the app's lookups folder, not %r"
                         % (argument, name))
    return os.path.join(lookups_dir, text)


def missing_baseline_message(path, mode):
    """The warning for a baseline lookup that does not exist yet (it is treated as empty)."""
    name = os.path.basename(path)
    if mode == "train":
        return ("clawtierbaseline: lookups/%s does not exist yet: treated as an empty baseline, "
                "this run starts a new one" % name)
    return ("clawtierbaseline: lookups/%s does not exist yet: treated as an empty baseline, every "
            "digest is new_digest (enable and run the 'Claw - Tier Baseline - Train' search)" % name)


def _split(params, mode):
    checked = check_params(params)
    wanted = {n for n, spec in PARAMS.items() if spec[3] in ("both", mode)}
    skip = ("tier_field", "node_tier_label")
    return (checked["tier_field"], checked["node_tier_label"],
            {k: v for k, v in checked.items() if k in wanted and k not in skip})


def train_from_events(events, baseline_rows=None, host_tiers=None, now=None, report=None, **params):
    """Baseline rows after one training run over ``events`` (merged into ``baseline_rows``).

    ``events``: normalized events, claw events as parsed from their JSON lines
    (``timestamp``, ``k8s_labels``, ...) or ``claw_tier_aggregate`` rows; the
    sensor's heartbeats with ``k8s_node_labels`` give the nodes' tiers.
    ``host_tiers``: ``{host: tier or tiers}``, ``host,tier`` rows, or the result of
    :func:`load_host_tiers`; None means no lookup. ``now``: epoch seconds of the
    run (defaults to the latest event time). ``params``: see :data:`PARAMS`.
    """
    tier_field, node_label, options = _split(params, "train")
    rows = aggregate_events(events, tier_field, report, node_label)  # what stats outputs
    agg = Aggregator(tier_field, node_label).add_all(rows)           # what the command reads
    return train(agg.pairs, baseline_rows, normalize_host_tiers(host_tiers), now=now,
                 report=report, node_tiers=agg.nodes, **options)


def detect_from_events(events, baseline_rows, host_tiers=None, report=None, **params):
    """One dict per (image digest, host) seen in ``events``: see :data:`DETECT_FIELDS`."""
    tier_field, node_label, options = _split(params, "detect")
    rows = aggregate_events(events, tier_field, report, node_label)
    agg = Aggregator(tier_field, node_label).add_all(rows)
    return detect(agg.pairs, baseline_rows, normalize_host_tiers(host_tiers),
                  report=report, node_tiers=agg.nodes, **options)
