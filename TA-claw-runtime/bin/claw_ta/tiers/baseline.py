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
import re
from urllib.parse import quote, unquote

BASELINE_FIELDS = ("image_digest", "tiers", "host_count", "event_count", "rate_median",
                   "rate_mad", "first_seen", "last_seen", "updated", "hosts")
HOST_TIER_FIELDS = ("host", "tier")

# Lookup files hold one row per digest; a row this long is bad data, not a baseline.
_MAX_CELL = 4 * 1024 * 1024
csv.field_size_limit(2 ** 31 - 1)  # longer cells are skipped (counted), not a csv.Error


def _dec(text):
    return unquote(text) if "%" in text else text


_SAFE = re.compile(r"[-._~:@/+=A-Za-z0-9]*\Z")


def _enc(text):
    return text if _SAFE.match(text) else quote(text, safe="-._~:@/+=")


def fmt_number(value):
    """Compact text for a number: integers as such, others with 6 significant digits."""
    value = float(value)
    if value.is_integer() and -1e15 < value < 1e15:
        return "%d" % value
    return "%.6g" % value


class HostEntry(object):
    __slots__ = ("tiers", "count", "hours", "last_seen")

    def __init__(self, tiers, count, hours, last_seen):
        # a tuple is taken as given (sorted, distinct: what resolve() and the parser make)
        self.tiers = tiers if type(tiers) is tuple else tuple(sorted(set(tiers)))
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
    def from_row(cls, row, report=None, cache=None):
        """Parses one row (a dict of CSV text); raises ValueError on bad data.

        A bad host entry (wrong shape, a count, hours or time that is not a
        finite number in range, a repeated host) is skipped and counted as
        ``bad_baseline_host`` in ``report``; a row left without any good host
        entry raises. ``cache``: a dict shared between rows (host and tier texts).
        """
        digest = (row.get("image_digest") or "").strip()
        if not digest or len(digest) > 256:
            raise ValueError("no image_digest")
        hosts, bad = {}, 0
        cache = {} if cache is None else cache
        new = object.__new__
        for item in (row.get("hosts") or "").split(";"):
            if not item:
                continue
            # host|tiers|count|hours|last_seen (one entry per host of the digest: inlined)
            parts = item.split("|")
            if len(parts) != 5:
                bad += 1
                continue
            try:
                count, hours, last_seen = float(parts[2]), float(parts[3]), float(parts[4])
            except ValueError:
                bad += 1
                continue
            if not (0.0 <= count <= 1e15 and 0.0 <= hours <= 1e9 and 0.0 <= last_seen <= 4102444800.0):
                bad += 1  # nan, inf, negative, out of range
                continue
            host = cache.get(parts[0])
            tiers = cache.get(("t", parts[1]))
            if host is None or tiers is None:
                host, tiers = _host_and_tiers(parts[0], parts[1], cache)
            if not host or len(host) > 256 or host in hosts:
                bad += 1
                continue
            entry = hosts[host] = new(HostEntry)
            entry.tiers, entry.count, entry.hours, entry.last_seen = tiers, count, hours, last_seen
        if not hosts:
            raise ValueError("no valid host entry")
        if bad and report is not None:
            report["bad_baseline_host"] = report.get("bad_baseline_host", 0) + bad

        def num(name):
            text = (row.get(name) or "").strip()
            return _finite(text) if text else None
        return cls(digest, hosts, num("first_seen"), num("last_seen"), num("updated"))


def _finite(text, low=0.0, high=4102444800.0):
    """A number within [low, high] from CSV text; ValueError for nan, inf, junk or out of range."""
    value = float(text)
    if not low <= value <= high:  # also false for nan
        raise ValueError("out of range: %r" % text)
    return value


def _host_and_tiers(host_text, tiers_text, cache):
    """(lowercased host, sorted tiers tuple) of an entry's first two parts, shared through ``cache``."""
    host = cache.get(host_text)
    if host is None:
        host = cache[host_text] = _dec(host_text).strip().lower()
    tiers = cache.get(("t", tiers_text))
    if tiers is None:
        tiers = cache[("t", tiers_text)] = tuple(sorted({_dec(t) for t in tiers_text.split(",") if t}))
    return host, tiers


