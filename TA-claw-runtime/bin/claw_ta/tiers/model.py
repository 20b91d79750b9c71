"""Host tier resolution, incremental training and spike detection.

Host tier, in order (the first source that knows wins):

1. ``lookup``: the ``claw_host_tiers.csv`` rows for the host (case-insensitive);
2. ``node_labels``: the node's tier label (``node_tier_label``, default
   ``tier``) from its sensor's heartbeats (``k8s_node_labels``: written by the
   sensor, set by the cluster's administrators and the node pool);
3. ``pod_labels``: the tier labels of the pods of *other* digests seen on the
   host in the same input (a burst of one image cannot vouch for its own tier);
4. ``history``: the tier the baseline recorded for the host, most common over
   the digests that ran there;
5. ``own_pod_label``: the tier label of the digest's own pods on the host (a
   freshly added node that runs nothing else yet);
6. ``none``: unknown.

Pod labels are written by whoever deploys the pod, an attacker included: a
(digest, host) pair's labels count (sources 3 and 5) only when every namespace
its pods ran in is one the site trusts (``trusted_namespaces``; ``*`` trusts
all). By default none is trusted, and only the lookup and the history decide.

Statistics: a host's rate is its events per active hour; a digest's baseline
keeps, per host, a decayed event count and active-hour count, and derives the
median and the median absolute deviation (MAD) of the per-host rates. The spike
score of a (digest, host) pair is a robust z-score:
``(count - expected) / max(1, sqrt(expected), 1.4826 * MAD * hours)``.
"""
import math

from claw_ta.tiers.baseline import BaselineTable, DigestBaseline, HostEntry

DAY = 86400.0
MAD_TO_SIGMA = 1.4826

IN_TIER = "in_tier"
OUTSIDE_TIER = "outside_tier"
NEW_DIGEST = "new_digest"
UNKNOWN_HOST_TIER = "unknown_host_tier"
TIER_STATUSES = (IN_TIER, OUTSIDE_TIER, NEW_DIGEST, UNKNOWN_HOST_TIER)

DETECT_FIELDS = ("image_digest", "host", "namespace", "tier", "tier_source", "pod_tier", "baseline_tiers",
                 "tier_status", "count", "hours", "expected_count", "spike_score", "is_anomaly",
                 "first_time", "last_time", "reason")
MULTIVALUE_FIELDS = ("namespace", "tier", "pod_tier", "baseline_tiers")  # detect fields that hold lists


class TierResolver(object):
    """Resolves the tiers of a host (see the module docstring for the order)."""

    def __init__(self, host_tiers, pairs, table, trusted_namespaces=(), node_tiers=None):
        self.lookup = host_tiers or {}
        self.nodes = node_tiers or {}  # lowercased host -> its node tier labels (heartbeats)
        self.trusted = frozenset(trusted_namespaces or ())
        self._trust = {}  # namespaces frozenset -> trusted? (the sets are shared between pairs)
        self._cache = {}  # (host, own labels) -> (tiers, source)
        self._table = table
        self._history = None  # built on first use: most hosts are known from the lookup or labels
        self.labels = {}  # lowercased host -> {tier: digests labelled so there}
        lower, trust = {}, self._trust
        for (digest, host), state in pairs.items():
            if state.tiers and (trust.get(state.namespaces) or self.trusts(state)):
                key = lower.get(host)
                if key is None:
                    key = lower[host] = host.lower()
                counter = self.labels.get(key)
                if counter is None:
                    counter = self.labels[key] = {}
                for tier in state.tiers:
                    counter[tier] = counter.get(tier, 0) + 1

    @property
    def history(self):
        """{host: tiers tuple}: the tiers the baseline recorded for each host, most common first."""
        if self._history is None:
            self._history = {}
            for host, counter in self._table.host_tiers().items():
                top = max(counter.values())
                self._history[host] = tuple(sorted(t for t, n in counter.items() if n == top))
        return self._history

    def trusts(self, state):
        """Whether a pair's pod labels may decide a host's tier (all its namespaces trusted)."""
        names = state.namespaces
        found = self._trust.get(names)
        if found is None:
            found = "*" in self.trusted or (bool(names) and all(n in self.trusted for n in names))
            self._trust[names] = found
        return found

    def resolve(self, host, state):
        """(tiers tuple, source) for a pair's host, leaving the digest's own labels out first."""
        own = state.tiers if state.tiers and self.trusts(state) else None
        key = (host, own)
        found = self._cache.get(key)
        if found is None:
            found = self._resolve(host.lower(), own or ())
            if len(self._cache) < 20000:
                self._cache[key] = found
        return found

    def _resolve(self, key, own):
        if key in self.lookup:
            return tuple(sorted(self.lookup[key])), "lookup"
        node = self.nodes.get(key)
        if node:
            return tuple(sorted(node)), "node_labels"
        seen = self.labels.get(key)
        if seen:
            others = sorted(t for t, n in seen.items() if n - (1 if t in own else 0) > 0)
            if others:
                return tuple(others), "pod_labels"
        history = self.history
        if key in history:
            return history[key], "history"
        if own:
            return tuple(sorted(own)), "own_pod_label"
        return (), "none"


