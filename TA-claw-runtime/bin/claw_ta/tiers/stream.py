"""The record path of ``| clawtierbaseline``: splunkd's CSV in, CSV out, no per-record dicts.

splunklib turns every row of a chunk into an OrderedDict and writes every
output record field by field in Python; at a million aggregated rows that is
most of the command's time and memory. Here (the SBOM check's fast path in
``claw_ta.sbom.stream`` streams records through unchanged, which this command
does not: it reads rows into its aggregation and writes other rows, so it has
its own):

- :func:`ingest` reads a chunk body with ``csv.reader`` and feeds the rows of
  the ``claw_tier_aggregate`` stats straight into :meth:`Aggregator.add_stats`;
  any other row (raw events, a multivalue digest) goes through
  :meth:`Aggregator.add_record` as a dict, as before;
- :class:`CsvOut` writes rows (values in a fixed field order) as CSV in
  splunklib's dialect (``\\r\\n``), with a ``__mv_`` twin only for the fields
  that can be multivalue (splunkd reads a reply by column name: a reply
  without twins, captured from Splunk 8.2, is ``average\\n51.4\\n`` in
  https://github.com/NDietrich/Splunk-CustomSearchProtocol-v2/blob/master/example_messages/averageage%20(reporting).md),
  spilling to a
  temporary file past ``MEMORY_LIMIT`` bytes (8 MB): the dispatch folder, else the
  system's temporary folder (splunkd may hand over a dispatch folder that
  does not exist).
"""
import csv
import io
import itertools
import operator
import os
import re
import tempfile

from claw_ta.tiers.aggregate import NODE_ROW

csv.field_size_limit(2 ** 31 - 1)  # never fail on a long field (oversized ones are counted)

_MV = re.compile(r"\$((?:\$\$|[^$])*)\$")
_SCALARS = ("image_digest", "host", "count", "first_time", "last_time", "hours")  # stats outputs


def decode_mv(text):
    """The values of a ``__mv_`` cell (``$a$;$b$``)."""
    return [value.replace("$$", "$") for value in _MV.findall(text)]


def _value(row, plain, mv):
    """A field of a row as splunklib gives it: the decoded multivalue, else the plain text, else None."""
    if 0 <= mv < len(row) and row[mv]:
        return decode_mv(row[mv])
    if 0 <= plain < len(row):
        return row[plain]
    return None


def _reads_nul():
    try:
        return next(csv.reader(["a\0b"])) == ["a\0b"]
    except csv.Error:  # Python before 3.11: "line contains NUL"
        return False


_NUL_OK = _reads_nul()
_NUL_STAND_IN = "\ue000"  # a private-use character


def _reader(text):
    """csv.reader over a chunk body; a NUL in a field reads as itself on every Python."""
    if _NUL_OK or "\0" not in text:
        return csv.reader(io.StringIO(text, newline=""))
    rows = csv.reader(io.StringIO(text.replace("\0", _NUL_STAND_IN), newline=""))
    return ([cell.replace(_NUL_STAND_IN, "\0") for cell in row] for row in rows)


def ingest(text, aggregator):
    """Adds the rows of one chunk body (str) to ``aggregator``; returns how many were read."""
    reader = _reader(text)
    header = next(reader, None)
    if not header:
        return 0
    pos = {}
    for i, name in enumerate(header):
        pos.setdefault(name, i)
    names = [name for name in header if not name.startswith("__mv_")]
    columns = [(pos[name], pos.get("__mv_" + name, -1)) for name in names]
    width, rows = len(header), 0
    d, h, c, f, last, hrs = (pos.get(name, -1) for name in _SCALARS)
    fast = min(d, h, c, f, last, hrs) >= 0 and "event_type" not in pos and "parse_error" not in pos
    if fast:
        # a multivalue in one of these (stats never makes one) sends the row the slow way
        twins = [pos["__mv_" + name] for name in _SCALARS if "__mv_" + name in pos]
        some_twins = operator.itemgetter(*twins) if len(twins) > 1 else (lambda row: row[twins[0]]) if twins \
            else (lambda row: "")
        no_twins = ("",) * len(twins) if len(twins) > 1 else ""
        t, t_mv = pos.get(aggregator.tier_field, width), pos.get("__mv_" + aggregator.tier_field, width)
        n, n_mv = pos.get("namespace", width), pos.get("__mv_namespace", width)
        add_stats, count_bad = aggregator.add_stats, aggregator.count_malformed
        padding = ["", ""] if width in (t, t_mv, n, n_mv) else None
        for row in reader:
            rows += 1
            if len(row) != width or some_twins(row) != no_twins or row[d] == NODE_ROW:  # node rows: the dict way
                aggregator.add_record({name: _value(row, p, m) for name, (p, m) in zip(names, columns)})
                continue
            if padding:
                row.extend(padding)  # index `width` is an absent column: ""
            tier = decode_mv(row[t_mv]) if row[t_mv] else row[t]
            namespace = decode_mv(row[n_mv]) if row[n_mv] else row[n]
            try:
                add_stats(row[d].strip() or None, row[h].strip() or None, row[c], row[f], row[last], row[hrs],
                          tier or None, namespace or None)
            except (TypeError, ValueError, OverflowError):
                count_bad()
        return rows
    for row in reader:
        rows += 1
        aggregator.add_record({name: _value(row, p, m) for name, (p, m) in zip(names, columns)})
    return rows


def _spill_dir():
    """The dispatch folder (tempfile.tempdir, set by splunklib) if it exists, else the system's."""
    for folder in (tempfile.tempdir, os.environ.get("TMPDIR"), "/tmp", "/var/tmp", os.getcwd()):
        if folder and os.path.isdir(folder) and os.access(folder, os.W_OK):
            return folder
    return None


