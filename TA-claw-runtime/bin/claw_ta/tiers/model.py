"""Host tier resolution, incremental training and spike detection.

Host tier, in order (the first source that knows wins):

1. ``lookup``: the ``claw_host_tiers.csv`` rows for the host (case-insensitive);
2. ``pod_labels``: the tier labels of the pods of *other* digests seen on the
   host in the same input (a burst of one image cannot vouch for its own tier);
3. ``history``: the tier the baseline recorded for the host, most common over
   the digests that ran there;
4. ``own_pod_label``: the tier label of the digest's own pods on the host (a
   freshly added node that runs nothing else yet);
5. ``none``: unknown.

Pod labels are written by whoever deploys the pod, an attacker included: a
(digest, host) pair's labels count (sources 2 and 4) only when every namespace
its pods ran in is one the site trusts (``trusted_namespaces``; ``*`` trusts
all). By default none is trusted, and only the lookup and the history decide.

Statistics: a host's rate is its events per active hour; a digest's baseline
keeps, per host, a decayed event count and active-hour count, and derives the
median and the median absolute deviation (MAD) of the per-host rates. The spike
score of a (digest, host) pair is a robust z-score:
``(count - expected) / max(1, sqrt(expected), 1.4826 * MAD * hours)``.
"""
import math
from collections import Counter

from claw_ta.tiers.baseline import DigestBaseline, HostEntry, parse_baseline

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


class TierResolver(object):
    """Resolves the tiers of a host (see the module docstring for the order)."""

    def __init__(self, host_tiers, pairs, baseline, trusted_namespaces=()):
        self.lookup = host_tiers or {}
        self.trusted = frozenset(trusted_namespaces or ())
        self.labels = {}  # lowercased host -> Counter(tier -> digests labelled so there)
        for (digest, host), state in pairs.items():
            if state.tiers and self.trusts(state):
                counter = self.labels.setdefault(host.lower(), Counter())
                for tier in state.tiers:
                    counter[tier] += 1
        history = {}
        for row in baseline.values():
            for host, entry in row.hosts.items():
                counter = history.setdefault(host, Counter())
                for tier in entry.tiers:
                    counter[tier] += 1
        self.history = {}
        for host, counter in history.items():
            if counter:
                top = max(counter.values())
                self.history[host] = tuple(sorted(t for t, n in counter.items() if n == top))

    def trusts(self, state):
        """Whether a pair's pod labels may decide a host's tier (all its namespaces trusted)."""
        if "*" in self.trusted:
            return True
        names = state.namespaces
        return bool(names) and bool(self.trusted) and all(n in self.trusted for n in names)

    def resolve(self, host, state):
        """(tiers tuple, source) for a pair's host, leaving the digest's own labels out first."""
        key = host.lower()
        if key in self.lookup:
            return tuple(sorted(self.lookup[key])), "lookup"
        own = state.tiers if state.tiers and self.trusts(state) else ()
        seen = self.labels.get(key)
        if seen:
            others = sorted(t for t, n in seen.items() if n - (1 if t in own else 0) > 0)
            if others:
                return tuple(others), "pod_labels"
        if key in self.history:
            return self.history[key], "history"
        if own:
            return tuple(sorted(own)), "own_pod_label"
        return (), "none"


