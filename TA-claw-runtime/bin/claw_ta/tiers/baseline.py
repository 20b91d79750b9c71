"""The baseline lookup (claw_tier_baseline.csv) and the host tier lookup (claw_host_tiers.csv).

One baseline row per image digest. Columns (all text, as the CSV holds them):

- ``image_digest``
- ``tiers``: the digest's normal tiers, ``;``-separated (``makemv delim=";" tiers``)
- ``host_count``, ``event_count``: retained hosts, decayed event count
- ``rate_median``, ``rate_mad``: median and median absolute deviation, across
  the retained hosts, of each host's rate (events per active hour)
- ``first_seen``, ``last_seen``: epoch seconds
- ``updated``: epoch seconds of the training run that wrote the row
- ``hosts``: ``;``-separated ``host|tier1,tier2|count|hours|last_seen`` entries
  (host and tiers percent-encoded; count and hours are decayed)

Hosts are matched case-insensitively (hostnames are), and stored lowercased.
"""
import csv
import io
import os
from urllib.parse import quote, unquote

BASELINE_FIELDS = ("image_digest", "tiers", "host_count", "event_count", "rate_median",
                   "rate_mad", "first_seen", "last_seen", "updated", "hosts")
HOST_TIER_FIELDS = ("host", "tier")

# Lookup files hold one row per digest; a row this long is bad data, not a baseline.
_MAX_CELL = 4 * 1024 * 1024
csv.field_size_limit(max(csv.field_size_limit(), _MAX_CELL))


def _dec(text):
    return unquote(text) if "%" in text else text


def _enc(text):
    return quote(text, safe="-._~:@/+=")


def fmt_number(value):
    """Compact text for a number: integers as such, others with 6 significant digits."""
    value = float(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return "%.6g" % value


class HostEntry(object):
    __slots__ = ("tiers", "count", "hours", "last_seen")

    def __init__(self, tiers, count, hours, last_seen):
        self.tiers = tuple(sorted(set(tiers)))
        self.count = float(count)
        self.hours = float(hours)
        self.last_seen = float(last_seen)

    @property
    def rate(self):
        return self.count / self.hours if self.hours > 0 else 0.0


class DigestBaseline(object):
    """A parsed baseline row."""

    def __init__(self, digest, hosts=None, first_seen=None, last_seen=None, updated=None):
        self.digest = digest
        self.hosts = hosts if hosts is not None else {}  # lowercased host -> HostEntry
        self.first_seen = first_seen
        self.last_seen = last_seen
        self.updated = updated

    @property
    def tiers(self):
        found = set()
        for entry in self.hosts.values():
            found.update(entry.tiers)
        return tuple(sorted(found))

    def rate_stats(self):
        """(median, MAD) of the per-host rates; (0, 0) without hosts."""
        rates = sorted(entry.rate for entry in self.hosts.values() if entry.hours > 0)
        if not rates:
            return 0.0, 0.0
        mid = median(rates)
        return mid, median(sorted(abs(r - mid) for r in rates))

    def to_row(self):
        mid, mad = self.rate_stats()
        entries = []
        for host in sorted(self.hosts):
            e = self.hosts[host]
            entries.append("|".join((_enc(host), ",".join(_enc(t) for t in e.tiers),
                                     fmt_number(round(e.count, 3)), fmt_number(round(e.hours, 3)),
                                     fmt_number(int(e.last_seen)))))
        return {
            "image_digest": self.digest,
            "tiers": ";".join(_enc(t) for t in self.tiers),
            "host_count": str(len(self.hosts)),
            "event_count": fmt_number(round(sum(e.count for e in self.hosts.values()), 3)),
            "rate_median": fmt_number(mid),
            "rate_mad": fmt_number(mad),
            "first_seen": fmt_number(int(self.first_seen)) if self.first_seen is not None else "",
            "last_seen": fmt_number(int(self.last_seen)) if self.last_seen is not None else "",
            "updated": fmt_number(int(self.updated)) if self.updated is not None else "",
            "hosts": ";".join(entries),
        }

    @classmethod
    def from_row(cls, row):
        """Parses one row (a dict of CSV text); raises ValueError on bad data."""
        digest = (row.get("image_digest") or "").strip()
        if not digest:
            raise ValueError("no image_digest")
        hosts = {}
        for item in (row.get("hosts") or "").split(";"):
            if not item:
                continue
            parts = item.split("|")
            if len(parts) != 5:
                raise ValueError("bad host entry %r" % item[:80])
            host = _dec(parts[0]).lower()
            tiers = [_dec(t) for t in parts[1].split(",") if t]
            hosts[host] = HostEntry(tiers, float(parts[2]), float(parts[3]), float(parts[4]))

        def num(name):
            text = (row.get(name) or "").strip()
            return float(text) if text else None
        return cls(digest, hosts, num("first_seen"), num("last_seen"), num("updated"))


def median(sorted_values):
    n = len(sorted_values)
    mid = n // 2
    return float(sorted_values[mid]) if n % 2 else (sorted_values[mid - 1] + sorted_values[mid]) / 2.0


def parse_baseline(rows, report=None):
    """{digest: DigestBaseline} from rows; bad rows are skipped and counted in report."""
    out = {}
    for row in rows or ():
        try:
            parsed = DigestBaseline.from_row(row)
        except (TypeError, ValueError, AttributeError):
            if report is not None:
                report["bad_baseline_row"] = report.get("bad_baseline_row", 0) + 1
            continue
        out[parsed.digest] = parsed
    return out


def read_baseline_csv(path):
    """Baseline rows (dicts of text) from a CSV file; [] when the file does not exist."""
    if not os.path.exists(path):
        return []
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        return [dict(row) for row in csv.DictReader(handle)]


def baseline_csv_text(rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=BASELINE_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def write_baseline_csv(path, rows):
    """Writes rows as claw_tier_baseline.csv (what ``outputlookup`` writes in Splunk)."""
    tmp = path + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        handle.write(baseline_csv_text(rows))
    os.replace(tmp, path)


def normalize_host_tiers(host_tiers):
    """{lowercased host: set of tiers} from a dict (host -> tier or tiers), rows, or None."""
    out = {}
    if not host_tiers:
        return out
    items = host_tiers.items() if isinstance(host_tiers, dict) else \
        ((row.get("host"), row.get("tier")) for row in host_tiers)
    for host, tiers in items:
        if not host or not str(host).strip():
            continue
        if isinstance(tiers, str) or tiers is None:
            tiers = [tiers]
        clean = {str(t).strip() for t in tiers if t is not None and str(t).strip()}
        if clean:
            out.setdefault(str(host).strip().lower(), set()).update(clean)
    return out


def load_host_tiers(csv_path, report=None):
    """{lowercased host: set of tiers} from claw_host_tiers.csv (``host,tier``); {} if absent.

    A host may appear on several rows (several tiers). Rows without a host or a
    tier are skipped (counted in report as ``bad_host_tier_row``).
    """
    if not os.path.exists(csv_path):
        return {}
    rows = []
    with open(csv_path, newline="", encoding="utf-8", errors="replace") as handle:
        for row in csv.DictReader(handle):
            if not (row.get("host") or "").strip() or not (row.get("tier") or "").strip():
                if report is not None:
                    report["bad_host_tier_row"] = report.get("bad_host_tier_row", 0) + 1
                continue
            rows.append(row)
    return normalize_host_tiers(rows)