class CsvOut(object):
    """CSV rows in splunklib's dialect, kept in memory up to MEMORY_LIMIT bytes, then in a temporary file.

    ``multi``: the names of the fields whose values may be lists (multivalues);
    the other fields take a value or None.
    """

    MEMORY_LIMIT = 8 * 1024 * 1024

    def __init__(self, fields, multi=()):
        self.fields = list(fields)
        self.rows = 0
        self._multi = [i for i, name in enumerate(self.fields) if name in multi]
        self._file = tempfile.SpooledTemporaryFile(max_size=self.MEMORY_LIMIT, mode="w+b", dir=_spill_dir())
        self._text = io.StringIO()
        # "\r\n" as splunklib writes; also what makes Python 3.9's writer quote a
        # value holding a newline (it looks for the line terminator's characters)
        self._writer = csv.writer(self._text, lineterminator="\r\n")
        # a __mv_ twin only for the fields that can hold a multivalue: splunkd
        # reads replies by column name, a column without a twin is single-valued
        self._writer.writerow(self.fields + ["__mv_" + self.fields[i] for i in self._multi])
        self._blank = [None] * len(self._multi)  # the __mv_ cells of a row without multivalues
        self._lists = {}  # tuple of values -> (plain cell, __mv_ cell)

    def write(self, values):
        """One row: ``values`` in the order of ``fields`` (None is empty)."""
        values = list(values)
        twins = self._blank
        for k, i in enumerate(self._multi):
            value = values[i]
            if type(value) is list:
                if len(value) == 1:
                    values[i] = value[0]
                    continue
                plain, twin = self._list(value)
                values[i] = plain
                if twins is self._blank:
                    twins = list(twins)
                twins[k] = twin
        values.extend(twins)
        self._writer.writerow(values)
        self.rows += 1
        if self.rows & 4095 == 0:
            self._flush()

    def write_lines(self, lines):
        """Rows already encoded as CSV lines (``\\r\\n``-terminated, twins included: :func:`detect_lines`)."""
        self._flush()  # the header and any row written before
        chunk = list(itertools.islice(lines, 4096))
        while chunk:
            self._file.write("".join(chunk).encode("utf-8"))
            self.rows += len(chunk)
            chunk = list(itertools.islice(lines, 4096))

    def _list(self, value):
        key = tuple(value)
        found = self._lists.get(key)
        if found is None:
            found = ("\n".join(str(v) for v in value), ";".join("$" + str(v).replace("$", "$$") + "$" for v in value))
            if len(self._lists) < 10000:
                self._lists[key] = found
        return found

    def _flush(self):
        text = self._text.getvalue()
        if text:
            self._file.write(text.encode("utf-8"))
            self._text.seek(0)
            self._text.truncate()

    def body(self):
        """(length in bytes, binary file positioned at the start): the whole output; call once."""
        self._flush()
        length = self._file.tell()
        self._file.seek(0)
        return length, self._file


# A cell csv.writer writes unchanged (QUOTE_MINIMAL, "\r\n" lines): no delimiter,
# quote, line break or NUL, no space at either end. Anything else is encoded by
# csv.writer itself (csv_cell), so the two paths cannot disagree.
_PLAIN = re.compile(r'[^\s,"\x00](?:[^,"\r\n\x00]*[^\s,"\x00])?\Z')


def csv_cell(text, _buffer=io.StringIO()):
    """``text`` as csv.writer writes it in a row of :class:`CsvOut` (quoted when it must be)."""
    if _PLAIN.match(text) or not text:
        return text
    _buffer.seek(0)
    _buffer.truncate()
    csv.writer(_buffer, lineterminator="\r\n").writerow((text, ""))
    return _buffer.getvalue()[:-3]  # the cell, without ",\r\n" (the empty second cell)


class _Memo(dict):
    """key -> ``function(key)`` for keys that repeat (texts, label sets); at most ``limit`` kept."""

    def __init__(self, function, limit):
        dict.__init__(self)
        self.function, self.limit = function, limit

    def __missing__(self, key):
        value = self.function(key)
        if len(self) < self.limit:
            self[key] = value
        return value


def _label_cells(labels):
    """(plain cell, ``__mv_`` cell) of a label collection, as CsvOut.write writes a sorted list."""
    if not labels:
        return "", ""
    values = sorted(labels)
    if len(values) == 1:
        return csv_cell(str(values[0])), ""
    return (csv_cell("\n".join(str(v) for v in values)),
            csv_cell(";".join("$" + str(v).replace("$", "$$") + "$" for v in values)))


def detect_lines(rows):
    """CSV lines of ``claw_ta.tiers.model.iter_detect_labels`` rows, byte for byte what
    ``CsvOut(DETECT_FIELDS, MULTIVALUE_FIELDS).write`` writes for the same rows of ``iter_detect``.

    The texts that repeat (digests, hosts, label sets, reasons) are encoded
    once; the numbers are ``str()``-ed as csv.writer does.
    """
    cells, labels, plain = _Memo(csv_cell, 200000), _Memo(_label_cells, 100000), _PLAIN.match
    line = ",".join(["%s"] * 20) + "\r\n"
    for (digest, host, namespaces, tiers, source, pod_tiers, known, status, count, hours, expected, score,
         anomaly, first, last, why) in rows:
        ns, ns_mv = labels[namespaces]
        tier, tier_mv = labels[tiers]
        pod, pod_mv = labels[pod_tiers]
        base, base_mv = labels[known]
        yield line % (cells[digest], cells[host], ns, tier, cells[source], pod, base, status, count, hours,
                      expected, score, anomaly, "" if first is None else first, "" if last is None else last,
                      why if plain(why) else cells[why], ns_mv, tier_mv, pod_mv, base_mv)
