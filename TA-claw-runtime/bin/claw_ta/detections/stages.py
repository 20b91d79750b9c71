"""The building blocks of a detection: each stage is one SPL fragment and its Python twin.

A detection (see ``definitions.py``) is a list of stages followed by the common
tail (environment, allowlist, severity, risk). ``spl(params)`` gives the SPL the
saved search runs; ``apply(rows, ctx)`` does the same on the replay's events or
rows (dicts whose values are strings, lists for multivalue fields, ``_time`` a
float; a missing field is a missing key, as a null field in Splunk).

The event-level stages (Search, Regex, Not, BelowParam, Where) and the shared
helpers are in ``filters.py``. Only stages listed in these two modules exist,
so what the replay interprets is exactly what the generator writes into
savedsearches.conf.
"""

from claw_ta.detections import imageref
from claw_ta.detections.filters import SENTINEL, mv, quote, values_of


class Aggregate(object):
    """``stats count min(_time) as firstTime max(_time) as lastTime values(..) by ..``.

    ``nullable`` by-fields are filled with a sentinel first and nulled after, so
    that events lacking them (host binaries: no namespace) are not dropped.
    """

    def __init__(self, by, nullable=(), values=()):
        self.by, self.nullable, self.values = tuple(by), tuple(nullable), tuple(values)

    def spl(self, params):
        out = []
        if self.nullable:
            out.append("| fillnull value=%s %s" % (quote(SENTINEL), " ".join(self.nullable)))
        stats = "| stats count min(_time) as firstTime max(_time) as lastTime"
        for field in self.values:
            stats += " values(%s) as %s" % (field, field)
        out.append(stats + " by " + " ".join(self.by))
        for field in self.nullable:
            out.append('| eval %s=nullif(%s, %s)' % (field, field, quote(SENTINEL)))
        return " ".join(out)

    def apply(self, rows, ctx):
        acc = self.accumulator()
        for row in rows:
            acc.add(row)
        return acc.rows()

    def accumulator(self):
        return _Accumulator(self)


class _Accumulator(object):
    """The running state of one Aggregate: events are added one at a time (streaming)."""

    def __init__(self, agg):
        self.agg = agg
        self.by = agg.by
        self.required = tuple(f for f in agg.by if f not in agg.nullable)
        self.values = agg.values
        self.groups = {}
        self.events = 0

    def add(self, row):
        get = row.get
        key = tuple(map(get, self.by))  # the replay's hot path: one C-level pass
        if None in key:
            for field in self.required:
                if get(field) is None:
                    return
        self.events += 1
        group = self.groups.get(key)
        time = get("_time")
        if group is None:
            group = self.groups[key] = [0, time, time, [set() for _ in self.values]]
        group[0] += 1
        if time is not None:
            if group[1] is None or time < group[1]:
                group[1] = time
            if group[2] is None or time > group[2]:
                group[2] = time
        if self.values:
            sets = group[3]
            for i, field in enumerate(self.values):
                value = get(field)
                if value is not None:
                    if type(value) is str:
                        sets[i].add(value)
                    else:
                        sets[i].update(values_of(value))

    def rows(self):
        agg = self.agg
        out = []
        for key, (count, first, last, sets) in self.groups.items():
            row = {f: v for f, v in zip(agg.by, key) if v is not None}
            row.update(count=count, firstTime=first, lastTime=last)
            for field, values in zip(agg.values, sets):
                value = mv(values)
                if value is not None:
                    row[field] = value
            out.append(row)
        out.sort(key=lambda r: (r["firstTime"] or 0, [str(r.get(f)) for f in agg.by]))
        return out


class NodePlatform(object):
    """``| lookup claw_node_platforms host OUTPUTNEW platform AS claw_node_platform`` (host lowercased).

    The node's platform (``linux/amd64``, from ``kubernetes.io/os`` and
    ``kubernetes.io/arch`` of its sensor's heartbeats: claw_ta.nodelabels),
    which ``clawsbomcheck`` uses to pick an image index's platform. The saved
    search "Claw - Node Platforms" writes the lookup (latest heartbeat per
    host); the replay takes the latest heartbeat of each host in the scenario
    (``ctx.node_platform``). A row that already has the field keeps it.
    """

    def spl(self, params):
        return ("| eval claw_node_host=lower(host) "
                "| lookup claw_node_platforms host AS claw_node_host OUTPUTNEW platform AS claw_node_platform "
                "| fields - claw_node_host")

    def apply(self, rows, ctx):
        out = []
        for row in rows:
            if row.get("claw_node_platform") in (None, ""):
                platform = ctx.node_platform(row.get("host"))
                if platform is not None:
                    row = dict(row)
                    row["claw_node_platform"] = platform
            out.append(row)
        return out