def train(pairs, baseline_rows=None, host_tiers=None, now=None, half_life_days=7.0,
          host_ttl_days=14.0, max_hosts=500, report=None, trusted_namespaces=()):
    """Merges the pairs of one training window into the baseline; returns the new rows.

    Old host entries decay by ``0.5 ** (elapsed / half_life)`` since the row was
    last updated, hosts not seen for ``host_ttl_days`` are dropped (node drains,
    retired nodes), at most ``max_hosts`` hosts are kept per digest (highest
    decayed count first) and a digest left without hosts is dropped.
    ``now`` defaults to the latest event time in the window.
    """
    existing = parse_baseline(baseline_rows, report)
    resolver = TierResolver(host_tiers, pairs, existing, trusted_namespaces)
    if now is None:
        times = [state.last for state in pairs.values()] + \
            [row.updated for row in existing.values() if row.updated is not None]
        now = max(times) if times else 0.0
    half_life = half_life_days * DAY
    for row in existing.values():
        if row.updated is not None and now > row.updated:
            factor = 0.5 ** ((now - row.updated) / half_life)
            for entry in row.hosts.values():
                entry.count *= factor
                entry.hours *= factor
        row.updated = now
    for (digest, host), state in pairs.items():
        row = existing.get(digest)
        if row is None:
            row = existing[digest] = DigestBaseline(digest, updated=now)
        tiers, _source = resolver.resolve(host, state)
        first, last = min(state.first, now), min(state.last, now)  # clamp clocks running ahead
        entry = row.hosts.get(host.lower())
        if entry is None:
            row.hosts[host.lower()] = HostEntry(tiers, state.count, state.hours, last)
        else:
            entry.count += state.count
            entry.hours += state.hours
            entry.last_seen = max(entry.last_seen, last)
            if tiers:
                entry.tiers = tuple(sorted(set(tiers)))
        row.first_seen = first if row.first_seen is None else min(row.first_seen, first)
        row.last_seen = last if row.last_seen is None else max(row.last_seen, last)
    ttl = host_ttl_days * DAY
    out = []
    for digest in sorted(existing):
        row = existing[digest]
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
        out.append(row.to_row())
    return out


def spike_score(count, expected, mad, hours):
    sigma = max(1.0, math.sqrt(max(expected, 0.0)), MAD_TO_SIGMA * mad * hours)
    return (count - expected) / sigma


def detect(pairs, baseline_rows, host_tiers=None, min_count=5, min_score=3.0,
           unknown_tier_anomaly=False, report=None, trusted_namespaces=()):
    """One result per (digest, host) pair of the window, sorted by (digest, host)."""
    baseline = parse_baseline(baseline_rows, report)
    resolver = TierResolver(host_tiers, pairs, baseline, trusted_namespaces)
    stats = {}
    results = []
    for digest, host in sorted(pairs):
        state = pairs[(digest, host)]
        count, hours = state.count, state.hours
        tiers, source = resolver.resolve(host, state)
        row = baseline.get(digest)
        expected = 0.0
        score = 0.0
        if row is None or not row.hosts:
            status, known_tiers = NEW_DIGEST, ()
            why = "no baseline for this digest (a rollout): never an anomaly on its own"
        else:
            if digest not in stats:
                known = row.tiers
                stats[digest] = row.rate_stats() + (known, frozenset(known))
            mid, mad, known_tiers, known_set = stats[digest]
            entry = row.hosts.get(host.lower())
            if entry is not None:
                status, expected = IN_TIER, entry.rate * hours
                why = "host ran this digest before (%.3g events/h)" % entry.rate
            elif not tiers:
                status = UNKNOWN_HOST_TIER
                why = "host tier unknown (no lookup row, no pod labels, no history)"
            elif not known_set.isdisjoint(tiers):
                status, expected = IN_TIER, mid * hours
                why = "host tier %s (%s) is a normal tier of this digest" % ("+".join(tiers), source)
            else:
                status = OUTSIDE_TIER
                why = "host tier %s (%s) is not a normal tier of this digest (%s)" % (
                    "+".join(tiers), source, "+".join(known_tiers) or "none")
            score = spike_score(count, expected, mad, hours)
        flagged = status == OUTSIDE_TIER or (unknown_tier_anomaly and status == UNKNOWN_HOST_TIER)
        anomaly = flagged and count >= min_count and score >= min_score
        if flagged and not anomaly:
            why += "; below threshold (count %d vs min_count %d, score %.2f vs min_score %.2f)" % (
                count, min_count, score, min_score)
        results.append({
            "image_digest": digest, "host": host,
            "namespace": sorted(state.namespaces) if state.namespaces else None,
            "tier": list(tiers) or None, "tier_source": source,
            "pod_tier": sorted(state.tiers) if state.tiers else None,
            "baseline_tiers": list(known_tiers) or None,
            "tier_status": status, "count": count, "hours": hours,
            "expected_count": round(expected, 2), "spike_score": round(score, 2),
            "is_anomaly": 1 if anomaly else 0,
            "first_time": state.first, "last_time": state.last, "reason": why,
        })
    return results