def by_digest(pairs):
    """{digest: [host, ...]} of the pairs (grouping once is cheaper than sorting every pair)."""
    out = {}
    for digest, host in pairs:
        hosts = out.get(digest)
        if hosts is None:
            out[digest] = [host]
        else:
            hosts.append(host)
    return out


def train(pairs, baseline_rows=None, host_tiers=None, now=None, half_life_days=7.0,
          host_ttl_days=14.0, max_hosts=500, report=None, trusted_namespaces=(), node_tiers=None):
    """Merges the pairs of one training window into the baseline; returns the new rows."""
    return list(iter_train(pairs, baseline_rows, host_tiers, now, half_life_days, host_ttl_days,
                           max_hosts, report, trusted_namespaces, node_tiers))


def iter_train(pairs, baseline_rows=None, host_tiers=None, now=None, half_life_days=7.0,
               host_ttl_days=14.0, max_hosts=500, report=None, trusted_namespaces=(), node_tiers=None):
    """The new baseline rows, one digest at a time, sorted by digest (see :func:`train`).

    Old host entries decay by ``0.5 ** (elapsed / half_life)`` since the row was
    last updated, hosts not seen for ``host_ttl_days`` are dropped (node drains,
    retired nodes), at most ``max_hosts`` hosts are kept per digest (highest
    decayed count first) and a digest left without hosts is dropped.
    ``now`` defaults to the latest event time in the window (or the latest
    ``updated`` of the baseline). Only one digest's parsed row is in memory at
    a time.
    """
    table = baseline_rows if isinstance(baseline_rows, BaselineTable) else BaselineTable(baseline_rows, report)
    resolver = TierResolver(host_tiers, pairs, table, trusted_namespaces, node_tiers)
    if now is None:
        now = _latest(pairs, table)
    groups = by_digest(pairs)
    half_life, ttl = half_life_days * DAY, host_ttl_days * DAY
    for digest in sorted(set(groups) | set(table.rows)):
        row = table.get(digest) if digest in table else None
        if row is None:
            row = DigestBaseline(digest, updated=now)
        elif row.updated is not None and now > row.updated:
            factor = 0.5 ** ((now - row.updated) / half_life)
            for entry in row.hosts.values():
                entry.count *= factor
                entry.hours *= factor
        row.updated = now
        for host in groups.get(digest, ()):
            _merge_pair(row, host, pairs[(digest, host)], resolver, now)
        kept = [(h, e) for h, e in row.hosts.items() if now - e.last_seen <= ttl]
        if len(kept) > max_hosts:
            kept.sort(key=lambda item: (-item[1].count, -item[1].last_seen, item[0]))
            kept = kept[:max_hosts]
            if report is not None:
                report["hosts_capped"] = report.get("hosts_capped", 0) + 1
        if not kept:
            continue
        row.hosts = dict(kept)
        row.last_seen = max(e.last_seen for _, e in kept)
        yield row.to_row()


def _latest(pairs, table):
    times = [state.last for state in pairs.values()]
    for digest in table.rows:
        row = table.get(digest)
        if row is not None and row.updated is not None:
            times.append(row.updated)
    return max(times) if times else 0.0


def _merge_pair(row, host, state, resolver, now):
    tiers, _source = resolver.resolve(host, state)
    first, last = min(state.first, now), min(state.last, now)  # clamp clocks running ahead
    key = host.lower()
    entry = row.hosts.get(key)
    if entry is None:
        row.hosts[key] = HostEntry(tiers, state.count, state.hours, last)
    else:
        entry.count += state.count
        entry.hours += state.hours
        entry.last_seen = max(entry.last_seen, last)
        if tiers:
            entry.tiers = tiers
    row.first_seen = first if row.first_seen is None else min(row.first_seen, first)
    row.last_seen = last if row.last_seen is None else max(row.last_seen, last)


def spike_score(count, expected, mad, hours):
    sigma = max(1.0, math.sqrt(max(expected, 0.0)), MAD_TO_SIGMA * mad * hours)
    return (count - expected) / sigma


def detect(pairs, baseline_rows, host_tiers=None, min_count=5, min_score=3.0,
           unknown_tier_anomaly=False, report=None, trusted_namespaces=(), node_tiers=None):
    """One result dict per (digest, host) pair of the window, sorted by (digest, host)."""
    return [dict(zip(DETECT_FIELDS, values)) for values in iter_detect(
        pairs, baseline_rows, host_tiers, min_count, min_score, unknown_tier_anomaly, report,
        trusted_namespaces, node_tiers)]