class SbomUnlisted(object):
    """``| clawsbomcheck | where sbom_status="unlisted"`` (claw_ta.sbom.matcher in the replay)."""

    def spl(self, params):
        return '| clawsbomcheck | where sbom_status="unlisted"'

    def apply(self, rows, ctx):
        out = []
        for row in rows:
            status = ctx.sbom_index.check(row)
            if status.get("sbom_status") == "unlisted":
                row = dict(row)
                row.update({k: v for k, v in status.items() if v not in (None, "")})
                out.append(row)
        return out


class LookupEquals(object):
    """``| lookup <name> key OUTPUT field AS as_field | where as_field="value"``.

    The site's rows (``<name>``) first, then the shipped ``<name>_default``
    rows with OUTPUTNEW, as the replay's ``layered_rows`` reads them.
    """

    def __init__(self, lookup, key, field, as_field, value):
        self.lookup, self.key, self.field, self.as_field, self.value = lookup, key, field, as_field, value

    def spl(self, params):
        return '| lookup %s %s OUTPUT %s AS %s | lookup %s_default %s OUTPUTNEW %s AS %s | where %s=%s' % (
            self.lookup, self.key, self.field, self.as_field, self.lookup, self.key, self.field,
            self.as_field, self.as_field, quote(self.value))

    def apply(self, rows, ctx):
        table = ctx.lookup(self.lookup)
        out = []
        for row in rows:
            found = table.get(row.get(self.key), self.field, table.default)
            if found == self.value:
                row = dict(row)
                row[self.as_field] = found
                out.append(row)
        return out


class TierAnomaly(object):
    """``| `claw_tier_baseline_detect` | where is_anomaly=1`` (claw_ta.tiers in the replay).

    The replay trains the baseline on the scenario's history (attestations
    before ``detect_from``) on top of claw_tier_baseline.csv, then detects
    over the window, as the nightly train search and this detection do.
    """

    def spl(self, params):
        return ('| `claw_tier_baseline_detect` | where is_anomaly=1'
                ' | rename first_time as firstTime, last_time as lastTime')

    def apply(self, rows, ctx):
        out = []
        for row in ctx.tier_rows(rows):
            if str(row.get("is_anomaly", "")).lower() not in ("1", "true"):
                continue
            clean = {}
            for key, value in row.items():
                if isinstance(value, (list, tuple)):
                    value = mv(str(v) for v in value)
                if value not in (None, ""):
                    clean[{"first_time": "firstTime", "last_time": "lastTime"}.get(key, key)] = value
            out.append(clean)
        return out