class BaselineTable(object):
    """The baseline rows by digest, each parsed only when asked for (memory: the rows' text).

    The lookup is an input like any other (a search wrote it, a person may
    have edited it): a second row for a digest is ``duplicate_baseline_row``
    (the first usable one is kept: ``outputlookup`` writes one row per digest,
    so a later one comes from an append or an edit); a row that does not
    parse is ``bad_baseline_row``, a bad host entry inside a good row
    ``bad_baseline_host`` (counted in ``report`` when the row is read).
    Nothing here raises on the file's content.
    """

    def __init__(self, rows, report=None):
        self.report = report if report is not None else {}
        self.rows = {}  # digest -> [row, ...] (later duplicates after the first)
        self._cache = {}
        for row in rows or ():
            digest = row.get("image_digest") if isinstance(row, dict) else None
            digest = digest.strip() if isinstance(digest, str) else ""
            if not digest:
                self._count("bad_baseline_row")
                continue
            found = self.rows.get(digest)
            if found is None:
                self.rows[digest] = [row]
            else:
                found.append(row)
                self._count("duplicate_baseline_row")

    def _count(self, name):
        self.report[name] = self.report.get(name, 0) + 1

    def __contains__(self, digest):
        return digest in self.rows

    def get(self, digest):
        """The parsed row of ``digest`` (DigestBaseline) or None."""
        for row in self.rows.get(digest, ()):
            try:
                return DigestBaseline.from_row(row, self.report, self._cache)
            except (TypeError, ValueError, AttributeError, OverflowError):
                self._count("bad_baseline_row")
        return None

    def host_tiers(self):
        """{host: {tier: digests}} over the hosts of every digest's first row (no numbers parsed)."""
        history = {}
        for rows in self.rows.values():
            hosts = rows[0].get("hosts")
            if not isinstance(hosts, str):
                continue
            for item in hosts.split(";"):
                parts = item.split("|")
                if len(parts) != 5:
                    continue
                host, tiers = _host_and_tiers(parts[0], parts[1], self._cache)
                if tiers:
                    counter = history.get(host)
                    if counter is None:
                        counter = history[host] = {}
                    for tier in tiers:
                        counter[tier] = counter.get(tier, 0) + 1
        return history


def median(sorted_values):
    n = len(sorted_values)
    mid = n // 2
    return float(sorted_values[mid]) if n % 2 else (sorted_values[mid - 1] + sorted_values[mid]) / 2.0


def parse_baseline(rows, report=None):
    """{digest: DigestBaseline} from rows; bad rows are skipped and counted (see BaselineTable)."""
    table = BaselineTable(rows, report)
    out = {}
    for digest in table.rows:
        parsed = table.get(digest)
        if parsed is not None:
            out[digest] = parsed
    return out


READ_FIELDS = ("image_digest", "first_seen", "last_seen", "updated", "hosts")  # what train/detect read


def read_baseline_csv(path, report=None, fields=None):
    """Baseline rows (dicts of text) from a CSV file; [] when the file does not exist.

    NUL bytes are dropped and a line the csv module cannot read is skipped
    (counted as ``bad_baseline_row``), so a damaged file never fails a run.
    ``fields``: keep only these columns (the command keeps :data:`READ_FIELDS`:
    the others are derived from ``hosts`` and only cost memory).
    """
    if not os.path.exists(path):
        return []
    rows = []
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(line.replace("\0", "") for line in handle)
        header = next(reader, None)
        keep = None if header is None or fields is None else [
            (i, name) for i, name in enumerate(header) if name in fields]
        while header is not None:
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error:
                if report is not None:
                    report["bad_baseline_row"] = report.get("bad_baseline_row", 0) + 1
                continue
            if any(len(v) > _MAX_CELL for v in values):
                if report is not None:
                    report["bad_baseline_row"] = report.get("bad_baseline_row", 0) + 1
                continue
            if keep is None:
                rows.append(dict(zip(header, values)))
            else:
                rows.append({name: values[i] for i, name in keep if i < len(values)})
    return rows


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
