"""A synthetic fleet for the tier baseline benchmark, generated lazily.

``Fleet(digests, hosts, tiers)``: hosts split evenly into tiers; each digest
belongs to one tier (every tenth to two) and runs on 5-35 hosts of its
tier(s). ``events(n, days)`` yields n normalized attestation events spread
uniformly over the pairs and the days, one dict at a time (never a list).
``stats_rows(n)``: n rows as the ``claw_tier_aggregate`` stats emits them (one
per (digest, host) pair; build the fleet with ``Fleet.for_rows(n)``). Pods run
in the namespace ``ns-<tier>`` (:data:`NAMESPACES`, the trusted ones).
"""
import os
import random
import shutil

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP_BIN = os.path.join(REPO, "TA-claw-runtime", "bin")
START = 1794528000.0  # 2026-11-13 00:00 UTC
NAMESPACES = ",".join("ns-tier-%02d" % i for i in range(10))


class Fleet(object):
    def __init__(self, digests=5000, hosts=2000, tiers=10, seed=1):
        rng = random.Random(seed)
        self.tiers = ["tier-%02d" % i for i in range(tiers)]
        by_tier = {t: [] for t in self.tiers}
        for i in range(hosts):
            by_tier[self.tiers[i % tiers]].append("node-%04d.cluster.example" % i)
        self.pairs = []  # (digest, host, tier)
        self.digest_list = []
        for d in range(digests):
            digest = "sha256:%064x" % rng.getrandbits(256)
            self.digest_list.append(digest)
            homes = [rng.choice(self.tiers)]
            if d % 10 == 0:
                homes.append(rng.choice([t for t in self.tiers if t != homes[0]]))
            for tier in homes:
                for host in rng.sample(by_tier[tier], rng.randint(5, 35)):
                    self.pairs.append((digest, host, tier))

    @classmethod
    def for_rows(cls, rows, hosts=2000, tiers=10):
        """A fleet with at least ``rows`` (digest, host) pairs (about 22 hosts per digest)."""
        fleet = cls(max(1, rows // 20), hosts, tiers)
        while len(fleet.pairs) < rows:
            fleet = cls(len(fleet.digest_list) * rows // len(fleet.pairs) + 1, hosts, tiers)
        return fleet

    def stats_rows(self, n, days=7, seed=3):
        """The first ``n`` pairs as stats rows (count, first/last time, active hours, labels)."""
        rng = random.Random(seed)
        span = days * 86400.0
        for digest, host, tier in self.pairs[:n]:
            first = START + rng.random() * span / 2
            last = first + rng.random() * span / 2
            hours = max(1, min(int((last - first) // 3600) + 1, rng.randint(1, 60)))
            yield {"image_digest": digest, "host": host, "count": hours * rng.randint(1, 12),
                   "first_time": "%.3f" % first, "last_time": "%.3f" % last, "hours": hours,
                   "tier": tier, "namespace": "ns-" + tier}

    def events(self, n, days=7, seed=2):
        rng = random.Random(seed)
        pick, pairs, span = rng.randrange, self.pairs, days * 86400.0
        npairs, rand = len(pairs), rng.random
        types = ("binary_attestation", "binary_attestation", "binary_attestation", "image_attestation")
        for i in range(n):
            digest, host, tier = pairs[pick(npairs)]
            yield {"event_type": types[i & 3], "image_digest": digest, "dest": host, "host": host,
                   "tier": tier, "_time": START + rand() * span}


def app_copy(root):
    """A throwaway app layout (script copied, claw_ta/splunklib linked from the built app) with its own lookups/."""
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from sbom_app import built_bin
    built = built_bin()
    app = os.path.join(str(root), "TA-claw-runtime")
    os.makedirs(os.path.join(app, "bin"), exist_ok=True)
    os.makedirs(os.path.join(app, "lookups"), exist_ok=True)
    shutil.copy(os.path.join(built, "clawtierbaseline.py"), os.path.join(app, "bin"))
    for name in ("claw_ta", "sdk"):
        link = os.path.join(app, "bin", name)
        if not os.path.lexists(link):
            os.symlink(os.path.join(built, name), link)
    return app