def iter_detect(pairs, baseline_rows, host_tiers=None, min_count=5, min_score=3.0,
                unknown_tier_anomaly=False, report=None, trusted_namespaces=(), node_tiers=None):
    """The values of :data:`DETECT_FIELDS` per pair, sorted by (digest, host), one digest parsed at a time.

    The multivalue fields (:data:`MULTIVALUE_FIELDS`) are sorted lists or None.
    """
    listed = {None: None}  # labels -> sorted list (shared: the output rows do not change it)
    for values in iter_detect_labels(pairs, baseline_rows, host_tiers, min_count, min_score,
                                     unknown_tier_anomaly, report, trusted_namespaces, node_tiers):
        digest, host, namespaces, tiers, source, pod_tiers, known = values[:7]
        out = []
        for labels in (namespaces, tiers, pod_tiers, known):
            found = listed.get(labels, listed)
            if found is listed:
                found = listed[labels] = sorted(labels) if labels else None
            out.append(found)
        yield (digest, host, out[0], out[1], source, out[2], out[3]) + values[7:]


def iter_detect_labels(pairs, baseline_rows, host_tiers=None, min_count=5, min_score=3.0,
                       unknown_tier_anomaly=False, report=None, trusted_namespaces=(), node_tiers=None):
    """:func:`iter_detect` with the multivalue fields as the labels' shared frozenset or tuple (or None).

    What the command's CSV path reads (``claw_ta.tiers.stream.detect_lines``):
    one hashable, shared object per distinct label set, so that its cells are
    made once.
    """
    table = baseline_rows if isinstance(baseline_rows, BaselineTable) else BaselineTable(baseline_rows, report)
    resolver = TierResolver(host_tiers, pairs, table, trusted_namespaces, node_tiers)
    resolve, resolved, trust = resolver.resolve, resolver._cache, resolver._trust
    groups = by_digest(pairs)  # hosts only: a (host, state) tuple per pair would cost ~60 MB at 1M pairs
    lowered = {}  # host -> host.lower()
    reasons = {}  # (status, tiers, source, known tiers) -> reason text (a few per tier set)
    new_why = "no baseline for this digest (a rollout): never an anomaly on its own"
    unknown_why = "host tier unknown (no lookup row, no node label, no trusted pod labels, no history)"
    below = "; below threshold (count %d vs min_count %d, score %.2f vs min_score %.2f)"
    sqrt = math.sqrt
    for digest in sorted(groups):
        row = table.get(digest) if digest in table else None
        if row is not None:
            mid, mad = row.rate_stats()
            known_tiers = row.tiers or None
            known_set = frozenset(known_tiers or ())
            hosts = row.hosts
        for host in sorted(groups.pop(digest)):
            state = pairs[(digest, host)]
            count, hours = state.count, state.hours
            # resolver.resolve(host, state), its cache read here first (a call less per pair)
            own = state.tiers
            if own is not None:
                ok = trust.get(state.namespaces)
                if not (resolver.trusts(state) if ok is None else ok):
                    own = None
            found = resolved.get((host, own))
            tiers, source = found if found is not None else resolve(host, state)
            if row is None:
                status, known, expected, score, why = NEW_DIGEST, None, 0.0, 0.0, new_why
            else:
                known = known_tiers
                low = lowered.get(host)
                if low is None:
                    low = lowered[host] = host.lower()
                entry = hosts.get(low)
                if entry is not None:
                    rate = entry.count / entry.hours if entry.hours > 0 else 0.0
                    status, expected = IN_TIER, rate * hours
                    why = "host ran this digest before (%.3g events/h)" % rate
                elif not tiers:
                    status, expected, why = UNKNOWN_HOST_TIER, 0.0, unknown_why
                else:
                    status = OUTSIDE_TIER if known_set.isdisjoint(tiers) else IN_TIER
                    expected = 0.0 if status is OUTSIDE_TIER else mid * hours
                    key = (status, tiers, source, known_tiers)
                    why = reasons.get(key)
                    if why is None:
                        why = reasons[key] = _reason(status, tiers, source, known_tiers)
                # spike_score(), inlined
                sigma = MAD_TO_SIGMA * mad * hours
                root = sqrt(expected) if expected > 0.0 else 0.0
                score = (count - expected) / max(1.0, root, sigma)
            flagged = status is OUTSIDE_TIER or (unknown_tier_anomaly and status is UNKNOWN_HOST_TIER)
            anomaly = flagged and count >= min_count and score >= min_score
            if flagged and not anomaly:
                why += below % (count, min_count, score, min_score)
            yield (digest, host, state.namespaces or None, tiers or None, source, state.tiers or None,
                   known, status, count, hours, round(expected, 2), round(score, 2),
                   1 if anomaly else 0, state.first, state.last, why)


def _reason(status, tiers, source, known_tiers):
    if status == IN_TIER:
        return "host tier %s (%s) is a normal tier of this digest" % ("+".join(tiers), source)
    return "host tier %s (%s) is not a normal tier of this digest (%s)" % (
        "+".join(tiers), source, "+".join(known_tiers or ()) or "none")