class NotSameAttestation(object):
    """Drop rows whose two digests are subjects of one trusted SBOM / attestation document.

    A multi-arch image is attested by its index digest, while nodes run a
    per-platform manifest; an in-toto statement (or SBOM) whose subjects are
    both proves they are one image. One document is one ``sbom_ref``, its
    content digest (two documents that share a name are two documents), and an
    ``untrusted`` document proves nothing. SPL: two lookups of the subjects
    table claw_sbom_subjects (one row per subject digest and document, so a
    digest has as many rows as documents, not as libraries: the default
    max_matches cannot push the shared document out), each document's
    ``sbom_trust`` paired with its ``sbom_ref`` (mvzip, every row has both),
    the untrusted ones dropped (mvmap), and a non-empty intersection of the
    rest. The replay reads the same table (``ctx.sbom_refs``).
    """

    def __init__(self, first, second):
        self.first, self.second = first, second

    def spl(self, params):
        a, b = self.first, self.second
        return ("| lookup claw_sbom_subjects subject_digest AS %s OUTPUT sbom_ref AS claw_refs_a, "
                "sbom_trust AS claw_trust_a"
                " | lookup claw_sbom_subjects subject_digest AS %s OUTPUT sbom_ref AS claw_refs_b, "
                "sbom_trust AS claw_trust_b"
                " | eval claw_refs_a=mvzip(claw_trust_a, claw_refs_a, \"|\"), claw_refs_b=mvzip(claw_trust_b, "
                "claw_refs_b, \"|\")"
                " | eval claw_refs_a=mvmap(claw_refs_a, if(like(claw_refs_a, \"untrusted|%%\"), null(), claw_refs_a)),"
                " claw_refs_b=mvmap(claw_refs_b, if(like(claw_refs_b, \"untrusted|%%\"), null(), claw_refs_b))"
                " | eval claw_shared_refs=mvcount(mvdedup(claw_refs_a)) + mvcount(mvdedup(claw_refs_b))"
                " - mvcount(mvdedup(mvappend(claw_refs_a, claw_refs_b)))"
                " | where isnull(claw_shared_refs) OR claw_shared_refs=0"
                " | fields - claw_refs_a claw_refs_b claw_trust_a claw_trust_b claw_shared_refs" % (a, b))

    def apply(self, rows, ctx):
        out = []
        for row in rows:
            refs_a = ctx.sbom_refs(row.get(self.first))
            refs_b = ctx.sbom_refs(row.get(self.second))
            if not (refs_a & refs_b):
                out.append(row)
        return out


class SilentSince(object):
    """Heartbeat rows whose lastTime is more than `param` minutes before the end of the window."""

    def __init__(self, param):
        self.param = param

    def spl(self, params):
        return ("| addinfo | eval silent_minutes=round((info_max_time - lastTime) / 60, 1)"
                " | where silent_minutes > `%s` | fields - info_*" % self.param)

    def apply(self, rows, ctx):
        limit = float(ctx.params[self.param])
        out = []
        for row in rows:
            silent = round((ctx.end - row["lastTime"]) / 60.0, 1)
            if silent > limit:
                row = dict(row)
                row["silent_minutes"] = silent
                out.append(row)
        return out


class DeniedThenAllowed(object):
    """Allowed events preceded, within `param` minutes, by a Denied event of another digest
    of the same repository in the same namespace (events sorted by time). Repositories
    are compared normalized (``imageref``: `claw_normalize_image_ref(1)` in SPL), so
    ``registry:443/shop/cart`` or ``NGINX`` do not evade a denial of ``registry/shop/cart``
    or ``docker.io/library/nginx``."""

    def __init__(self, param):
        self.param = param

    def spl(self, params):
        return ('| eval image_repo=`claw_normalize_image_ref(image_ref)`'
                ' | eval denied_digest=if(verdict="Denied", image_digest, null())'
                ' | fillnull value=%s namespace | sort 0 _time'
                ' | streamstats time_window=`%s`m values(denied_digest) as denied_digests by namespace image_repo'
                ' | eval namespace=nullif(namespace, %s)'
                ' | where verdict="Allowed" AND isnotnull(image_digest)'
                ' | eval denied_digest=mvmap(denied_digests, if(denied_digests!=image_digest, denied_digests, null()))'
                ' | where mvcount(denied_digest) > 0' % (quote(SENTINEL), self.param, quote(SENTINEL)))

    def apply(self, rows, ctx):
        window = float(ctx.params[self.param]) * 60
        recent = {}  # (namespace, repo) -> [(time, digest)] of Denied events
        out = []
        for row in rows:
            ref = row.get("image_ref")
            if ref is None:
                continue
            key = (row.get("namespace"), imageref.repository(ref))
            time = row["_time"]
            denied = [(t, d) for t, d in recent.get(key, ()) if time - t <= window]
            recent[key] = denied
            verdict = (row.get("verdict") or "").lower()
            if verdict == "denied":
                if row.get("image_digest"):
                    denied.append((time, row["image_digest"]))
            elif verdict == "allowed" and row.get("image_digest") and time >= ctx.detect_from:
                others = sorted(set(d for _, d in denied if d != row["image_digest"]))
                if others:
                    row = dict(row)
                    row["denied_digest"] = mv(others)
                    out.append(row)
        return out
